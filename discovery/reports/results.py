"""Reading result folders for reports.

A result folder is any directory holding a ``manifest.json`` (see
:mod:`discovery.provenance`); its ``kind`` (e.g. ``"molprop.train"``) picks
the section builder that reports it. Everything here reads defensively: a
missing or unreadable optional file becomes ``None`` and is shown in the
report as "not reported"; a missing or broken ``manifest.json`` is an
:class:`~discovery.errors.InputError`, because without it nothing can be said
about what produced the folder.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from ..errors import InputError

#: Config keys that say where outputs went, or which seed was used; they do not
#: change what model was trained, so they are left out of the group key.
_NON_MODEL_KEYS = frozenset(
    {"seed", "out", "output", "out_dir", "outdir", "output_dir", "run_dir", "log_dir", "logdir",
     "progress", "verbose", "quiet", "num_workers", "workers", "device", "accelerator", "devices",
     "cache", "cache_dir", "overwrite", "force"}
)
#: Config keys that name the input data; they form the "dataset" part of the group key.
_DATA_KEYS = ("dataset", "data", "data_name", "dataset_name", "input", "data_path")


def config_hash(config: Mapping[str, Any]) -> str:
    """sha256 of a config mapping in canonical JSON (sorted keys, compact separators).

    Parameters
    ----------
    config : mapping
        JSON-serialisable configuration (non-serialisable values are
        stringified).

    Returns
    -------
    str
        64 hex characters.
    """
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class ResultFolder:
    """One result folder, read lazily.

    Attributes
    ----------
    path : Path
        The folder.
    manifest : dict
        Parsed ``manifest.json``.
    """

    path: Path
    manifest: dict[str, Any]
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    # -- manifest fields -------------------------------------------------
    @property
    def kind(self) -> str:
        """Manifest ``kind``, e.g. ``"molprop.train"`` (``"unknown"`` if absent)."""
        return str(self.manifest.get("kind") or "unknown")

    @property
    def config(self) -> dict[str, Any]:
        cfg = self.manifest.get("config")
        return dict(cfg) if isinstance(cfg, Mapping) else {}

    @property
    def seed(self) -> int | None:
        seed = self.manifest.get("seed", self.config.get("seed"))
        try:
            return None if seed is None else int(seed)
        except (TypeError, ValueError):
            return None

    @property
    def inputs(self) -> dict[str, dict[str, Any]]:
        """``{name: {"path": ..., "sha256": ...}}`` from the manifest (empty if absent)."""
        raw = self.manifest.get("inputs")
        if not isinstance(raw, Mapping):
            return {}
        out: dict[str, dict[str, Any]] = {}
        for name, val in raw.items():
            if isinstance(val, Mapping):
                out[str(name)] = dict(val)
            else:
                out[str(name)] = {"path": str(val), "sha256": None}
        return out

    @property
    def versions(self) -> dict[str, str]:
        raw = self.manifest.get("versions")
        return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, Mapping) else {}

    @property
    def config_hash(self) -> str:
        """sha256 of the manifest ``config`` (see :func:`config_hash`)."""
        return config_hash(self.config)

    @property
    def dataset(self) -> str:
        """Name of the input data: the config's dataset/data value, else the first input's name."""
        cfg = self.config
        for key in _DATA_KEYS:
            val = cfg.get(key)
            if isinstance(val, str) and val:
                return Path(val).name if ("/" in val or os.sep in val) else val
        for name, val in self.inputs.items():
            path = val.get("path")
            if path:
                return Path(str(path)).name
            return name
        return "unknown"

    @property
    def model_key(self) -> str:
        """Hash of the config without seed, data name and output locations: runs on
        the same data that differ only by seed share it."""
        cfg = {k: v for k, v in self.config.items() if k not in _NON_MODEL_KEYS and k not in _DATA_KEYS}
        return config_hash(cfg)[:12]

    # -- files -----------------------------------------------------------
    def file(self, name: str) -> Path:
        return self.path / name

    def json(self, name: str) -> Any:
        """Parsed JSON file ``name`` inside the folder, or ``None`` when it is absent.

        Raises
        ------
        InputError
            The file exists but is not valid JSON.
        """
        def read(p: Path) -> Any:
            try:
                return json.loads(p.read_text())
            except (json.JSONDecodeError, UnicodeDecodeError) as err:
                raise InputError(
                    f"not valid JSON: {err}", file=str(p),
                    hint="the result folder may be damaged; re-run the command that wrote it",
                ) from err

        return self._cached("json", name, read)

    def csv_rows(self, name: str) -> list[dict[str, str]] | None:
        """Rows of CSV file ``name`` as dicts (strings), or ``None`` when absent."""

        def read(p: Path) -> list[dict[str, str]]:
            with open(p, newline="") as fh:
                return list(csv.DictReader(fh))

        return self._cached("csv", name, read)

    def frame(self, name: str):
        """CSV file ``name`` as a pandas DataFrame, or ``None`` when absent."""

        def read(p: Path):
            import pandas as pd

            try:
                return pd.read_csv(p)
            except pd.errors.EmptyDataError:
                return pd.DataFrame()

        return self._cached("df", name, read)

    def _cached(self, kind: str, name: str, read: Callable[[Path], Any]) -> Any:
        """Read file ``name`` once with ``read`` (``None`` when absent) and memoize it per kind."""
        key = f"{kind}:{name}"
        if key not in self._cache:
            p = self.file(name)
            self._cache[key] = read(p) if p.is_file() else None
        return self._cache[key]

    @cached_property
    def label(self) -> str:
        """Short human label: folder name."""
        return self.path.name


def load_result(path: str | os.PathLike) -> ResultFolder:
    """Read one result folder (its ``manifest.json``).

    Raises
    ------
    InputError
        ``path`` is not a folder, has no ``manifest.json``, or the manifest is
        not a JSON object.
    """
    p = Path(path)
    if not p.is_dir():
        raise InputError("result folder not found", file=str(p),
                         hint="pass a folder written by a discovery command (it holds manifest.json)")
    mpath = p / "manifest.json"
    if not mpath.is_file():
        raise InputError("no manifest.json in this folder, so it is not a result folder", file=str(p),
                         hint="pass a folder written by e.g. `discovery molprop train --out DIR`")
    try:
        manifest = json.loads(mpath.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"manifest is not valid JSON: {err}", file=str(mpath)) from err
    if not isinstance(manifest, dict):
        raise InputError("manifest must be a JSON object", file=str(mpath), value=type(manifest).__name__)
    return ResultFolder(path=p.resolve(), manifest=manifest)


def discover_results(paths: Iterable[str | os.PathLike], max_depth: int = 3) -> list[ResultFolder]:
    """Result folders named by ``paths``.

    A path holding ``manifest.json`` (or the path of a ``manifest.json`` itself,
    as a workflow passes it) is one result folder; any other folder is
    searched (up to ``max_depth`` levels) for result folders, so
    ``discovery report runs/`` reports every run under ``runs/``. Folders
    being written (``*.partial-*``) or replaced (``*.old-*``) are skipped.

    Returns
    -------
    list of ResultFolder
        Sorted by kind, dataset, model key, seed and path; each folder once.

    Raises
    ------
    InputError
        A path does not exist, or a folder contains no result folder at all.
    """
    found: dict[Path, ResultFolder] = {}
    for raw in paths:
        p = Path(raw)
        if not p.exists():
            raise InputError("path not found", file=str(p), hint="pass result folders (they hold manifest.json)")
        if p.is_file() and p.name == "manifest.json":
            p = p.parent
        if not p.is_dir():
            raise InputError("not a folder", file=str(p), hint="pass result folders (or their manifest.json), not other files")
        if (p / "manifest.json").is_file():
            r = load_result(p)
            found.setdefault(r.path, r)
            continue
        hits = []
        for root, dirs, files in os.walk(p):
            depth = len(Path(root).relative_to(p).parts)
            dirs[:] = sorted(d for d in dirs if ".partial-" not in d and ".old-" not in d and not d.startswith("."))
            if depth >= max_depth:
                dirs[:] = []
            if "manifest.json" in files and Path(root) != p:
                hits.append(Path(root))
                dirs[:] = []  # a result folder's subfolders (e.g. model/) are part of it
        if not hits:
            raise InputError(
                f"no result folder (a folder with manifest.json) found within {max_depth} levels",
                file=str(p), hint="pass the --out folder of a discovery command",
            )
        for h in hits:
            r = load_result(h)
            found.setdefault(r.path, r)
    return sorted(found.values(), key=lambda r: (r.kind, r.dataset, r.model_key,
                                                 -1 if r.seed is None else r.seed, str(r.path)))
