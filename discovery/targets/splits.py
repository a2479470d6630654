"""Leakage-free link splits of a knowledge graph.

Two protocols, both on a list of *target* edge types (e.g. DaG and CtD):

``random``
    Each target edge goes to train / validation / test at random.
``disease``
    Whole diseases are held out: *every* target edge touching a held-out
    disease is removed from training (the zero-shot setting of TxGNN, where
    the model never saw any indication of the test disease).

The training graph keeps only training edges of the target types (all other
edge types are kept whole). Reverse relations are generated later from the
training graph (:meth:`KnowledgeGraph.to_heterodata`), so a held-out edge can
never come back as its reverse; for undirected same-type relations the mirrored
pair is removed too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Literal, Sequence

import numpy as np

from ..errors import InputError
from .kg import EdgeType, KnowledgeGraph, edge_label, parse_edge_type

SplitKind = Literal["random", "disease"]


@dataclass
class LinkSplit:
    """A split of target edges plus the training graph.

    Attributes
    ----------
    kind : {"random", "disease"}
    seed : int
    train_graph : KnowledgeGraph
        Every non-target edge, plus the training edges of the target types.
    positives : dict of EdgeType to dict of str to ndarray
        ``positives[et]["train"|"val"|"test"]``: ``(2, E)`` index arrays.
    held_out : dict of str to ndarray
        For ``kind="disease"``: disease indices in ``"val"`` and ``"test"``.
    """

    kind: str
    seed: int
    train_graph: KnowledgeGraph
    positives: dict[EdgeType, dict[str, np.ndarray]]
    held_out: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def target_types(self) -> list[EdgeType]:
        return list(self.positives)

    def all_positives(self, et: EdgeType) -> np.ndarray:
        """Train + val + test edges of ``et`` (for filtering)."""
        p = self.positives[et]
        return np.concatenate([p["train"], p["val"], p["test"]], axis=1)

    def summary(self) -> dict:
        out = {"kind": self.kind, "seed": self.seed, "edges": {}}
        for et, p in self.positives.items():
            out["edges"][edge_label(et)] = {k: int(v.shape[1]) for k, v in p.items()}
        for k, v in self.held_out.items():
            out[f"held_out_{k}"] = int(len(v))
        return out


def _fractions(sizes: Sequence[float]) -> tuple[float, float, float]:
    if len(sizes) != 3 or any(s < 0 for s in sizes) or abs(sum(sizes) - 1) > 1e-6:
        raise InputError("split sizes must be 3 non-negative fractions summing to 1", value=list(sizes))
    return float(sizes[0]), float(sizes[1]), float(sizes[2])


def make_link_split(
    kg: KnowledgeGraph,
    target: Iterable[str | EdgeType],
    *,
    kind: SplitKind = "random",
    sizes: Sequence[float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    holdout_type: str = "Disease",
) -> LinkSplit:
    """Split the edges of the target types.

    Parameters
    ----------
    kg : KnowledgeGraph
    target : iterable of edge types
        e.g. ``["DaG", "CtD"]``.
    kind : {"random", "disease"}
        ``"disease"`` holds out nodes of ``holdout_type`` (fractions of the nodes that have
        at least one target edge); every target edge touching them leaves training.
    sizes : (train, val, test) fractions
    seed : int

    Returns
    -------
    LinkSplit

    Raises
    ------
    InputError
        An edge type is absent, or no target edge touches ``holdout_type``.
    """
    f_tr, f_va, f_te = _fractions(sizes)
    ets = [parse_edge_type(t) for t in target]
    for et in ets:
        if et not in kg.edges:
            raise InputError(f"edge type {edge_label(et)} is not in the graph", value=edge_label(et),
                             hint="present: " + ", ".join(edge_label(e) for e in kg.edges))
    rng = np.random.default_rng(seed)
    positives: dict[EdgeType, dict[str, np.ndarray]] = {}
    held: dict[str, np.ndarray] = {}
    if kind == "random":
        for et in ets:
            e = kg.edges[et]
            perm = rng.permutation(e.shape[1])
            n_te = int(round(f_te * len(perm)))
            n_va = int(round(f_va * len(perm)))
            te, va, tr = perm[:n_te], perm[n_te:n_te + n_va], perm[n_te + n_va:]
            positives[et] = {"train": e[:, np.sort(tr)], "val": e[:, np.sort(va)], "test": e[:, np.sort(te)]}
    elif kind == "disease":
        sides = {et: [i for i, t in ((0, et[0]), (2, et[2])) if t == holdout_type] for et in ets}
        if any(not s for s in sides.values()):
            bad = [edge_label(et) for et, s in sides.items() if not s]
            raise InputError(f"held-out type {holdout_type} is not an end of {bad}", value=holdout_type)
        nodes = np.unique(np.concatenate([kg.edges[et][0 if s[0] == 0 else 1] for et, s in sides.items()]))
        perm = rng.permutation(nodes)
        n_te = max(1, int(round(f_te * len(perm))))
        n_va = int(round(f_va * len(perm)))
        test_nodes, val_nodes = np.sort(perm[:n_te]), np.sort(perm[n_te:n_te + n_va])
        held = {"val": val_nodes, "test": test_nodes}
        for et in ets:
            e = kg.edges[et]
            d = e[0 if sides[et][0] == 0 else 1]
            in_te, in_va = np.isin(d, test_nodes), np.isin(d, val_nodes)
            positives[et] = {"train": e[:, ~in_te & ~in_va], "val": e[:, in_va], "test": e[:, in_te]}
    else:
        raise InputError("unknown split kind", value=kind, hint="random or disease")
    edges = dict(kg.edges)
    for et in ets:
        edges[et] = positives[et]["train"]
        if et[0] == et[2]:
            # undirected same-type relation: a held-out a-b must not survive as b-a
            held_pairs = np.concatenate([positives[et]["val"], positives[et]["test"]], axis=1)
            n = kg.num_nodes(et[0])
            bad = set((held_pairs[1] * n + held_pairs[0]).tolist())
            tr = edges[et]
            edges[et] = tr[:, ~np.isin(tr[0] * n + tr[1], list(bad))]
    return LinkSplit(kind, seed, kg.copy_with_edges(edges), positives, held)
