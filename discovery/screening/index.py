"""On-disk fingerprint index: packed ``uint64`` rows, memory-mapped, sorted by popcount.

Layout of an index folder (written atomically by :func:`build_index`)::

    fingerprints.npy   [n, W] uint64   packed fingerprints, rows sorted by popcount (stable)
    popcounts.npy      [n]    int32    bits set per row (ascending)
    positions.npy      [n]    int64    input position (0-based, among valid molecules) of each row
    molecules.parquet  n rows          position, row (file line, header = 1), id, smiles; input order
    invalid.csv        row, smiles, reason of every rejected record (header only if none)
    index.json         format version, fingerprint spec, counts, popcount histogram
    manifest.json      provenance (kind ``screening.index``)

The *index* of a molecule everywhere in :mod:`discovery.screening` (search
results, tie-breaking, picks, clusters) is its input ``position``. Rows are
stored sorted by popcount so that BitBound pruning (Swamidass & Baldi 2007)
can skip whole blocks; ``positions.npy`` maps them back.

Building streams the input in chunks: each chunk is parsed and fingerprinted
(in parallel worker processes), written to a temporary part file, and a final
counting sort by popcount scatters the parts into the memory-mapped output, so
the fingerprint matrix never has to fit in RAM. Opening an index memory-maps
the three ``.npy`` files (``np.load(mmap_mode="r")``).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from discovery.errors import InputError
from discovery.screening.fingerprints import FingerprintSpec, _fp_chunk, default_jobs, popcount

__all__ = ["FingerprintIndex", "IndexSummary", "build_index", "open_index", "load_library", "INDEX_FORMAT_VERSION"]

log = logging.getLogger(__name__)

INDEX_FORMAT_VERSION = 1
_ID_COLUMNS = ("id", "name", "compound_id", "mol_id", "molecule_id", "chembl_id", "title", "num")


@dataclass
class FingerprintIndex:
    """Packed fingerprints sorted by popcount, with their input positions.

    Attributes
    ----------
    fps : np.ndarray
        ``[n, W]`` uint64 (memory-mapped for an opened index), sorted by popcount.
    popcounts : np.ndarray
        ``[n]`` int32, ascending.
    positions : np.ndarray
        ``[n]`` int64 input position of each stored row.
    spec : FingerprintSpec
    path : Path or None
        Folder of an on-disk index; None for an in-memory one.
    smiles : list of str or None
        In-memory indexes keep their SMILES (input order); on-disk ones read
        them from ``molecules.parquet`` on demand (:meth:`molecules`).
    """

    fps: np.ndarray
    popcounts: np.ndarray
    positions: np.ndarray
    spec: FingerprintSpec
    path: Path | None = None
    smiles: list[str] | None = None
    ids: list[str] | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.fps.shape[0])

    def __repr__(self) -> str:
        where = f"path={str(self.path)!r}, " if self.path else ""
        return f"FingerprintIndex({where}n={len(self)}, radius={self.spec.radius}, nbits={self.spec.nbits})"

    @property
    def n_words(self) -> int:
        return int(self.fps.shape[1])

    @property
    def nbytes(self) -> int:
        """Bytes of the packed fingerprint matrix."""
        return int(self.fps.shape[0]) * int(self.fps.shape[1]) * 8

    def rows_of(self, positions: np.ndarray | Sequence[int]) -> np.ndarray:
        """Stored row of each input position."""
        inv = self._inverse()
        return inv[np.asarray(positions, dtype=np.int64)]

    def _inverse(self) -> np.ndarray:
        inv = self.info.get("_inverse")
        if inv is None:
            inv = np.empty(len(self), dtype=np.int64)
            inv[np.asarray(self.positions)] = np.arange(len(self), dtype=np.int64)
            self.info["_inverse"] = inv
        return inv

    def fingerprints(self, positions: np.ndarray | Sequence[int] | None = None) -> np.ndarray:
        """Packed fingerprints in input order (all, or at ``positions``): ``[m, W]`` uint64 in RAM."""
        rows = self._inverse() if positions is None else self.rows_of(positions)
        return np.asarray(self.fps[rows], dtype=np.uint64).reshape(len(rows), self.n_words)

    def molecules(self, columns: Sequence[str] | None = None) -> "Any":
        """Table of the indexed molecules in input order (``position, row, id, smiles``)."""
        import pandas as pd

        if self.path is not None and (self.path / "molecules.parquet").exists():
            return pd.read_parquet(self.path / "molecules.parquet", columns=list(columns) if columns else None)
        n = len(self)
        df = pd.DataFrame({
            "position": np.arange(n, dtype=np.int64),
            "row": np.asarray(self.info.get("rows", np.arange(1, n + 1)), dtype=np.int64),
            "id": self.ids if self.ids is not None else [str(i) for i in range(n)],
            "smiles": self.smiles if self.smiles is not None else [""] * n,
        })
        return df if columns is None else df.loc[:, list(columns)]

    def smiles_at(self, positions: Sequence[int]) -> list[str]:
        """SMILES of the molecules at input ``positions``."""
        if self.smiles is not None:
            return [self.smiles[int(p)] for p in positions]
        df = self.molecules(["smiles"])
        return df["smiles"].to_numpy()[np.asarray(positions, dtype=np.int64)].tolist()

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_packed(cls, packed: np.ndarray, spec: FingerprintSpec | None = None,
                    smiles: Sequence[str] | None = None, ids: Sequence[str] | None = None) -> "FingerprintIndex":
        """In-memory index of packed fingerprints given in input order."""
        packed = np.ascontiguousarray(packed, dtype=np.uint64)
        spec = spec or FingerprintSpec(nbits=packed.shape[1] * 64)
        if packed.shape[1] != spec.n_words:
            raise InputError(f"packed fingerprints have {packed.shape[1]} words, spec needs {spec.n_words}")
        pc = popcount(packed)
        order = np.argsort(pc, kind="stable")
        return cls(fps=packed[order], popcounts=pc[order].astype(np.int32), positions=order.astype(np.int64),
                   spec=spec, smiles=None if smiles is None else list(smiles),
                   ids=None if ids is None else [str(i) for i in ids])

    @classmethod
    def from_smiles(cls, smiles: Sequence[str], spec: FingerprintSpec | None = None, *,
                    ids: Sequence[str] | None = None, on_error: str = "raise") -> "FingerprintIndex":
        """In-memory index of SMILES (input order = position).

        With ``on_error="report"`` invalid SMILES are skipped; their input
        numbers and reasons are in ``index.info["invalid"]`` and positions then
        count valid molecules only (``index.info["source_index"]`` maps back).
        """
        from discovery.screening.fingerprints import fingerprint_smiles

        spec = spec or FingerprintSpec()
        smiles = list(smiles)
        packed, ok, reasons = fingerprint_smiles(smiles, spec, on_error=on_error)
        keep = np.flatnonzero(ok)
        idx = cls.from_packed(packed, spec, [smiles[i] for i in keep],
                              None if ids is None else [str(ids[i]) for i in keep])
        idx.info["invalid"] = [(int(i), smiles[i], reasons[i]) for i in np.flatnonzero(~ok)]
        idx.info["source_index"] = keep
        return idx


def open_index(path: str | os.PathLike, *, mmap: bool = True) -> FingerprintIndex:
    """Open an index folder written by :func:`build_index` (memory-mapped by default).

    Raises
    ------
    InputError
        The folder is missing, incomplete, or of another format version.
    """
    p = Path(path)
    meta_path = p / "index.json"
    if not meta_path.is_file():
        raise InputError("not a fingerprint index (no index.json)", file=str(p),
                         hint="build one with `discovery screen index --data LIB --out DIR`")
    try:
        meta = json.loads(meta_path.read_text())
    except ValueError as exc:
        raise InputError(f"index.json is not valid JSON: {exc}", file=str(meta_path)) from None
    if meta.get("format_version") != INDEX_FORMAT_VERSION:
        raise InputError(f"index format version {meta.get('format_version')} is not supported "
                         f"(this version reads {INDEX_FORMAT_VERSION})", file=str(meta_path), hint="rebuild the index")
    mode = "r" if mmap else None
    try:
        fps = np.load(p / "fingerprints.npy", mmap_mode=mode)
        pcs = np.load(p / "popcounts.npy", mmap_mode=mode)
        pos = np.load(p / "positions.npy", mmap_mode=mode)
    except (OSError, ValueError) as exc:
        raise InputError(f"index files unreadable: {exc}", file=str(p), hint="rebuild the index") from None
    spec = FingerprintSpec.from_dict(meta["spec"])
    if fps.dtype != np.uint64 or fps.ndim != 2 or fps.shape[1] != spec.n_words or len(pcs) != len(fps) \
            or len(pos) != len(fps) or len(fps) != int(meta["n"]):
        raise InputError(f"index files are inconsistent: fingerprints {fps.shape} {fps.dtype}, "
                         f"popcounts {pcs.shape}, positions {pos.shape}, index.json n={meta['n']}",
                         file=str(p), hint="rebuild the index")
    return FingerprintIndex(fps=fps, popcounts=pcs, positions=pos, spec=spec, path=p, info={"meta": meta})


# ----------------------------------------------------------------------------- building
@dataclass
class IndexSummary:
    """What :func:`build_index` did."""

    path: Path
    n: int
    n_invalid: int
    n_words: int
    seconds: float

    def line(self) -> str:
        return (f"indexed {self.n:,} molecules ({self.n_invalid:,} invalid, listed in "
                f"{self.path / 'invalid.csv'}) into {self.path} in {self.seconds:.1f} s")


def _raw_chunks(path: Path, smiles_col: str | None, id_col: str | None, chunksize: int
                ) -> Iterator[tuple[list[str], np.ndarray, list[str]]]:
    """Raw (unparsed) chunks of a molecule file: SMILES, file rows, ids."""
    from discovery.chem import io as cio

    cio._check_file(path)
    fmt, gz = cio._format_of(path)
    if fmt == "sdf":
        raise InputError("SD files are indexed through their SMILES; convert with "
                         "`discovery` or RDKit first", file=str(path), hint="give a .smi or .csv file")
    if fmt in ("csv", "tsv"):
        src = cio._iter_delimited(path, "," if fmt == "csv" else "\t", gz, chunksize)
    else:
        src = cio._iter_smi(path, gz, chunksize)
    plan = None
    icol = id_col
    seen = 0
    for df, rows in src:
        if plan is None:
            if len(df) == 0:
                raise InputError("file has a header but no data rows", file=str(path))
            plan = cio._plan(df, fmt, str(path), smiles_col, None, False)
            if icol is not None and icol not in df.columns:
                raise InputError(f"id column not found; columns: {list(df.columns)}", file=str(path), column=icol)
            if icol is None:
                lower = {str(c).lower(): c for c in df.columns if c != plan.smiles_col}
                icol = next((lower[c] for c in _ID_COLUMNS if c in lower), None)
        smi = df[plan.smiles_col].astype(str).tolist()
        ids = df[icol].astype(str).tolist() if icol is not None else [str(r) for r in rows]
        seen += len(smi)
        yield smi, rows, ids
    if plan is None or seen == 0:
        raise InputError("file has no data rows", file=str(path))


def build_index(
    data: str | os.PathLike,
    out: str | os.PathLike,
    spec: FingerprintSpec | None = None,
    *,
    smiles_col: str | None = None,
    id_col: str | None = None,
    chunksize: int = 50_000,
    n_jobs: int | None = None,
    on_error: str = "report",
    progress: bool = False,
) -> IndexSummary:
    """Fingerprint a molecule file into an index folder (see the module docstring).

    Parameters
    ----------
    data : str or path
        Registered dataset name (e.g. ``"HIV"``) or a ``.smi``/``.csv``/``.tsv`` file (``.gz`` allowed).
    out : path
        Index folder; replaced atomically when complete.
    spec : FingerprintSpec, optional
        Morgan radius and size (default radius 2, 2048 bits).
    smiles_col, id_col : str, optional
        Columns (detected when omitted; the id defaults to a column named
        id/name/..., else the file row number).
    chunksize : int
        Records per chunk (bounds the memory of parsing and fingerprinting).
    n_jobs : int, optional
        Worker processes (default: CPUs available); 1 = in this process.
    on_error : {"report", "raise"}
        Invalid SMILES: skip and list in ``invalid.csv`` (default) or fail on the first.

    Returns
    -------
    IndexSummary
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from discovery.data.loaders import resolve
    from discovery.fsutil import atomic_dir
    from discovery.provenance import build_manifest, write_manifest

    if on_error not in ("report", "raise"):
        raise InputError(f"on_error must be 'report' or 'raise', got {on_error!r}")
    spec = spec or FingerprintSpec()
    path, info = resolve(data)
    if info is not None and smiles_col is None:
        smiles_col = getattr(info, "smiles_column", None)
    n_jobs = default_jobs() if n_jobs is None else max(1, int(n_jobs))
    t0 = time.perf_counter()
    W = spec.n_words
    hist = np.zeros(spec.nbits + 1, dtype=np.int64)
    schema = pa.schema([("position", pa.int64()), ("row", pa.int64()), ("id", pa.string()), ("smiles", pa.string())])
    n_valid = 0
    n_invalid = 0
    with atomic_dir(out) as tmp:
        parts_dir = tmp / "_parts"
        parts_dir.mkdir()
        parts: list[tuple[Path, Path, int]] = []
        writer = pq.ParquetWriter(tmp / "molecules.parquet", schema)
        inv_fh = open(tmp / "invalid.csv", "w", encoding="utf-8", newline="")
        import csv

        inv_w = csv.writer(inv_fh)
        inv_w.writerow(["row", "smiles", "reason"])
        pool = None
        try:
            chunks = _raw_chunks(path, smiles_col, id_col, chunksize)
            payload = ((smi, rows, ids) for smi, rows, ids in chunks)
            if n_jobs > 1:
                import multiprocessing as mp

                pool = mp.get_context("spawn").Pool(n_jobs)  # spawn: JAX (threads) may be loaded
                # keep the raw chunk next to its result: imap preserves order
                buf: list[tuple[list[str], np.ndarray, list[str]]] = []

                def tasks() -> Iterator[tuple[list[str], dict]]:
                    for item in payload:
                        buf.append(item)
                        yield item[0], spec.to_dict()

                results = pool.imap(_fp_chunk, tasks(), chunksize=1)
                pairs = ((buf.pop(0), res) for res in results)
            else:
                pairs = ((item, _fp_chunk((item[0], spec.to_dict()))) for item in payload)
            for k, ((smi, rows, ids), (packed, ok, reasons)) in enumerate(pairs):
                bad = np.flatnonzero(~ok)
                if len(bad) and on_error == "raise":
                    i = int(bad[0])
                    raise InputError(f"invalid molecule: {reasons[i]}", file=str(path), row=int(rows[i]),
                                     value=smi[i], hint="fix or remove it, or use on_error='report'")
                for i in bad:
                    inv_w.writerow([int(rows[i]), smi[i], reasons[i]])
                n_invalid += len(bad)
                keep = np.flatnonzero(ok)
                pc = popcount(packed)
                hist += np.bincount(pc, minlength=spec.nbits + 1)
                fp_path, pc_path = parts_dir / f"fp_{k:06d}.npy", parts_dir / f"pc_{k:06d}.npy"
                np.save(fp_path, packed)
                np.save(pc_path, pc)
                parts.append((fp_path, pc_path, len(keep)))
                writer.write_table(pa.table({
                    "position": np.arange(n_valid, n_valid + len(keep), dtype=np.int64),
                    "row": np.asarray(rows)[keep].astype(np.int64),
                    "id": [ids[i] for i in keep],
                    "smiles": [smi[i].strip() for i in keep],
                }, schema=schema))
                n_valid += len(keep)
                if progress:
                    print(f"\rindexed {n_valid:,} molecules ({n_invalid:,} invalid)", end="", file=sys.stderr)
        finally:
            writer.close()
            inv_fh.close()
            if pool is not None:
                pool.terminate()
                pool.join()
        if progress:
            print(file=sys.stderr)
        if n_valid == 0:
            raise InputError(f"all {n_invalid} records are invalid; nothing to index", file=str(path),
                             hint="see the reasons in the invalid list; check the SMILES column")
        # counting sort by popcount into memory-mapped outputs
        starts = np.concatenate([[0], np.cumsum(hist)[:-1]]).astype(np.int64)
        cursor = starts.copy()
        fps_out = np.lib.format.open_memmap(tmp / "fingerprints.npy", mode="w+", dtype=np.uint64, shape=(n_valid, W))
        pcs_out = np.lib.format.open_memmap(tmp / "popcounts.npy", mode="w+", dtype=np.int32, shape=(n_valid,))
        pos_out = np.lib.format.open_memmap(tmp / "positions.npy", mode="w+", dtype=np.int64, shape=(n_valid,))
        base = 0
        for fp_path, pc_path, m in parts:
            packed = np.load(fp_path)
            pc = np.load(pc_path)
            order = np.argsort(pc, kind="stable")
            spc = pc[order]
            uniq, first, counts = np.unique(spc, return_index=True, return_counts=True)
            rank = np.arange(m) - np.repeat(first, counts)
            dest = cursor[spc] + rank
            cursor[uniq] += counts
            fps_out[dest] = packed[order]
            pcs_out[dest] = spc
            pos_out[dest] = base + order
            base += m
            fp_path.unlink()
            pc_path.unlink()
        fps_out.flush()
        pcs_out.flush()
        pos_out.flush()
        del fps_out, pcs_out, pos_out
        parts_dir.rmdir()
        seconds = time.perf_counter() - t0
        meta = {
            "format_version": INDEX_FORMAT_VERSION,
            "spec": spec.to_dict(),
            "n": int(n_valid),
            "n_invalid": int(n_invalid),
            "n_words": W,
            "sorted_by": "popcount",
            "popcount_histogram": {str(i): int(c) for i, c in enumerate(hist) if c},
            "source": str(path),
            "dataset": getattr(info, "name", None),
        }
        (tmp / "index.json").write_text(json.dumps(meta, indent=2) + "\n")
        manifest = build_manifest(
            kind="screening.index",
            inputs={"data": path},
            config={"data": str(data), "smiles_col": smiles_col, "id_col": id_col, "chunksize": chunksize,
                    "n_jobs": n_jobs, "on_error": on_error, **{f"fp_{k}": v for k, v in spec.to_dict().items()}},
            timings={"total": seconds},
            extra={"counts": {"n": int(n_valid), "n_invalid": int(n_invalid)}},
        )
        write_manifest(tmp, manifest)
    return IndexSummary(path=Path(out), n=n_valid, n_invalid=n_invalid, n_words=W, seconds=seconds)


def load_library(
    source: str | os.PathLike,
    spec: FingerprintSpec | None = None,
    *,
    smiles_col: str | None = None,
    id_col: str | None = None,
    on_error: str = "report",
) -> tuple[FingerprintIndex, "Any"]:
    """An index folder (memory-mapped), or a dataset name / molecule file fingerprinted in memory.

    Parameters
    ----------
    source : str or path
        An index folder written by :func:`build_index`, a registered dataset
        name, or a ``.csv``/``.tsv``/``.smi``/``.sdf`` file.
    spec : FingerprintSpec, optional
        For files and datasets (an index brings its own; a different ``spec`` raises).
    on_error : {"report", "raise"}
        Invalid records of a file: skipped and returned, or an error.

    Returns
    -------
    index : FingerprintIndex
        ``index.smiles`` / ``index.ids`` set for files (input order of the valid records).
    invalid : pandas.DataFrame
        ``row, smiles, reason`` of the rejected records (empty for an index folder:
        its own ``invalid.csv`` lists them).
    """
    import pandas as pd

    from discovery.chem.io import read_molecules
    from discovery.data.loaders import resolve

    p = Path(source)
    if p.is_dir():
        idx = open_index(p)
        if spec is not None and spec != idx.spec:
            raise InputError(f"index fingerprints {idx.spec} differ from the requested {spec}", file=str(p),
                             hint="drop the fingerprint options or rebuild the index")
        return idx, pd.DataFrame(columns=["row", "smiles", "reason"])
    path, info = resolve(source)
    if info is not None and smiles_col is None:
        smiles_col = getattr(info, "smiles_column", None)
    table = read_molecules(path, smiles_col=smiles_col, on_error=on_error)
    spec = spec or FingerprintSpec()
    from discovery.screening.fingerprints import fingerprint_mols

    ids = None
    if table.extra is not None:
        cols = {str(c).lower(): c for c in table.extra.columns}
        col = id_col if id_col is not None else next((cols[c] for c in _ID_COLUMNS if c in cols), None)
        if id_col is not None and id_col not in table.extra.columns:
            raise InputError(f"id column not found; columns: {list(table.extra.columns)}", file=str(path),
                             column=id_col)
        if col is not None:
            ids = table.extra[col].astype(str).tolist()
    if ids is None:
        ids = [str(r) for r in table.rows]
    idx = FingerprintIndex.from_packed(fingerprint_mols(table.mols, spec), spec, table.smiles, ids)
    idx.info["rows"] = table.rows
    idx.info["source"] = str(path)
    idx.path = None
    return idx, table.invalid
