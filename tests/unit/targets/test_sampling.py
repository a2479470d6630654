"""The PyTorch heterogeneous neighbour sampler behind LinkNeighborLoader / NeighborLoader."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch

from discovery.targets.sampling import HeteroNeighborSampler, neighbor_sampler

pytest.importorskip("torch_geometric")
from torch_geometric.data import HeteroData  # noqa: E402
from torch_geometric.loader import LinkNeighborLoader, NeighborLoader  # noqa: E402

R = ("a", "r", "b")
RR = ("b", "rev_r", "a")
S = ("b", "s", "b")


def _graph(seed: int = 0) -> HeteroData:
    g = torch.Generator().manual_seed(seed)
    d = HeteroData()
    d["a"].num_nodes, d["b"].num_nodes = 30, 40
    ei = torch.stack([torch.randint(0, 30, (200,), generator=g), torch.randint(0, 40, (200,), generator=g)])
    ei = torch.unique(ei, dim=1)
    d[R].edge_index = ei
    d[RR].edge_index = ei.flip(0)
    d[S].edge_index = torch.unique(torch.randint(0, 40, (2, 120), generator=g), dim=1)
    return d


def _global_edges(batch, et):
    e = batch[et].edge_index
    return torch.stack([batch[et[0]].n_id[e[0]], batch[et[2]].n_id[e[1]]])


def _edge_set(d, et):
    return set(map(tuple, d[et].edge_index.t().tolist()))


def test_full_fanout_is_the_exact_in_neighbourhood():
    """With -1 (all neighbours) two hops give exactly the 2-hop in-neighbourhood, every edge into expanded nodes."""
    d = _graph()
    sampler = HeteroNeighborSampler(d, {et: [-1, -1] for et in d.edge_types})
    seeds = torch.tensor([3, 7])
    batch = next(iter(NeighborLoader(d, num_neighbors={et: [-1, -1] for et in d.edge_types},
                                     input_nodes=("b", seeds), batch_size=2, neighbor_sampler=sampler)))
    # hand-made BFS over incoming edges
    nodes = {"a": set(), "b": set(seeds.tolist())}
    frontier = {"a": set(), "b": set(seeds.tolist())}
    expected_edges = {et: set() for et in d.edge_types}
    for _ in range(2):
        new = {"a": set(), "b": set()}
        for et in d.edge_types:
            for s, t in _edge_set(d, et):
                if t in frontier[et[2]]:
                    expected_edges[et].add((s, t))
                    if s not in nodes[et[0]]:
                        new[et[0]].add(s)
        for t in nodes:
            nodes[t] |= new[t]
        frontier = new
    for t in ("a", "b"):
        got = batch[t].n_id.tolist()
        assert len(got) == len(set(got)), "a node appears twice"
        assert set(got) == nodes[t]
    assert batch["b"].n_id[:2].tolist() == [3, 7]  # seeds first, in order
    for et in d.edge_types:
        assert set(map(tuple, _global_edges(batch, et).t().tolist())) == expected_edges[et]


def test_fanout_bound_edges_exist_and_reproducible():
    d = _graph(1)
    fan = {et: [3, 2] for et in d.edge_types}

    def sample(seed):
        torch.manual_seed(seed)
        loader = NeighborLoader(d, num_neighbors=fan, input_nodes=("b", torch.arange(10)), batch_size=10,
                                neighbor_sampler=HeteroNeighborSampler(d, fan))
        return next(iter(loader))

    b = sample(0)
    for et in d.edge_types:
        ge = _global_edges(b, et)
        pairs = list(map(tuple, ge.t().tolist()))
        assert set(pairs) <= _edge_set(d, et)
        assert len(pairs) == len(set(pairs))
        # at most 3 sampled in-edges per seed node per edge type (a node is expanded once, at hop 1)
        if et[2] == "b":
            per_dst = Counter(t for s, t in pairs if t < 10)
            assert max(per_dst.values(), default=0) <= 3
    b2, b3 = sample(0), sample(1)
    assert torch.equal(b["a"].n_id, b2["a"].n_id) and torch.equal(b[R].edge_index, b2[R].edge_index)
    assert not (torch.equal(b["a"].n_id, b3["a"].n_id) and torch.equal(b[R].edge_index, b3[R].edge_index))


def test_uniform_without_replacement():
    """One destination with 10 neighbours, k=3: each neighbour drawn ~30% of the time, never twice at once."""
    d = HeteroData()
    d["a"].num_nodes, d["b"].num_nodes = 10, 1
    d[R].edge_index = torch.stack([torch.arange(10), torch.zeros(10, dtype=torch.long)])
    s = HeteroNeighborSampler(d, {R: [3]})
    torch.manual_seed(0)
    counts = np.zeros(10)
    n = 3000
    for _ in range(n):
        out = s._sample({"b": torch.tensor([0]), "a": torch.zeros(0, dtype=torch.long)})
        got = out.node["a"].tolist()
        assert len(got) == 3 == len(set(got))
        counts[got] += 1
    p = counts / n
    assert np.all(np.abs(p - 0.3) < 0.04), p


def test_link_loader_triplet_batches_map_back_to_supervision_edges():
    d = _graph(2)
    sup = d[R].edge_index[:, :50]
    fan = {et: [5, 3] for et in d.edge_types}
    loader = LinkNeighborLoader(d, num_neighbors=fan, edge_label_index=(R, sup),
                                neg_sampling={"mode": "triplet", "amount": 4}, batch_size=16, shuffle=False,
                                neighbor_sampler=neighbor_sampler(d, fan))
    seen = 0
    for b in loader:
        q = b["a"].n_id[b["a"].src_index]
        pos = b["b"].n_id[b["b"].dst_pos_index]
        assert torch.equal(torch.stack([q, pos]), sup[:, seen:seen + len(q)])
        assert b["b"].dst_neg_index.shape == (len(q), 4)
        seen += len(q)
    assert seen == 50


def test_rejects_what_it_does_not_implement():
    d = _graph()
    with pytest.raises(ValueError, match="replacement"):
        HeteroNeighborSampler(d, [2], replace=True)
