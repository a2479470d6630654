"""Read and validate molecule files into a :class:`MoleculeTable`.

Formats (each may be gzip-compressed, ``.gz``):

=================  ==========================================================
suffix             layout
=================  ==========================================================
``.csv``           comma-separated, header row required
``.tsv``           tab-separated, header row required
``.smi``, ``.txt`` whitespace-separated ``SMILES [name...]``; an optional header
                   (first token ``smiles``/``SMILES``/..., or a first line whose
                   first token does not parse while the next one does); the last
                   column takes the rest of the line; lines starting with ``#``
                   are comments
``.sdf``, ``.sd``  MDL SD file; molecules come from the mol blocks (sanitized,
                   explicit H removed, as ``Chem.SDMolSupplier`` does), SD
                   properties become columns; ``smiles`` is RDKit's canonical
                   SMILES
=================  ==========================================================

Row numbers (``MoleculeTable.rows``, ``invalid.row`` and every error message)
are 1-based file line numbers with the header as line 1, so the first data row
is row 2 (SD files: the 1-based record index). Blank lines are not records:
they are skipped but still counted. (A quoted CSV field spanning several lines
shifts later numbers; such files are rare for molecule tables.)

Invalid records never become empty graphs. With ``on_error="report"`` (the
default) they are skipped and listed in ``MoleculeTable.invalid`` with RDKit's
own message as the reason (captured from RDKit's error log); with
``on_error="raise"`` the first one raises :class:`~discovery.errors.InputError`.
Problems with the file as a whole (missing file, no rows, missing column,
non-numeric target value, every row invalid) always raise ``InputError``.
"""

from __future__ import annotations

import difflib
import gzip
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd
from rdkit import Chem, rdBase

from discovery.errors import AllRowsInvalidError, InputError

__all__ = [
    "MoleculeTable",
    "read_molecules",
    "iter_molecules",
    "detect_smiles_column",
    "parse_smiles",
    "SMILES_COLUMN_NAMES",
]

#: Column names recognised as the SMILES column (compared case-insensitively, in this order).
SMILES_COLUMN_NAMES: tuple[str, ...] = (
    "smiles",
    "canonical_smiles",
    "isomeric_smiles",
    "smiles_string",
    "smi",
    "mol",
    "molecule",
    "drug",
    "compound_smiles",
    "structure",
)
#: Target cell values read as missing (NaN), compared case-insensitively after stripping.
MISSING_VALUES = frozenset({"", "na", "n/a", "nan", "null", "none"})

_SDF_SMILES_COL = "smiles"
_TS_RE = re.compile(r"^\[\d\d:\d\d:\d\d\]\s?")
_MAX_REASONS_IN_ERROR = 5


# ---------------------------------------------------------------------------- table
@dataclass
class MoleculeTable:
    """Valid molecules of a file with their targets, row numbers and rejects.

    Attributes
    ----------
    smiles : list of str
        ``[n]`` SMILES as given in the file (stripped); the standardized
        canonical SMILES if ``standardize=True``; RDKit's canonical SMILES for SD files.
    mols : list of rdkit.Chem.Mol
        ``[n]`` parsed (and sanitized, unless ``sanitize=False``) molecules.
    targets : np.ndarray or None
        ``[n, n_targets]`` float64, NaN where the cell was blank; None without target columns.
    target_cols : list of str
        Names of the target columns, in column order of ``targets``.
    rows : np.ndarray
        ``[n]`` int64 1-based file row numbers (header = row 1) of the valid records.
    invalid : pandas.DataFrame
        Rejected records, columns ``row`` (int), ``smiles`` (str), ``reason`` (str).
    source : str
        The file read.
    smiles_col : str
        The column the SMILES came from (``"smiles"`` for SD files: generated).
    extra : pandas.DataFrame or None
        ``[n, k]`` the other columns (ids, names; as strings), aligned with ``smiles``.
    """

    smiles: list[str]
    mols: list[Chem.Mol]
    targets: np.ndarray | None
    target_cols: list[str]
    rows: np.ndarray
    invalid: pd.DataFrame
    source: str
    smiles_col: str
    extra: pd.DataFrame | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.smiles)

    def __repr__(self) -> str:
        return (
            f"MoleculeTable(source={self.source!r}, n={len(self)}, invalid={len(self.invalid)}, "
            f"smiles_col={self.smiles_col!r}, target_cols={self.target_cols!r})"
        )

    @property
    def n_invalid(self) -> int:
        return int(len(self.invalid))

    def to_frame(self) -> pd.DataFrame:
        """Valid records as a DataFrame: ``row``, the SMILES column, extra columns, target columns."""
        data: dict[str, Any] = {"row": self.rows.astype(np.int64)}
        data[self.smiles_col or "smiles"] = list(self.smiles)
        if self.extra is not None:
            for c in self.extra.columns:
                if c not in data:
                    data[c] = self.extra[c].to_numpy()
        if self.targets is not None:
            for j, c in enumerate(self.target_cols):
                data[c] = self.targets[:, j]
        return pd.DataFrame(data)

    def write_invalid(self, path: str | os.PathLike) -> None:
        """Write the rejected records (``row,smiles,reason``) as CSV, atomically.

        The file is written even when nothing was rejected (header only), so a
        workflow can always depend on it.
        """
        from discovery.fsutil import atomic_path

        with atomic_path(path) as tmp:
            self.invalid.loc[:, ["row", "smiles", "reason"]].to_csv(tmp, index=False)

    def subset(self, indices: Sequence[int] | np.ndarray) -> "MoleculeTable":
        """A table with the valid records ``indices`` (same ``invalid`` report)."""
        idx = np.asarray(indices, dtype=np.int64)
        return MoleculeTable(
            smiles=[self.smiles[i] for i in idx],
            mols=[self.mols[i] for i in idx],
            targets=None if self.targets is None else self.targets[idx],
            target_cols=list(self.target_cols),
            rows=self.rows[idx],
            invalid=self.invalid,
            source=self.source,
            smiles_col=self.smiles_col,
            extra=None if self.extra is None else self.extra.iloc[idx].reset_index(drop=True),
            meta=dict(self.meta),
        )

    @staticmethod
    def concat(tables: Sequence["MoleculeTable"]) -> "MoleculeTable":
        """Concatenate chunk tables of one file (as yielded by :func:`iter_molecules`)."""
        tables = list(tables)
        if not tables:
            raise ValueError("concat needs at least one table")
        t0 = tables[0]
        targets = None
        if t0.targets is not None:
            targets = np.concatenate([t.targets for t in tables], 0)
        extra = None
        if t0.extra is not None:
            extra = pd.concat([t.extra for t in tables], ignore_index=True)
        return MoleculeTable(
            smiles=[s for t in tables for s in t.smiles],
            mols=[m for t in tables for m in t.mols],
            targets=targets,
            target_cols=list(t0.target_cols),
            rows=np.concatenate([t.rows for t in tables]).astype(np.int64),
            invalid=pd.concat([t.invalid for t in tables], ignore_index=True)
            if any(len(t.invalid) for t in tables)
            else _empty_invalid(),
            source=t0.source,
            smiles_col=t0.smiles_col,
            extra=extra,
            meta=dict(t0.meta),
        )


def _empty_invalid() -> pd.DataFrame:
    return pd.DataFrame({"row": pd.Series([], dtype=np.int64), "smiles": pd.Series([], dtype=object),
                         "reason": pd.Series([], dtype=object)})


# ---------------------------------------------------------------------------- SMILES
def _clean_log(messages: str) -> str:
    """RDKit log text -> one line: timestamps, input echoes and caret lines removed."""
    out: list[str] = []
    skip_next = False
    for ln in messages.splitlines():
        ln = _TS_RE.sub("", ln).strip()
        if ln.startswith("ERROR: "):
            ln = ln[len("ERROR: "):]
        if skip_next:  # the echo of the input after "check for mistakes around position N:"
            skip_next = False
            continue
        if not ln or set(ln) <= {"~", "^", " "} or ln in out:
            continue
        out.append(ln)
        skip_next = "check for mistakes around position" in ln
    return " | ".join(out)


def parse_smiles(smiles: str, sanitize: bool = True) -> tuple[Chem.Mol | None, str | None]:
    """Parse one SMILES; return ``(mol, None)`` or ``(None, reason)`` with RDKit's own message.

    Parameters
    ----------
    smiles : str
        The SMILES (surrounding whitespace is stripped).
    sanitize : bool, default True
        Run RDKit sanitization (valence, aromaticity, ...).

    Returns
    -------
    tuple
        ``(mol, None)`` on success; ``(None, reason)`` otherwise. A blank
        string gives ``"empty SMILES"``; a molecule with no atoms ``"no atoms"``.
    """
    s = smiles.strip() if isinstance(smiles, str) else ""
    if not s:
        return None, "empty SMILES"
    with rdBase.BlockLogs():
        mol = Chem.MolFromSmiles(s, sanitize=sanitize)
        if mol is None:
            return None, _failure_reason(s, sanitize)
    if mol.GetNumAtoms() == 0:
        return None, "no atoms"
    return mol, None


def _failure_reason(s: str, sanitize: bool) -> str:
    """Re-parse a failing SMILES to collect RDKit's message (call inside BlockLogs)."""
    capture = getattr(rdBase, "CaptureErrorLog", None)
    if capture is not None:
        with capture() as cap:
            Chem.MolFromSmiles(s, sanitize=sanitize)
        text = _clean_log(cap.messages)
        if text:
            return text
    # older RDKit: sanitization errors come back as exceptions
    raw = Chem.MolFromSmiles(s, sanitize=False)
    if raw is None:
        return "SMILES Parse Error (RDKit could not parse it)"
    try:
        Chem.SanitizeMol(raw)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return "RDKit could not parse it"


# ---------------------------------------------------------------------------- formats
def _format_of(path: Path) -> tuple[str, bool]:
    name = path.name.lower()
    gz = name.endswith(".gz")
    if gz:
        name = name[:-3]
    for suffix, fmt in ((".csv", "csv"), (".tsv", "tsv"), (".tab", "tsv"), (".smi", "smi"), (".smiles", "smi"),
                        (".txt", "smi"), (".sdf", "sdf"), (".sd", "sdf"), (".mol", "sdf")):
        if name.endswith(suffix):
            return fmt, gz
    raise InputError(
        "unknown file type",
        file=str(path),
        hint="use .csv, .tsv, .smi/.txt or .sdf (optionally .gz)",
    )


def _open_text(path: Path, gz: bool):
    if gz:
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return open(path, "r", encoding="utf-8-sig", newline="")


def _check_file(path: Path) -> None:
    if not path.exists():
        raise InputError("file not found", file=str(path), hint="check the path")
    if path.is_dir():
        raise InputError("is a folder, not a file", file=str(path))
    if path.stat().st_size == 0:
        raise InputError("file is empty", file=str(path))


def _iter_delimited(path: Path, sep: str, gz: bool, chunksize: int | None) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
    """Chunks of a CSV/TSV as string frames plus their 1-based line numbers."""
    try:
        reader = pd.read_csv(
            path,
            sep=sep,
            dtype=str,
            na_filter=False,
            keep_default_na=False,
            skip_blank_lines=False,
            compression="gzip" if gz else None,
            encoding="utf-8-sig",
            chunksize=chunksize or None,
            iterator=bool(chunksize),
        )
    except pd.errors.EmptyDataError:
        raise InputError("file is empty (no header row)", file=str(path)) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason})", file=str(path)) from None
    except (pd.errors.ParserError, OSError, EOFError) as exc:
        raise InputError(f"cannot be read as {'TSV' if sep == chr(9) else 'CSV'}: {exc}", file=str(path)) from None
    chunks = reader if chunksize else [reader]
    line = 2
    try:
        for df in chunks:
            df.columns = [str(c).strip() for c in df.columns]
            rows = np.arange(line, line + len(df), dtype=np.int64)
            line += len(df)
            yield df.reset_index(drop=True), rows
    except pd.errors.ParserError as exc:
        raise InputError(f"malformed {'TSV' if sep == chr(9) else 'CSV'}: {exc}", file=str(path)) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason})", file=str(path)) from None


def _looks_like_smiles(token: str) -> bool:
    with rdBase.BlockLogs():
        return Chem.MolFromSmiles(token, sanitize=False) is not None


def _iter_smi(path: Path, gz: bool, chunksize: int | None) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
    """Chunks of a whitespace-separated SMILES file."""
    with _open_text(path, gz) as fh:
        try:
            lines = ((i, ln.rstrip("\r\n")) for i, ln in enumerate(fh, start=1))
            first: list[tuple[int, str]] = []
            for i, ln in lines:  # find the first two content lines (header detection)
                if ln.strip() and not ln.lstrip().startswith("#"):
                    first.append((i, ln))
                    if len(first) == 2:
                        break
            if not first:
                raise InputError("file has no SMILES lines", file=str(path))
            tok0 = first[0][1].split()
            has_header = tok0[0].lower() in SMILES_COLUMN_NAMES or (
                not _looks_like_smiles(tok0[0]) and len(first) > 1 and _looks_like_smiles(first[1][1].split()[0])
            )
            if has_header:
                columns = [t.strip() for t in tok0]
                pending = first[1:]
            else:
                columns = ["smiles", "name"]
                pending = first
            ncol = len(columns)

            def records() -> Iterator[tuple[int, list[str]]]:
                for i, ln in pending:
                    yield i, ln
                yield from lines

            buf_rows: list[int] = []
            buf_vals: list[list[str]] = []
            for i, ln in records():
                if not ln.strip() or ln.lstrip().startswith("#"):
                    continue
                parts = ln.strip().split(None, ncol - 1)
                parts += [""] * (ncol - len(parts))
                buf_rows.append(i)
                buf_vals.append(parts)
                if chunksize and len(buf_rows) >= chunksize:
                    yield pd.DataFrame(buf_vals, columns=columns, dtype=str), np.asarray(buf_rows, dtype=np.int64)
                    buf_rows, buf_vals = [], []
            if buf_rows or not chunksize:
                yield pd.DataFrame(buf_vals, columns=columns, dtype=str), np.asarray(buf_rows, dtype=np.int64)
        except UnicodeDecodeError as exc:
            raise InputError(f"not UTF-8 text ({exc.reason})", file=str(path)) from None
        except (OSError, EOFError) as exc:
            raise InputError(f"cannot be read: {exc}", file=str(path)) from None


def _iter_sdf(
    path: Path, gz: bool, chunksize: int | None, sanitize: bool
) -> Iterator[tuple[pd.DataFrame, np.ndarray, list, list]]:
    """Chunks of an SD file: (property frame, record numbers, mols or None, reasons)."""
    opener = gzip.open if gz else open
    capture = getattr(rdBase, "CaptureErrorLog", None)
    with opener(path, "rb") as fh:
        supplier = Chem.ForwardSDMolSupplier(fh, sanitize=sanitize, removeHs=sanitize)
        props: list[dict[str, str]] = []
        rows: list[int] = []
        mols: list = []
        reasons: list = []
        rec = 0
        with rdBase.BlockLogs():
            while True:
                try:
                    if capture is not None:
                        with capture() as cap:
                            mol = next(supplier)
                        msg = cap.messages
                    else:
                        mol, msg = next(supplier), ""
                except StopIteration:
                    break
                except (OSError, EOFError) as exc:
                    raise InputError(f"cannot be read: {exc}", file=str(path)) from None
                rec += 1
                rows.append(rec)
                if mol is None:
                    mols.append(None)
                    reasons.append(_clean_log(msg) or "RDKit could not read this record")
                    props.append({})
                elif mol.GetNumAtoms() == 0:
                    mols.append(None)
                    reasons.append("no atoms")
                    props.append({k: str(v) for k, v in mol.GetPropsAsDict(includePrivate=False).items()})
                else:
                    mols.append(mol)
                    reasons.append(None)
                    d = {k: str(mol.GetProp(k)) for k in mol.GetPropNames()}
                    if mol.HasProp("_Name") and "title" not in d:
                        d = {"title": mol.GetProp("_Name"), **d}
                    props.append(d)
                if chunksize and len(rows) >= chunksize:
                    yield pd.DataFrame(props, dtype=str).fillna(""), np.asarray(rows, dtype=np.int64), mols, reasons
                    props, rows, mols, reasons = [], [], [], []
        if rows or not chunksize:
            if rec == 0:
                raise InputError("no molecule records", file=str(path))
            yield pd.DataFrame(props, dtype=str).fillna(""), np.asarray(rows, dtype=np.int64), mols, reasons


# ---------------------------------------------------------------------------- columns
def _sample_as_dict(columns: Sequence[str], sample_values: Any) -> dict[str, list[str]]:
    if isinstance(sample_values, pd.DataFrame):
        return {c: [str(v) for v in sample_values[c].tolist()] for c in columns if c in sample_values}
    if isinstance(sample_values, Mapping):
        return {c: [str(v) for v in sample_values.get(c, [])] for c in columns}
    rows = list(sample_values)
    return {c: [str(r[j]) for r in rows if j < len(r)] for j, c in enumerate(columns)}


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def detect_smiles_column(columns: Sequence[str], sample_values: Any) -> str:
    """Pick the SMILES column.

    A column named like a SMILES column (:data:`SMILES_COLUMN_NAMES`,
    case-insensitive) wins; otherwise the first column whose sampled
    non-blank, non-numeric values parse as SMILES for more than half of the
    sample (at most 50 values, ``Chem.MolFromSmiles`` without sanitization).

    Parameters
    ----------
    columns : sequence of str
        Column names in file order.
    sample_values : DataFrame, mapping column -> values, or sequence of rows
        A sample of the data.

    Returns
    -------
    str
        The chosen column name.

    Raises
    ------
    InputError
        If no column qualifies (the message lists the columns).
    """
    columns = [str(c) for c in columns]
    lower = {c.lower(): c for c in reversed(columns)}
    for name in SMILES_COLUMN_NAMES:
        if name in lower:
            return lower[name]
    samples = _sample_as_dict(columns, sample_values)
    for c in columns:
        vals = [v.strip() for v in samples.get(c, []) if v.strip()][:50]
        if not vals:
            continue
        ok = sum(1 for v in vals if not _is_number(v) and _looks_like_smiles(v))
        if ok * 2 > len(vals):
            return c
    raise InputError(
        f"no SMILES column found among {columns}",
        hint="name the column with smiles_col (CLI: --smiles-col)",
    )


def _missing_column_error(kind: str, name: str, columns: Sequence[str], file: str) -> InputError:
    lower = {c.lower(): c for c in columns}
    close = difflib.get_close_matches(name.lower(), list(lower), n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(repr(lower[c]) for c in close)}?" if close else "choose one of the available columns"
    return InputError(
        f"{kind} column {name!r} not found; available columns: {list(columns)}",
        file=file,
        column=name,
        hint=hint,
    )


def _parse_targets(df: pd.DataFrame, cols: Sequence[str], rows: np.ndarray, file: str) -> np.ndarray:
    """``[n, len(cols)]`` float64 from string cells; blank/NA -> NaN; anything else non-numeric raises."""
    out = np.empty((len(df), len(cols)), dtype=np.float64)
    for j, c in enumerate(cols):
        raw = df[c].astype(str).str.strip()
        missing = raw.str.lower().isin(MISSING_VALUES).to_numpy()
        num = np.array(pd.to_numeric(raw.where(~missing, None), errors="coerce"), dtype=np.float64)
        bad = np.flatnonzero(np.isnan(num) & ~missing)
        if bad.size:
            k = int(bad[0])
            raise InputError(
                f"non-numeric target value ({bad.size} such value{'s' if bad.size > 1 else ''} in this column)",
                file=file,
                row=int(rows[k]),
                column=c,
                value=raw.iloc[k],
                hint="targets must be numbers; leave a cell blank (or NA) for a missing value",
            )
        num[missing] = np.nan
        out[:, j] = num
    return out


def _numeric_columns(df: pd.DataFrame, exclude: Sequence[str]) -> list[str]:
    out = []
    for c in df.columns:
        if c in exclude:
            continue
        raw = df[c].astype(str).str.strip()
        present = raw[~raw.str.lower().isin(MISSING_VALUES)]
        if len(present) and pd.to_numeric(present, errors="coerce").notna().all():
            out.append(c)
    return out


# ---------------------------------------------------------------------------- core
@dataclass
class _Plan:
    smiles_col: str
    target_cols: list[str]
    extra_cols: list[str]


def _plan(
    df: pd.DataFrame,
    fmt: str,
    file: str,
    smiles_col: str | None,
    target_cols: Sequence[str] | str | None,
    require_targets: bool,
) -> _Plan:
    columns = list(df.columns)
    if fmt == "sdf":
        scol = _SDF_SMILES_COL
    elif smiles_col is not None:
        if smiles_col not in columns:
            raise _missing_column_error("SMILES", smiles_col, columns, file)
        scol = smiles_col
    else:
        try:
            scol = detect_smiles_column(columns, df.head(50))
        except InputError as exc:
            raise InputError(exc.message, file=file, hint=exc.hint) from None
    if isinstance(target_cols, str):
        target_cols = [target_cols]
    if target_cols is not None:
        tcols = list(target_cols)
        for t in tcols:
            if t not in columns:
                raise _missing_column_error("target", t, columns, file)
            if t == scol:
                raise InputError("the SMILES column cannot also be a target", file=file, column=t)
    elif require_targets:
        tcols = _numeric_columns(df, exclude=[scol])
        if not tcols:
            raise InputError(
                f"no numeric target column found; columns: {columns}",
                file=file,
                hint="name the target columns (CLI: --target-cols)",
            )
    else:
        tcols = []
    extra = [c for c in columns if c != scol and c not in tcols]
    return _Plan(scol, tcols, extra)


def _build_chunk(
    df: pd.DataFrame,
    rows: np.ndarray,
    plan: _Plan,
    *,
    file: str,
    fmt: str,
    on_error: str,
    standardize: bool,
    sanitize: bool,
    require_targets: bool,
    sdf_mols: list | None = None,
    sdf_reasons: list | None = None,
) -> MoleculeTable:
    n = len(df)
    if fmt != "sdf":
        for c in [plan.smiles_col, *plan.target_cols]:
            if c not in df.columns:  # a later chunk lost a column: impossible for CSV, kept for safety
                raise _missing_column_error("SMILES" if c == plan.smiles_col else "target", c, list(df.columns), file)
        # blank lines are not records
        if n and len(df.columns):
            blank = np.ones(n, dtype=bool)
            for c in df.columns:
                blank &= (df[c].astype(str).str.strip() == "").to_numpy()
            if blank.any():
                keep = ~blank
                df = df.loc[keep].reset_index(drop=True)
                rows = rows[keep]
                n = len(df)
        raw_smiles = [str(s).strip() for s in df[plan.smiles_col].tolist()]
    else:
        for c in plan.target_cols:
            if c not in df.columns:
                df[c] = ""
        raw_smiles = []
        for m in sdf_mols or []:
            raw_smiles.append("" if m is None else Chem.MolToSmiles(m))

    targets_all = _parse_targets(df, plan.target_cols, rows, file) if plan.target_cols else None

    smiles: list[str] = []
    mols: list[Chem.Mol] = []
    keep_idx: list[int] = []
    bad_rows: list[int] = []
    bad_smiles: list[str] = []
    bad_reasons: list[str] = []
    for i in range(n):
        s = raw_smiles[i]
        if fmt == "sdf":
            mol, reason = sdf_mols[i], sdf_reasons[i]
        else:
            mol, reason = parse_smiles(s, sanitize=sanitize)
        if mol is not None and standardize:
            try:
                from discovery.chem.standardize import standardize_mol

                mol = standardize_mol(mol)
                s = Chem.MolToSmiles(mol)
            except ValueError as exc:
                mol, reason = None, str(exc)
        if mol is not None and require_targets and targets_all is not None and np.isnan(targets_all[i]).all():
            mol, reason = None, "no target value"
        if mol is None:
            if on_error == "raise":
                raise InputError(
                    f"invalid molecule: {reason}",
                    file=file,
                    row=int(rows[i]),
                    column=plan.smiles_col if fmt != "sdf" else None,
                    value=s if fmt != "sdf" else None,
                    hint="fix or remove the record, or use on_error='report' to skip invalid records",
                )
            bad_rows.append(int(rows[i]))
            bad_smiles.append(s)
            bad_reasons.append(str(reason))
            continue
        smiles.append(s)
        mols.append(mol)
        keep_idx.append(i)
    idx = np.asarray(keep_idx, dtype=np.int64)
    invalid = (
        pd.DataFrame({"row": np.asarray(bad_rows, dtype=np.int64), "smiles": bad_smiles, "reason": bad_reasons})
        if bad_rows
        else _empty_invalid()
    )
    extra = df.loc[idx, plan.extra_cols].reset_index(drop=True) if plan.extra_cols else None
    return MoleculeTable(
        smiles=smiles,
        mols=mols,
        targets=None if targets_all is None else targets_all[idx],
        target_cols=list(plan.target_cols),
        rows=rows[idx].astype(np.int64),
        invalid=invalid,
        source=file,
        smiles_col=plan.smiles_col,
        extra=extra,
        meta={"format": fmt, "standardized": bool(standardize), "sanitized": bool(sanitize)},
    )


def _all_invalid_error(file: str, invalid_sample: pd.DataFrame, n_total: int) -> AllRowsInvalidError:
    head = invalid_sample.head(_MAX_REASONS_IN_ERROR)
    first = "; ".join(f"row {r}: {why}" for r, why in zip(head["row"], head["reason"]))
    return AllRowsInvalidError(
        f"all {n_total} records are invalid; first reasons: {first}",
        file=file,
        hint="check that the SMILES column is the right one",
    )


def iter_molecules(
    path: str | os.PathLike,
    smiles_col: str | None = None,
    target_cols: Sequence[str] | str | None = None,
    *,
    chunksize: int = 10000,
    on_error: str = "report",
    standardize: bool = False,
    sanitize: bool = True,
    require_targets: bool = False,
) -> Iterator[MoleculeTable]:
    """Stream a molecule file as :class:`MoleculeTable` chunks.

    Parameters are those of :func:`read_molecules`, plus ``chunksize`` (records
    per chunk). Row numbers continue across chunks; columns (SMILES, targets)
    are resolved on the first chunk. A chunk can have zero valid records (its
    ``invalid`` frame still lists the rejects); if the whole file has no valid
    record, :class:`~discovery.errors.AllRowsInvalidError` is raised after the
    last chunk.

    Yields
    ------
    MoleculeTable
        One per chunk of at most ``chunksize`` records.
    """
    yield from _iter_tables(path, smiles_col, target_cols, chunksize=chunksize, on_error=on_error,
                            standardize=standardize, sanitize=sanitize, require_targets=require_targets)


def _iter_tables(
    path: str | os.PathLike,
    smiles_col: str | None,
    target_cols: Sequence[str] | str | None,
    *,
    chunksize: int | None,
    on_error: str,
    standardize: bool,
    sanitize: bool,
    require_targets: bool,
) -> Iterator[MoleculeTable]:
    if on_error not in ("report", "raise"):
        raise InputError(f"on_error must be 'report' or 'raise', got {on_error!r}")
    if chunksize is not None and int(chunksize) < 1:
        raise InputError(f"chunksize must be positive, got {chunksize}")
    p = Path(path)
    file = str(p)
    _check_file(p)
    fmt, gz = _format_of(p)
    if fmt in ("csv", "tsv"):
        source = ((df, rows, None, None) for df, rows in _iter_delimited(p, "," if fmt == "csv" else "\t", gz, chunksize))
    elif fmt == "smi":
        source = ((df, rows, None, None) for df, rows in _iter_smi(p, gz, chunksize))
    else:
        source = _iter_sdf(p, gz, chunksize, sanitize)
    plan: _Plan | None = None
    n_valid = n_seen = 0
    invalid_parts: list[pd.DataFrame] = []
    for df, rows, sdf_mols, sdf_reasons in source:
        if plan is None:
            if fmt != "sdf" and len(df) == 0:
                raise InputError("file has a header but no data rows", file=file)
            plan = _plan(df, fmt, file, smiles_col, target_cols, require_targets)
        table = _build_chunk(
            df, rows, plan, file=file, fmt=fmt, on_error=on_error, standardize=standardize, sanitize=sanitize,
            require_targets=require_targets, sdf_mols=sdf_mols, sdf_reasons=sdf_reasons,
        )
        n_valid += len(table)
        n_seen += len(table) + len(table.invalid)
        if len(table.invalid) and len(invalid_parts) < _MAX_REASONS_IN_ERROR:
            invalid_parts.append(table.invalid)
        yield table
    if plan is None:
        raise InputError("file has no data rows", file=file)
    if n_seen == 0:
        raise InputError("file has no data rows (only blank lines)", file=file)
    if n_valid == 0:
        raise _all_invalid_error(file, pd.concat(invalid_parts, ignore_index=True), n_seen)


def read_molecules(
    path: str | os.PathLike,
    smiles_col: str | None = None,
    target_cols: Sequence[str] | str | None = None,
    *,
    on_error: str = "report",
    standardize: bool = False,
    sanitize: bool = True,
    require_targets: bool = False,
) -> MoleculeTable:
    """Read a molecule file into a validated :class:`MoleculeTable`.

    Parameters
    ----------
    path : path
        ``.csv``, ``.tsv``, ``.smi``/``.txt`` or ``.sdf``, optionally ``.gz``.
    smiles_col : str, optional
        SMILES column; detected when omitted (see :func:`detect_smiles_column`).
        Ignored for SD files (molecules come from the mol blocks).
    target_cols : list of str, optional
        Numeric target columns. Blank cells (and NA, NaN, null, none) are NaN;
        any other non-numeric value raises ``InputError`` naming row, column and value.
    on_error : {"report", "raise"}
        ``report``: skip invalid records and list them in ``table.invalid``;
        ``raise``: raise ``InputError`` at the first invalid record.
    standardize : bool, default False
        Apply :func:`discovery.chem.standardize.standardize_mol`; ``smiles``
        then holds the standardized canonical SMILES.
    sanitize : bool, default True
        RDKit sanitization while parsing.
    require_targets : bool, default False
        If True and ``target_cols`` is None, use every numeric column except
        the SMILES column; records whose targets are all missing are reported
        as invalid (``"no target value"``).

    Returns
    -------
    MoleculeTable

    Raises
    ------
    InputError
        Missing/empty file, header without data, unknown SMILES or target
        column (with close-name suggestions), non-numeric target value,
        invalid record with ``on_error="raise"``.
    AllRowsInvalidError
        Every record is invalid (message gives the count and the first reasons).
    """
    tables = list(
        _iter_tables(path, smiles_col, target_cols, chunksize=None, on_error=on_error, standardize=standardize,
                     sanitize=sanitize, require_targets=require_targets)
    )
    return MoleculeTable.concat(tables)
