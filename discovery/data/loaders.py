"""Turn a dataset name or a path into a file, and a file into a typed table.

:func:`resolve` is what every ``--data`` option goes through: a registered
name (case-insensitive, aliases included) gives the fetched, verified file
and its :class:`~discovery.data.registry.DatasetInfo` (so callers learn the
default SMILES and target columns); an existing path gives ``(path, None)``.

:func:`load` reads a CSV/TSV (optionally ``.gz``) into a DataFrame with the
SMILES column as ``str`` and the target columns as ``float64`` (blank cells
-> NaN). pandas is imported only when :func:`load` runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from ..errors import DatasetNotFoundError, InputError
from .fetcher import fetch_file
from .registry import REGISTRY, DatasetInfo

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: Cell texts read as a missing target value (compared case-insensitively, stripped).
MISSING_TOKENS = frozenset({"", "na", "nan", "n/a", "null", "none"})


def _looks_like_path(text: str) -> bool:
    return "/" in text or os.sep in text or (os.altsep is not None and os.altsep in text) or bool(Path(text).suffix)


def resolve(name_or_path: str | os.PathLike) -> tuple[Path, DatasetInfo | None]:
    """Find the file behind a dataset name or a path.

    Parameters
    ----------
    name_or_path : str or os.PathLike
        A registered dataset name or alias (any case, e.g. ``"ESOL"``,
        ``"delaney"``), or the path of an existing file or folder. A string
        that looks like a path (has a separator or a suffix) and exists is
        taken as a path first; a bare word is looked up in the registry first.

    Returns
    -------
    path : Path
        The verified local copy of the dataset's main table, or the given path.
    info : DatasetInfo or None
        The registry record, or ``None`` for a plain path.

    Raises
    ------
    DatasetNotFoundError
        Neither a registered name nor an existing path; the message names the
        closest registered datasets and the path that does not exist.
    DataIntegrityError, DataUnavailableError
        From :func:`~discovery.data.fetcher.fetch_file`.
    """
    if isinstance(name_or_path, os.PathLike):
        text = os.fspath(name_or_path)
        as_path = True
    else:
        text = str(name_or_path)
        as_path = _looks_like_path(text)
    path = Path(text).expanduser()
    if as_path and path.exists():
        return path, None
    if not isinstance(name_or_path, os.PathLike) and text in REGISTRY:
        info = REGISTRY.get(text)
        return fetch_file(info.file()), info
    if path.exists():
        return path, None
    close = REGISTRY.suggest(text)
    hint = (f"did you mean {', '.join(close)}? " if close else "") + (
        "`discovery data list` shows the registered datasets; for a file, give its full path"
    )
    raise DatasetNotFoundError(
        f"'{text}' is not a registered dataset, and no file exists at {path.resolve()}",
        hint=hint,
    )


def _separator(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    return "\t" if (".tsv" in suffixes or ".tab" in suffixes) else ","


def _to_float(df: "pd.DataFrame", column: str, path: Path) -> "pd.Series":
    import numpy as np
    import pandas as pd

    text = df[column].astype(str).str.strip()
    missing = text.str.lower().isin(MISSING_TOKENS)
    values = pd.to_numeric(text.where(~missing, None), errors="coerce").astype("float64")
    bad = np.flatnonzero((values.isna() & ~missing).to_numpy())
    if bad.size:
        first = int(bad[0])
        more = f" ({bad.size - 1} more such cells in this column)" if bad.size > 1 else ""
        raise InputError(
            f"target value is not a number{more}",
            file=str(path),
            row=first + 2,
            column=column,
            value=df[column].iloc[first],
            hint="targets must be numbers; leave a cell blank (or NA) for a missing value",
        )
    return values


def load(
    name_or_path: str | os.PathLike,
    *,
    file: str | None = None,
    smiles_column: str | None = None,
    target_columns: Sequence[str] | None = None,
) -> "pd.DataFrame":
    """Read a registered dataset (or a CSV/TSV file) into a typed DataFrame.

    Parameters
    ----------
    name_or_path : str or os.PathLike
        Dataset name/alias or file path (see :func:`resolve`). ``.gz`` files
        are decompressed; ``.tsv``/``.tab`` are tab-separated, others comma.
    file : str, optional
        For a dataset with several files: which one (relpath or file name).
    smiles_column : str, optional
        Column read as SMILES text; default the dataset's ``smiles_column``.
    target_columns : sequence of str, optional
        Columns converted to float; default the dataset's ``target_columns``.

    Returns
    -------
    pandas.DataFrame, shape (n_rows, n_columns)
        Every column of the file in file order. The SMILES column and any
        other untyped column hold ``str`` (cells kept verbatim, blanks as
        ``""``); target columns are ``float64`` with NaN for blank/NA cells.
        ``df.attrs`` holds ``path``, ``dataset`` (name or None),
        ``smiles_column`` and ``target_columns``.

    Raises
    ------
    InputError
        A requested column is absent, or a target cell is not a number
        (names file, row, column and value).
    DatasetNotFoundError
        See :func:`resolve`.
    """
    import pandas as pd

    path, info = resolve(name_or_path)
    if info is not None and file is not None:
        path = fetch_file(info.file(file))
        is_table = info.file(file).relpath == info.table
    else:
        is_table = info is not None
    if smiles_column is None and is_table:
        smiles_column = info.smiles_column  # type: ignore[union-attr]
    if target_columns is None:
        target_columns = info.target_columns if (is_table and info is not None) else ()
    if path.is_dir():
        raise InputError("expected a table file, got a folder", file=str(path),
                         hint="give the CSV/TSV file inside it")
    try:
        df = pd.read_csv(path, sep=_separator(path), dtype=str, keep_default_na=False,
                         na_filter=False, compression="infer")
    except (pd.errors.ParserError, UnicodeDecodeError, EOFError, OSError) as err:
        raise InputError(f"cannot be read as a {'TSV' if _separator(path) == chr(9) else 'CSV'} table: {err}",
                         file=str(path), hint="check the file format and compression") from err
    wanted = ([smiles_column] if smiles_column else []) + list(target_columns)
    for col in wanted:
        if col not in df.columns:
            raise InputError(
                "column not found", file=str(path), column=col,
                hint="columns are: " + ", ".join(map(str, df.columns)),
            )
    for col in target_columns:
        df[col] = _to_float(df, col, path)
    df.attrs.update(
        path=str(path),
        dataset=None if info is None else info.name,
        smiles_column=smiles_column,
        target_columns=list(target_columns),
    )
    return df
