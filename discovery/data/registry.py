"""The dataset registry: what each registered dataset is, where it comes from, how to cite it.

The records live in :mod:`discovery.data.catalog` (generated from the data
mirror's ``MANIFEST.tsv`` by :mod:`discovery.data._make_catalog` and committed,
so the package works without the manifest). This module turns them into
frozen dataclasses and answers look-ups by name or alias, case-insensitively.

A dataset has one or more files. Each file is pinned by its canonical URL
(``https://raw.githubusercontent.com/<repo>/<commit>/<path>``), its size in
bytes and its sha256; :mod:`discovery.data.fetcher` never hands out a file whose
hash differs.

Examples
--------
>>> from discovery.data import registry
>>> info = registry.get("Delaney")
>>> info.name, info.smiles_column, info.target_columns
('esol', 'smiles', ('logp',))
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from ..errors import DatasetNotFoundError

TASKS = ("regression", "classification")


@dataclass(frozen=True)
class Citation:
    """One reference to cite when a dataset is used.

    Attributes
    ----------
    key : str
        Short identifier, e.g. ``"moleculenet"``.
    text : str
        Full reference (authors, title, journal, year, volume, pages).
    doi : str or None
        DOI without the ``doi:`` prefix, when the work has one.
    url : str or None
        Where the work or data set is published when there is no DOI.
    """

    key: str
    text: str
    doi: str | None = None
    url: str | None = None

    def __str__(self) -> str:
        out = self.text.rstrip()
        if self.doi:
            out += f" doi:{self.doi}"
        elif self.url:
            out += f" {self.url}"
        return out


@dataclass(frozen=True)
class FileInfo:
    """One registered file, pinned by content.

    Attributes
    ----------
    relpath : str
        Path relative to the mirror root and the cache's ``data`` folder,
        with ``/`` separators, e.g. ``"molecules/delaney.csv"``.
    url : str or None
        Canonical download address (spaces URL-encoded). ``None`` for files
        that have no direct address (e.g. a file inside a Python wheel);
        those can only come from the cache or the mirror.
    sha256 : str
        Hex sha256 of the file's bytes.
    bytes : int
        Size in bytes.
    license : str
        License of the file as its source states it.
    repo, commit, source_path : str
        Where the file was taken from: repository (``owner/name``, or
        ``pypi:<package>``), commit (or package version) and path there.
    """

    relpath: str
    url: str | None
    sha256: str
    bytes: int
    license: str
    repo: str
    commit: str
    source_path: str

    @property
    def name(self) -> str:
        """File name (last component of :attr:`relpath`)."""
        return self.relpath.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class DatasetInfo:
    """Everything the project knows about one registered dataset.

    Attributes
    ----------
    name : str
        Canonical lowercase name, e.g. ``"esol"``.
    aliases : tuple of str
        Other names it answers to (matched case-insensitively).
    description : str
        One or two sentences: what was measured, on what, in which unit.
    category : str
        Mirror folder family: ``"molecules"``, later ``"kg"``,
        ``"literature"``, ``"proteins"``, ``"cohorts"``.
    files : tuple of FileInfo
        Every file of the dataset.
    citations : tuple of Citation
        References to cite, most specific first.
    source : str
        Where the files were obtained (repository, commit, license).
    task : str or None
        ``"regression"`` or ``"classification"`` for property tables,
        ``None`` for datasets that are not a prediction task.
    table : str or None
        ``relpath`` of the main table (what :func:`discovery.data.load` reads
        by default); ``None`` when the dataset has no single main table.
    smiles_column : str or None
        Column holding SMILES in :attr:`table`.
    target_columns : tuple of str
        Target columns of :attr:`table`, in file order.
    target_description : str
        Meaning and unit of the targets.
    n_rows : int or None
        Data rows of :attr:`table` (header excluded).
    quirks : tuple of str
        Things that surprise people about this file (misleading column names,
        missing labels, SMILES RDKit rejects, duplicates).
    """

    name: str
    aliases: tuple[str, ...]
    description: str
    category: str
    files: tuple[FileInfo, ...]
    citations: tuple[Citation, ...]
    source: str
    task: str | None = None
    table: str | None = None
    smiles_column: str | None = None
    target_columns: tuple[str, ...] = ()
    target_description: str = ""
    n_rows: int | None = None
    quirks: tuple[str, ...] = field(default=())

    @property
    def license(self) -> str:
        """Distinct file licenses, joined with ``"; "``."""
        return "; ".join(dict.fromkeys(f.license for f in self.files))

    @property
    def citation(self) -> str:
        """All citations as one string, separated by ``"; "``."""
        return "; ".join(str(c) for c in self.citations)

    def file(self, which: str | None = None) -> FileInfo:
        """One file of the dataset.

        Parameters
        ----------
        which : str, optional
            ``relpath`` or file name; default: the main :attr:`table`, or the
            only file.

        Raises
        ------
        DatasetNotFoundError
            ``which`` names no file of this dataset, or it is omitted and the
            dataset has several files and no main table.
        """
        if which is None:
            if self.table is not None:
                which = self.table
            elif len(self.files) == 1:
                return self.files[0]
            else:
                raise DatasetNotFoundError(
                    f"dataset '{self.name}' has {len(self.files)} files and no main table",
                    hint="name one: " + ", ".join(f.relpath for f in self.files),
                )
        for f in self.files:
            if which in (f.relpath, f.name):
                return f
        raise DatasetNotFoundError(
            f"dataset '{self.name}' has no file {which!r}",
            hint="its files are: " + ", ".join(f.relpath for f in self.files),
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (JSON-serialisable), with ``license`` added."""
        from dataclasses import asdict

        out = asdict(self)
        out["license"] = self.license
        out["citation"] = self.citation
        return out


def _from_record(rec: Mapping[str, Any]) -> DatasetInfo:
    task = rec.get("task")
    if task is not None and task not in TASKS:
        raise ValueError(f"catalog entry {rec['name']!r}: task {task!r} is not one of {TASKS}")
    return DatasetInfo(
        name=rec["name"],
        aliases=tuple(rec.get("aliases", ())),
        description=rec["description"],
        category=rec["category"],
        files=tuple(FileInfo(**f) for f in rec["files"]),
        citations=tuple(Citation(**c) for c in rec.get("citations", ())),
        source=rec.get("source", ""),
        task=task,
        table=rec.get("table"),
        smiles_column=rec.get("smiles_column"),
        target_columns=tuple(rec.get("target_columns", ())),
        target_description=rec.get("target_description", ""),
        n_rows=rec.get("n_rows"),
        quirks=tuple(rec.get("quirks", ())),
    )


class Registry:
    """Name -> :class:`DatasetInfo` look-up with case-insensitive aliases.

    Parameters
    ----------
    datasets : iterable of DatasetInfo
        Entries to register; names and aliases must be unique
        (case-insensitively) across all entries.
    """

    def __init__(self, datasets: Iterable[DatasetInfo] = ()) -> None:
        self._by_name: dict[str, DatasetInfo] = {}
        self._keys: dict[str, str] = {}  # lowercased name or alias -> canonical name
        for info in datasets:
            self.add(info)

    def add(self, info: DatasetInfo, *, replace: bool = False) -> None:
        """Register ``info``; an existing name or alias is an error unless ``replace``."""
        if info.name != info.name.lower():
            raise ValueError(f"dataset name {info.name!r} must be lowercase")
        if replace and info.name in self._by_name:
            self.remove(info.name)
        for key in (info.name, *info.aliases):
            owner = self._keys.get(key.lower())
            if owner is not None:
                raise ValueError(f"dataset name or alias {key!r} is already used by '{owner}'")
        self._by_name[info.name] = info
        for key in (info.name, *info.aliases):
            self._keys[key.lower()] = info.name

    def remove(self, name: str) -> None:
        """Unregister a dataset (by canonical name)."""
        info = self._by_name.pop(name)
        for key in (info.name, *info.aliases):
            self._keys.pop(key.lower(), None)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.strip().lower() in self._keys

    def __iter__(self):
        return iter(sorted(self._by_name.values(), key=lambda d: d.name))

    def __len__(self) -> int:
        return len(self._by_name)

    def names(self) -> list[str]:
        """Canonical names, sorted."""
        return sorted(self._by_name)

    def suggest(self, name: str, n: int = 3) -> list[str]:
        """Canonical names closest to ``name`` (difflib over names and aliases)."""
        hits = difflib.get_close_matches(name.strip().lower(), list(self._keys), n=n * 2, cutoff=0.6)
        return list(dict.fromkeys(self._keys[h] for h in hits))[:n]

    def get(self, name: str) -> DatasetInfo:
        """The dataset called ``name`` (canonical name or alias, any case).

        Raises
        ------
        DatasetNotFoundError
            With the closest registered names as a hint.
        """
        key = name.strip().lower()
        if key in self._keys:
            return self._by_name[self._keys[key]]
        close = self.suggest(name)
        hint = (f"did you mean {', '.join(close)}? " if close else "") + (
            "`discovery data list` shows every registered dataset"
        )
        raise DatasetNotFoundError(f"'{name}' is not a registered dataset", hint=hint)

    def files(self) -> list[tuple[DatasetInfo, FileInfo]]:
        """Every (dataset, file) pair, datasets sorted by name."""
        return [(d, f) for d in self for f in d.files]


def _default_registry() -> Registry:
    from .catalog import DATASETS

    return Registry(_from_record(rec) for rec in DATASETS)


#: The project's registry, built from :mod:`discovery.data.catalog`.
REGISTRY: Registry = _default_registry()


def get(name: str) -> DatasetInfo:
    """The registered dataset called ``name`` (name or alias, any case); see :meth:`Registry.get`."""
    return REGISTRY.get(name)


def names() -> list[str]:
    """Canonical names of every registered dataset, sorted."""
    return REGISTRY.names()


def datasets() -> list[DatasetInfo]:
    """Every registered dataset, sorted by name."""
    return list(REGISTRY)


def citations(*names: str) -> list[str]:
    """Citation strings for the given datasets (all registered ones if none), de-duplicated.

    Parameters
    ----------
    *names : str
        Dataset names or aliases.

    Returns
    -------
    list of str
        One formatted reference per distinct work (``"<reference> doi:<doi>"``),
        in order of first appearance.
    """
    infos = [get(n) for n in names] if names else datasets()
    seen: dict[str, str] = {}
    for info in infos:
        for c in info.citations:
            seen.setdefault(c.key, str(c))
    return list(seen.values())
