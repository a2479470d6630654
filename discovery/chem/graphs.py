"""Packed molecular graphs and fast batching.

A :class:`PackedGraphs` holds many molecular graphs concatenated into a few
flat tensors (the CSR-like layout PyTorch Geometric uses for a batch, kept
for a whole data set). It is both the in-memory form handed to models and
the on-disk form of the feature cache.

Edge layout (identical to Chemprop v2's ``SimpleMoleculeMolGraphFeaturizer``):
bond ``k`` of a molecule gives two directed edges, at positions ``2k``
(begin -> end) and ``2k + 1`` (end -> begin). Every molecule therefore has an
even number of directed edges and the reverse of edge ``e`` is ``e ^ 1``,
both inside a molecule and after any collation.

Shapes
------
``x``           : ``[N_atoms_total, ATOM_FDIM]`` float32
``edge_index``  : ``[2, E_total]`` int64, *local* atom indices (``0 .. n_atoms_i - 1``)
``edge_attr``   : ``[E_total, BOND_FDIM]`` float32
``atom_ptr``    : ``[n_mols + 1]`` int64, atoms of molecule ``i`` are ``x[atom_ptr[i]:atom_ptr[i+1]]``
``edge_ptr``    : ``[n_mols + 1]`` int64, edges of molecule ``i`` are ``edge_attr[edge_ptr[i]:edge_ptr[i+1]]``
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

__all__ = ["PackedGraphs", "GraphBatch", "MolData", "PACKED_FORMAT_VERSION"]

#: Version of the dict written by :meth:`PackedGraphs.save`; bump on layout changes.
PACKED_FORMAT_VERSION = 1

#: Gather CPU tensors with NumPy (True) or torch ``index_select`` (False, the path
#: used for tensors on other devices); both give identical results.
NUMPY_GATHER_ON_CPU = True


_MOLDATA_CLS: type | None = None


def _moldata_class() -> type:
    """Build :class:`MolData` on first use.

    ``torch_geometric`` costs about 160 MB of resident memory and 2 s to
    import; only per-molecule ``Data`` access needs it, so the packed graphs,
    featurization and prediction paths never import it.
    """
    global _MOLDATA_CLS
    if _MOLDATA_CLS is None:
        from torch_geometric.data import Data

        class MolData(Data):
            """A PyG :class:`~torch_geometric.data.Data` that batches ``rev_edge_index`` correctly.

            PyG increments every attribute whose name contains ``index`` by the number
            of *nodes* when it builds a batch; ``rev_edge_index`` holds *edge*
            positions, so it must be incremented by the number of edges instead.
            """

            def __inc__(self, key: str, value: Any, *args: Any, **kwargs: Any) -> Any:
                if key == "rev_edge_index":
                    return self.edge_index.size(1)
                return super().__inc__(key, value, *args, **kwargs)

        MolData.__module__ = __name__
        MolData.__qualname__ = "MolData"
        _MOLDATA_CLS = MolData
    return _MOLDATA_CLS


def __getattr__(name: str) -> Any:
    # ``MolData`` (a torch_geometric ``Data`` subclass) is created lazily; see _moldata_class
    if name == "MolData":
        return _moldata_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass
class GraphBatch:
    """A batch of molecular graphs with global indices, ready for message passing.

    Attributes
    ----------
    x : torch.Tensor
        ``[N, ATOM_FDIM]`` float32 atom features.
    edge_index : torch.Tensor
        ``[2, E]`` int64 directed edges, *global* indices into ``x``
        (row 0 = source, row 1 = target).
    edge_attr : torch.Tensor
        ``[E, BOND_FDIM]`` float32 bond features of each directed edge.
    rev_edge_index : torch.Tensor
        ``[E]`` int64, position of the reverse directed edge (``arange(E) ^ 1``).
    batch : torch.Tensor
        ``[N]`` int64 graph id (``0 .. num_graphs - 1``) of each atom.
    num_graphs : int
        Number of molecules in the batch.
    x_d : torch.Tensor or None
        ``[num_graphs, D]`` float32 molecule-level descriptors, raw (see
        :mod:`discovery.chem.descriptors`); ``None`` when the graphs carry none.
    """

    x: torch.Tensor
    edge_index: torch.Tensor
    edge_attr: torch.Tensor
    rev_edge_index: torch.Tensor
    batch: torch.Tensor
    num_graphs: int
    x_d: torch.Tensor | None = None

    def __len__(self) -> int:
        return self.num_graphs

    def to(self, device: str | torch.device, non_blocking: bool = False) -> "GraphBatch":
        """Return a copy on ``device`` (``self`` if it is already there)."""
        return GraphBatch(
            x=self.x.to(device, non_blocking=non_blocking),
            edge_index=self.edge_index.to(device, non_blocking=non_blocking),
            edge_attr=self.edge_attr.to(device, non_blocking=non_blocking),
            rev_edge_index=self.rev_edge_index.to(device, non_blocking=non_blocking),
            batch=self.batch.to(device, non_blocking=non_blocking),
            num_graphs=self.num_graphs,
            x_d=None if self.x_d is None else self.x_d.to(device, non_blocking=non_blocking),
        )

    def pin_memory(self) -> "GraphBatch":
        """Pinned-memory copy (for faster host-to-GPU transfer from a DataLoader)."""
        return GraphBatch(
            x=self.x.pin_memory(),
            edge_index=self.edge_index.pin_memory(),
            edge_attr=self.edge_attr.pin_memory(),
            rev_edge_index=self.rev_edge_index.pin_memory(),
            batch=self.batch.pin_memory(),
            num_graphs=self.num_graphs,
            x_d=None if self.x_d is None else self.x_d.pin_memory(),
        )

    @property
    def num_nodes(self) -> int:
        return int(self.x.shape[0])

    @property
    def num_edges(self) -> int:
        return int(self.edge_index.shape[1])


def _np(t: torch.Tensor) -> np.ndarray:
    """Zero-copy NumPy view of a CPU tensor (copied to host if it lives elsewhere)."""
    return t.detach().cpu().numpy()


def _as_index(indices: Any, n: int) -> np.ndarray:
    """Indices (numpy array, tensor, list, range, bool mask) as a checked 1-D int64 array."""
    if isinstance(indices, torch.Tensor):
        arr = _np(indices)
    else:
        arr = np.asarray(indices)
    if arr.dtype == object:
        raise TypeError("indices must be integers")
    if arr.dtype == np.bool_:
        if arr.size != n:
            raise IndexError(f"boolean mask has {arr.size} entries for {n} molecules")
        return np.flatnonzero(arr).astype(np.int64)
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"indices must be integers, got {arr.dtype}")
    idx = arr.reshape(-1).astype(np.int64, copy=False)
    lo, hi = int(idx.min()), int(idx.max())
    if lo < -n or hi >= n:
        raise IndexError(f"molecule index out of range for {n} molecules (got {lo if lo < -n else hi})")
    if lo < 0:
        idx = np.where(idx < 0, idx + n, idx)
    return idx


def _gather_ranges(ptr: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions of the concatenated slices ``ptr[i]:ptr[i+1]`` for ``i`` in ``idx``.

    Index arithmetic runs in NumPy: ``np.repeat`` is orders of magnitude
    faster than ``torch.repeat_interleave`` on small CPU arrays.

    Returns
    -------
    gather : np.ndarray
        ``[sum(counts)]`` int64 source positions, in the order of ``idx``.
    counts : np.ndarray
        ``[len(idx)]`` int64 slice lengths.
    new_ptr : np.ndarray
        ``[len(idx) + 1]`` int64 offsets of each slice in the output.
    """
    starts = ptr[idx]
    counts = ptr[idx + 1] - starts
    new_ptr = np.zeros(idx.size + 1, dtype=np.int64)
    np.cumsum(counts, out=new_ptr[1:])
    gather = np.arange(int(new_ptr[-1]), dtype=np.int64) + np.repeat(starts - new_ptr[:-1], counts)
    return gather, counts, new_ptr


class PackedGraphs:
    """Many molecular graphs stored as concatenated tensors.

    Parameters
    ----------
    x : torch.Tensor
        ``[N_atoms_total, ATOM_FDIM]`` float32 atom features.
    edge_index : torch.Tensor
        ``[2, E_total]`` int64 directed edges with *local* atom indices.
    edge_attr : torch.Tensor
        ``[E_total, BOND_FDIM]`` float32 features of each directed edge.
    atom_ptr : torch.Tensor
        ``[n_mols + 1]`` int64 atom offsets (``atom_ptr[0] == 0``).
    edge_ptr : torch.Tensor
        ``[n_mols + 1]`` int64 edge offsets; every per-molecule edge count is even.
    featurizer_version : str, optional
        Version string of the featurizer that produced the features (kept on save).
    validate : bool, default True
        Check shapes, dtypes and pointer consistency.
    mol_features : torch.Tensor, optional
        ``[n_mols, D]`` float32 molecule-level descriptors (raw values, NaN
        allowed), carried through :meth:`subset`, :meth:`collate` (as
        ``GraphBatch.x_d``), :meth:`concat` and files; see :meth:`with_mol_features`.
    """

    __slots__ = (
        "x", "edge_index", "edge_attr", "atom_ptr", "edge_ptr", "featurizer_version", "_atom_graph", "mol_features",
    )

    def __init__(
        self,
        x: torch.Tensor,
        edge_index: torch.Tensor,
        edge_attr: torch.Tensor,
        atom_ptr: torch.Tensor,
        edge_ptr: torch.Tensor,
        featurizer_version: str | None = None,
        validate: bool = True,
        mol_features: torch.Tensor | None = None,
    ) -> None:
        self.x = x
        self.edge_index = edge_index
        self.edge_attr = edge_attr
        self.atom_ptr = atom_ptr
        self.edge_ptr = edge_ptr
        self.featurizer_version = featurizer_version
        self.mol_features = mol_features
        self._atom_graph: torch.Tensor | None = None
        if validate:
            self._validate()

    # ------------------------------------------------------------------ checks
    def _validate(self) -> None:
        x, ei, ea, ap, ep = self.x, self.edge_index, self.edge_attr, self.atom_ptr, self.edge_ptr
        if x.dtype != torch.float32 or x.dim() != 2:
            raise ValueError(f"x must be a 2-D float32 tensor, got {x.dtype} {tuple(x.shape)}")
        if ea.dtype != torch.float32 or ea.dim() != 2:
            raise ValueError(f"edge_attr must be a 2-D float32 tensor, got {ea.dtype} {tuple(ea.shape)}")
        if ei.dtype != torch.long or ei.dim() != 2 or ei.shape[0] != 2:
            raise ValueError(f"edge_index must be a [2, E] int64 tensor, got {ei.dtype} {tuple(ei.shape)}")
        if ei.shape[1] != ea.shape[0]:
            raise ValueError(f"edge_index has {ei.shape[1]} edges but edge_attr has {ea.shape[0]} rows")
        for name, p, total in (("atom_ptr", ap, x.shape[0]), ("edge_ptr", ep, ea.shape[0])):
            if p.dtype != torch.long or p.dim() != 1 or p.numel() < 1:
                raise ValueError(f"{name} must be a 1-D int64 tensor with n_mols + 1 entries")
            if int(p[0]) != 0 or int(p[-1]) != total:
                raise ValueError(f"{name} must start at 0 and end at {total}, got {int(p[0])}..{int(p[-1])}")
            if p.numel() > 1 and bool((p[1:] < p[:-1]).any()):
                raise ValueError(f"{name} must be non-decreasing")
        if ap.numel() != ep.numel():
            raise ValueError("atom_ptr and edge_ptr must have the same length")
        md = self.mol_features
        if md is not None and (md.dtype != torch.float32 or md.dim() != 2 or md.shape[0] != ap.numel() - 1):
            raise ValueError(
                f"mol_features must be a [n_mols={ap.numel() - 1}, D] float32 tensor, got {md.dtype} {tuple(md.shape)}"
            )
        apn, epn = _np(ap), _np(ep)
        n_edges = np.diff(epn)
        if (n_edges % 2 != 0).any():
            raise ValueError("every molecule must have an even number of directed edges")
        if ei.shape[1]:
            n_at_edge = np.repeat(np.diff(apn), n_edges)
            ein = _np(ei)
            if (ein < 0).any() or (ein >= n_at_edge).any():
                raise ValueError("edge_index must hold local atom indices within each molecule")

    # ------------------------------------------------------------- basic info
    def __len__(self) -> int:
        return int(self.atom_ptr.numel()) - 1

    def __repr__(self) -> str:
        return (
            f"PackedGraphs(n_mols={len(self)}, n_atoms={self.num_atoms_total}, "
            f"n_edges={self.num_edges_total}, atom_fdim={self.atom_fdim}, bond_fdim={self.bond_fdim})"
        )

    @property
    def num_atoms_total(self) -> int:
        return int(self.x.shape[0])

    @property
    def num_edges_total(self) -> int:
        return int(self.edge_attr.shape[0])

    @property
    def atom_fdim(self) -> int:
        return int(self.x.shape[1])

    @property
    def bond_fdim(self) -> int:
        return int(self.edge_attr.shape[1])

    @property
    def mol_fdim(self) -> int:
        """Number of molecule-level descriptors (0 without them)."""
        return 0 if self.mol_features is None else int(self.mol_features.shape[1])

    def with_mol_features(self, values: Any) -> "PackedGraphs":
        """The same graphs carrying ``values`` (``[n_mols, D]``) as molecule-level descriptors."""
        md = torch.as_tensor(np.asarray(values, dtype=np.float32))
        if md.dim() != 2 or md.shape[0] != len(self):
            raise ValueError(f"mol_features must have shape [n_mols={len(self)}, D], got {tuple(md.shape)}")
        return PackedGraphs(
            self.x, self.edge_index, self.edge_attr, self.atom_ptr, self.edge_ptr, self.featurizer_version,
            validate=False, mol_features=md,
        )

    def _mol_features_at(self, idx: np.ndarray) -> torch.Tensor | None:
        md = self.mol_features
        if md is None:
            return None
        return md.index_select(0, torch.from_numpy(idx).to(md.device))

    @property
    def num_atoms(self) -> torch.Tensor:
        """``[n_mols]`` int64 atoms per molecule."""
        return self.atom_ptr[1:] - self.atom_ptr[:-1]

    @property
    def num_edges(self) -> torch.Tensor:
        """``[n_mols]`` int64 directed edges per molecule (twice the bonds)."""
        return self.edge_ptr[1:] - self.edge_ptr[:-1]

    @property
    def atom_graph(self) -> torch.Tensor:
        """``[N_atoms_total]`` int64 molecule id of every atom (computed once)."""
        if self._atom_graph is None:
            counts = np.diff(_np(self.atom_ptr))
            self._atom_graph = torch.from_numpy(np.repeat(np.arange(len(self), dtype=np.int64), counts))
        return self._atom_graph

    def to(self, device: str | torch.device) -> "PackedGraphs":
        """Copy with the feature and edge tensors on ``device`` (pointers stay on the CPU).

        :meth:`collate` then gathers on that device, e.g. to keep a whole data
        set resident on a GPU.
        """
        return PackedGraphs(
            self.x.to(device),
            self.edge_index.to(device),
            self.edge_attr.to(device),
            self.atom_ptr,
            self.edge_ptr,
            self.featurizer_version,
            validate=False,
            mol_features=None if self.mol_features is None else self.mol_features.to(device),
        )

    # ------------------------------------------------------------- access
    def __getitem__(self, i: int) -> Any:
        """Molecule ``i`` as a PyG ``Data`` (``x``, ``edge_index``, ``edge_attr``, ``rev_edge_index``).

        The returned object is a :class:`MolData`, whose PyG batching shifts
        ``rev_edge_index`` by edge counts.
        """
        n = len(self)
        if isinstance(i, (np.integer,)):
            i = int(i)
        if not isinstance(i, int):
            raise TypeError("PackedGraphs[i] takes an int; use subset() or collate() for many")
        if i < -n or i >= n:
            raise IndexError(f"molecule index {i} out of range for {n} molecules")
        i %= n
        a0, a1 = int(self.atom_ptr[i]), int(self.atom_ptr[i + 1])
        e0, e1 = int(self.edge_ptr[i]), int(self.edge_ptr[i + 1])
        return _moldata_class()(
            x=self.x[a0:a1],
            edge_index=self.edge_index[:, e0:e1],
            edge_attr=self.edge_attr[e0:e1],
            rev_edge_index=torch.arange(e1 - e0, dtype=torch.long) ^ 1,
            num_nodes=a1 - a0,
        )

    def to_data_list(self) -> list[Any]:
        """All molecules as a list of :class:`MolData` (views, no copies of features)."""
        return [self[i] for i in range(len(self))]

    def subset(self, indices: Any) -> "PackedGraphs":
        """A new :class:`PackedGraphs` with the molecules ``indices`` (in that order).

        Parameters
        ----------
        indices : array-like of int, torch.Tensor or bool mask
            Molecule positions; repeats are allowed.
        """
        idx = _as_index(indices, len(self))
        agather, _, new_aptr = _gather_ranges(_np(self.atom_ptr), idx)
        egather, _, new_eptr = _gather_ranges(_np(self.edge_ptr), idx)
        if NUMPY_GATHER_ON_CPU and self.x.device.type == "cpu":
            return PackedGraphs(
                x=torch.from_numpy(np.take(_np(self.x), agather, axis=0)),
                edge_index=torch.from_numpy(np.take(_np(self.edge_index), egather, axis=1)),
                edge_attr=torch.from_numpy(np.take(_np(self.edge_attr), egather, axis=0)),
                atom_ptr=torch.from_numpy(new_aptr),
                edge_ptr=torch.from_numpy(new_eptr),
                featurizer_version=self.featurizer_version,
                validate=False,
                mol_features=self._mol_features_at(idx),
            )
        ag = torch.from_numpy(agather).to(self.x.device)
        eg = torch.from_numpy(egather).to(self.x.device)
        return PackedGraphs(
            x=self.x.index_select(0, ag),
            edge_index=self.edge_index.index_select(1, eg),
            edge_attr=self.edge_attr.index_select(0, eg),
            atom_ptr=torch.from_numpy(new_aptr),
            edge_ptr=torch.from_numpy(new_eptr),
            featurizer_version=self.featurizer_version,
            validate=False,
            mol_features=self._mol_features_at(idx),
        )

    def collate(self, indices: Any) -> GraphBatch:
        """Batch the molecules ``indices`` into one disconnected graph.

        Vectorized: gather positions and per-edge atom offsets are computed
        with NumPy (``np.repeat``; ``torch.repeat_interleave`` is far slower
        on small CPU arrays) and applied with ``np.take`` for CPU tensors
        (single-threaded: no OpenMP stalls when DataLoader workers share the
        CPU) or ``index_select`` on other devices; there is no Python loop over
        molecules. Outputs live on the device of ``x``.

        Parameters
        ----------
        indices : np.ndarray or torch.Tensor
            ``[B]`` molecule positions (graph ``j`` of the batch is molecule ``indices[j]``).

        Returns
        -------
        GraphBatch
            ``x [N, ATOM_FDIM]``, ``edge_index [2, E]`` (global), ``edge_attr [E, BOND_FDIM]``,
            ``rev_edge_index [E]``, ``batch [N]``, ``num_graphs = B``, and
            ``x_d [B, D]`` when the graphs carry molecule-level descriptors.
        """
        idx = _as_index(indices, len(self))
        b = int(idx.size)
        agather, acounts, new_aptr = _gather_ranges(_np(self.atom_ptr), idx)
        egather, ecounts, _ = _gather_ranges(_np(self.edge_ptr), idx)
        n_edges = int(egather.size)
        offsets = np.repeat(new_aptr[:-1], ecounts)
        batch = np.repeat(np.arange(b, dtype=np.int64), acounts)
        rev = np.arange(n_edges, dtype=np.int64) ^ 1
        if NUMPY_GATHER_ON_CPU and self.x.device.type == "cpu":
            # NumPy gathers: single-threaded, so no OpenMP stalls on a busy machine
            x = torch.from_numpy(np.take(_np(self.x), agather, axis=0))
            edge_attr = torch.from_numpy(np.take(_np(self.edge_attr), egather, axis=0))
            edge_index = torch.from_numpy(np.take(_np(self.edge_index), egather, axis=1) + offsets)
            return GraphBatch(
                x, edge_index, edge_attr, torch.from_numpy(rev), torch.from_numpy(batch), b, self._mol_features_at(idx)
            )
        dev = self.x.device
        eg = torch.from_numpy(egather).to(dev)
        return GraphBatch(
            x=self.x.index_select(0, torch.from_numpy(agather).to(dev)),
            edge_index=self.edge_index.index_select(1, eg) + torch.from_numpy(offsets).to(dev),
            edge_attr=self.edge_attr.index_select(0, eg),
            rev_edge_index=torch.from_numpy(rev).to(dev),
            batch=torch.from_numpy(batch).to(dev),
            num_graphs=b,
            x_d=self._mol_features_at(idx),
        )

    # ------------------------------------------------------------- combine
    @staticmethod
    def concat(parts: Sequence["PackedGraphs"]) -> "PackedGraphs":
        """Concatenate several :class:`PackedGraphs` (molecule order kept)."""
        parts = list(parts)
        if not parts:
            raise ValueError("concat needs at least one PackedGraphs")
        versions = {p.featurizer_version for p in parts}
        if len(versions) > 1:
            raise ValueError(f"cannot concat graphs from different featurizer versions: {sorted(map(str, versions))}")
        if len({(p.atom_fdim, p.bond_fdim, p.mol_fdim, p.mol_features is None) for p in parts}) > 1:
            raise ValueError("cannot concat graphs with different feature dimensions")
        if len(parts) == 1:
            p = parts[0]
            return PackedGraphs(
                p.x, p.edge_index, p.edge_attr, p.atom_ptr, p.edge_ptr, p.featurizer_version, False, p.mol_features
            )
        aptrs, eptrs = [torch.zeros(1, dtype=torch.long)], [torch.zeros(1, dtype=torch.long)]
        a_off = e_off = 0
        for p in parts:
            aptrs.append(p.atom_ptr[1:] + a_off)
            eptrs.append(p.edge_ptr[1:] + e_off)
            a_off += p.num_atoms_total
            e_off += p.num_edges_total
        return PackedGraphs(
            x=torch.cat([p.x for p in parts], 0),
            edge_index=torch.cat([p.edge_index for p in parts], 1),
            edge_attr=torch.cat([p.edge_attr for p in parts], 0),
            atom_ptr=torch.cat(aptrs),
            edge_ptr=torch.cat(eptrs),
            featurizer_version=parts[0].featurizer_version,
            validate=False,
            mol_features=None if parts[0].mol_features is None else torch.cat([p.mol_features for p in parts], 0),
        )

    # ------------------------------------------------------------- files
    def state_dict(self) -> dict[str, Any]:
        """Plain dict of tensors and strings (what :meth:`save` writes)."""
        return {
            "format": "discovery.PackedGraphs",
            "format_version": PACKED_FORMAT_VERSION,
            "featurizer_version": self.featurizer_version,
            "x": self.x.contiguous(),
            "edge_index": self.edge_index.contiguous(),
            "edge_attr": self.edge_attr.contiguous(),
            "atom_ptr": self.atom_ptr.contiguous(),
            "edge_ptr": self.edge_ptr.contiguous(),
            **({} if self.mol_features is None else {"mol_features": self.mol_features.contiguous()}),
        }

    def save(self, path: str | os.PathLike) -> None:
        """Write to ``path`` atomically (``torch.save`` of :meth:`state_dict`)."""
        from discovery.fsutil import atomic_path

        with atomic_path(path) as tmp:
            torch.save(self.state_dict(), tmp)

    @classmethod
    def load(cls, path: str | os.PathLike, validate: bool = True) -> "PackedGraphs":
        """Read a file written by :meth:`save` (``weights_only`` loading, no pickled classes).

        Raises
        ------
        ValueError
            If the file is not a PackedGraphs file or its format version is unknown.
        """
        path = Path(path)
        state = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(state, dict) or state.get("format") != "discovery.PackedGraphs":
            raise ValueError(f"{path}: not a PackedGraphs file")
        if state.get("format_version") != PACKED_FORMAT_VERSION:
            raise ValueError(
                f"{path}: PackedGraphs format version {state.get('format_version')!r}, "
                f"this code reads {PACKED_FORMAT_VERSION}"
            )
        return cls(
            x=state["x"],
            edge_index=state["edge_index"],
            edge_attr=state["edge_attr"],
            atom_ptr=state["atom_ptr"],
            edge_ptr=state["edge_ptr"],
            featurizer_version=state.get("featurizer_version"),
            validate=validate,
            mol_features=state.get("mol_features"),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PackedGraphs):
            return NotImplemented
        return (
            torch.equal(self.atom_ptr, other.atom_ptr)
            and torch.equal(self.edge_ptr, other.edge_ptr)
            and torch.equal(self.edge_index, other.edge_index)
            and torch.equal(self.x, other.x)
            and torch.equal(self.edge_attr, other.edge_attr)
            and (self.mol_features is None) == (other.mol_features is None)
            and (self.mol_features is None or torch.equal(self.mol_features.nan_to_num(), other.mol_features.nan_to_num()))
        )

    __hash__ = None  # type: ignore[assignment]
