"""Heterogeneous neighbour sampling for PyG's ``LinkNeighborLoader`` / ``NeighborLoader`` without compiled extensions.

PyG's :class:`~torch_geometric.sampler.NeighborSampler` samples through ``pyg-lib``
or ``torch-sparse``. Neither has a wheel on PyPI for the PyTorch pinned here (``pyg-lib``
is published only on data.pyg.org, ``torch-sparse`` only as a source tarball), so
:class:`HeteroNeighborSampler` implements the same *directional* heterogeneous
sampling in PyTorch tensor operations and is handed to the loaders through their
``neighbor_sampler`` argument. Where ``pyg-lib`` is installed (the GPU install in the
README), :func:`neighbor_sampler` returns PyG's own sampler instead.

Semantics follow ``torch_sparse.hetero_neighbor_sample``: seeds come first in each
type's node list; at hop ``l`` every node added at hop ``l - 1`` draws, per incoming
edge type, up to ``num_neighbors[edge type][l]`` distinct neighbours uniformly without
replacement (``-1``: all); a node already in the subgraph is not added again and is
expanded only once. Randomness comes from PyTorch's global generator, so
``torch.manual_seed`` / ``lightning.seed_everything`` make batches reproducible.
"""

from __future__ import annotations

from typing import Any

import torch


def _sampler_base():
    from torch_geometric.sampler import NeighborSampler

    return NeighborSampler


class HeteroNeighborSampler(_sampler_base()):  # type: ignore[misc]
    """:class:`torch_geometric.sampler.NeighborSampler` whose heterogeneous sampling runs in PyTorch.

    Only what link prediction here needs is supported: heterogeneous in-memory
    :class:`~torch_geometric.data.HeteroData`, directional subgraphs, sampling
    without replacement, no temporal or weighted sampling, no disjoint trees.
    """

    def __init__(self, data: Any, num_neighbors: Any, **kwargs: Any) -> None:
        import warnings

        for bad in ("time_attr", "weight_attr"):
            if kwargs.get(bad) is not None:
                raise ValueError(f"HeteroNeighborSampler does not support {bad}")
        if kwargs.get("replace") or kwargs.get("disjoint"):
            raise ValueError("HeteroNeighborSampler samples without replacement and without disjoint trees")
        if kwargs.get("subgraph_type", "directional") not in ("directional",):
            raise ValueError("HeteroNeighborSampler builds directional subgraphs only")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PyG warns that sampling without pyg-lib is deprecated
            super().__init__(data, num_neighbors, **kwargs)
        if not self.is_hetero:
            raise ValueError("HeteroNeighborSampler needs a HeteroData graph")
        # global id -> local index in the batch being sampled (-1: not in it); reset after each batch,
        # so a batch costs its own size, not the graph's
        self._index = {t: torch.full((int(data[t].num_nodes),), -1, dtype=torch.long) for t in data.node_types}

    def _sample(self, seed: Any, seed_time: Any = None, **kwargs: Any):
        from torch_geometric.sampler import HeteroSamplerOutput
        from torch_geometric.sampler.utils import remap_keys

        if not isinstance(seed, dict) or seed_time is not None:
            raise ValueError("HeteroNeighborSampler samples heterogeneous graphs without time")
        fanouts = self.num_neighbors.get_mapped_values(self.edge_types)  # rel string -> [k per hop]
        hops = self.num_neighbors.num_hops
        nodes = {t: [] for t in self.node_types}  # per type: list of global-id tensors, in order added
        index = self._index
        count = {t: 0 for t in self.node_types}

        def add(t: str, ids: torch.Tensor) -> torch.Tensor:
            """Local indices of global ``ids`` of type ``t``, adding unseen ones (first occurrence order)."""
            if ids.numel() == 0:
                return ids.new_zeros(0)
            uniq = _first_unique(ids)
            new = uniq[index[t][uniq] < 0]
            if new.numel():
                index[t][new] = torch.arange(count[t], count[t] + new.numel())
                count[t] += new.numel()
                nodes[t].append(new)
            return index[t][ids]

        try:
            for t, s in seed.items():
                add(t, s.long())
            # frontier per type: (local indices, global ids) of the nodes added at the previous hop
            frontier = {t: (torch.arange(count[t]), torch.cat(nodes[t])) for t in self.node_types if nodes[t]}
            n_nodes_hop: dict[str, list[int]] = {t: [count[t]] for t in self.node_types}
            rows: dict[str, list[torch.Tensor]] = {r: [] for r in self.colptr_dict}
            cols: dict[str, list[torch.Tensor]] = {r: [] for r in self.colptr_dict}
            eids: dict[str, list[torch.Tensor]] = {r: [] for r in self.colptr_dict}
            n_edges_hop: dict[str, list[int]] = {r: [] for r in self.colptr_dict}
            for hop in range(hops):
                start, chunks = dict(count), {t: len(v) for t, v in nodes.items()}
                for rel, colptr in self.colptr_dict.items():
                    src_t, _, dst_t = self.to_edge_type[rel]
                    k = fanouts[rel][hop] if hop < len(fanouts[rel]) else 0
                    if k == 0 or dst_t not in frontier:
                        n_edges_hop[rel].append(0)
                        continue
                    fr_local, fr_global = frontier[dst_t]
                    pos, owner = _draw(colptr, fr_global, k)
                    rows[rel].append(add(src_t, self.row_dict[rel][pos]))
                    cols[rel].append(fr_local[owner])
                    eids[rel].append(pos)
                    n_edges_hop[rel].append(int(pos.numel()))
                frontier = {t: (torch.arange(start[t], count[t]), torch.cat(nodes[t][chunks[t]:]))
                            for t in self.node_types if count[t] > start[t]}
                for t in self.node_types:
                    n_nodes_hop[t].append(count[t] - start[t])
        finally:
            for t, v in nodes.items():
                for ids in v:
                    index[t][ids] = -1
        cat = lambda xs: torch.cat(xs) if xs else torch.zeros(0, dtype=torch.long)  # noqa: E731
        node = {t: cat(v) for t, v in nodes.items()}
        row = remap_keys({r: cat(v) for r, v in rows.items()}, self.to_edge_type)
        col = remap_keys({r: cat(v) for r, v in cols.items()}, self.to_edge_type)
        edge = remap_keys({r: cat(v) for r, v in eids.items()}, self.to_edge_type)
        nse = remap_keys(n_edges_hop, self.to_edge_type)
        return HeteroSamplerOutput(node=node, row=row, col=col, edge=edge, batch=None,
                                   num_sampled_nodes=n_nodes_hop, num_sampled_edges=nse)


def _first_unique(ids: torch.Tensor) -> torch.Tensor:
    """Unique values of ``ids`` in order of first occurrence."""
    uniq, inv = torch.unique(ids, return_inverse=True)
    first = torch.full((uniq.numel(),), ids.numel(), dtype=torch.long)
    first.scatter_reduce_(0, inv, torch.arange(ids.numel()), reduce="amin")
    order = torch.argsort(first)
    return uniq[order]


def _draw(colptr: torch.Tensor, dst: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Up to ``k`` CSC positions per destination in ``dst``, uniformly without replacement (``k < 0``: all).

    Returns the positions and, for each, the index into ``dst`` it was drawn for.
    """
    lo, hi = colptr[dst], colptr[dst + 1]
    deg = hi - lo
    owner = torch.repeat_interleave(torch.arange(dst.numel()), deg)
    if owner.numel() == 0:
        return owner.new_zeros(0), owner
    base = torch.repeat_interleave(lo - torch.cumsum(deg, 0) + deg, deg)
    pos = base + torch.arange(owner.numel())
    if k < 0 or int(deg.max()) <= k:
        return pos, owner
    # rank a random key within each destination's neighbours; keep the k smallest
    key = torch.rand(owner.numel())
    order = torch.argsort(owner.double() * 2.0 + key.double(), stable=True)
    start = torch.cumsum(deg, 0) - deg
    rank = torch.empty_like(order)
    rank[order] = torch.arange(order.numel()) - torch.repeat_interleave(start, deg)
    keep = rank < k
    return pos[keep], owner[keep]


def neighbor_sampler(data: Any, num_neighbors: Any, **kwargs: Any):
    """PyG's sampler when ``pyg-lib`` or ``torch-sparse`` is installed, else :class:`HeteroNeighborSampler`."""
    import torch_geometric.typing as pyg_typing

    if pyg_typing.WITH_PYG_LIB or pyg_typing.WITH_TORCH_SPARSE:
        return _sampler_base()(data, num_neighbors, **kwargs)
    return HeteroNeighborSampler(data, num_neighbors, **kwargs)
