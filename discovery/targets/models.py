"""Link-prediction models behind one interface, chosen by name from :data:`MODELS`.

Every model has ``fit(split, tasks, seed)`` and ``scores(task, queries) ->
(len(queries), n_candidates)`` (higher = more likely linked), so the
evaluation harness (:mod:`discovery.targets.evaluate`) treats ours, the
baselines and peers the same way.

========== ==============================================================
name       model
========== ==============================================================
degree     degree prior: a candidate's number of training edges of the task relation
pathcount  Rephetio-style degree-weighted path counts + elastic-net logistic regression
distmult   DistMult knowledge-graph embedding trained on every relation (own torch code)
rgcn       R-GCN encoder (PyG) + DistMult decoder, Lightning, full batch
hgt        HGT encoder (PyG) + DistMult decoder, Lightning, full batch
========== ==============================================================
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import ConfigError
from .evaluate import Task
from .kg import EdgeType, KnowledgeGraph
from .splits import LinkSplit

log = logging.getLogger(__name__)


class DegreePrior:
    """Score = the candidate's degree in the task relation on the training graph.

    Ties are broken by the candidate's total degree (all edge types) times 1e-6,
    so the baseline is a ranking, not a constant.
    """

    name = "degree"

    def __init__(self, **_: Any) -> None:
        self.deg: dict[Task, np.ndarray] = {}

    def fit(self, split: LinkSplit, tasks: Sequence[Task], seed: int = 0) -> "DegreePrior":
        g = split.train_graph
        for task in tasks:
            n = g.num_nodes(task.answer_type)
            _, a = task.pairs(split.positives[task.edge_type]["train"])
            total = np.zeros(n)
            for et, e in g.edges.items():
                if et[0] == task.answer_type:
                    total += np.bincount(e[0], minlength=n)
                if et[2] == task.answer_type:
                    total += np.bincount(e[1], minlength=n)
            self.deg[task] = np.bincount(a, minlength=n).astype(np.float64) + 1e-6 * total
        self.graph = g
        return self

    def scores(self, task: Task, queries: np.ndarray) -> np.ndarray:
        return np.tile(self.deg[task], (len(queries), 1))


def global_index(kg: KnowledgeGraph) -> dict[str, int]:
    """Offset of each node type in one global entity index (types in ``kg.node_types`` order)."""
    off, out = 0, {}
    for t in kg.node_types:
        out[t] = off
        off += kg.num_nodes(t)
    return out


def all_triples(kg: KnowledgeGraph) -> tuple[np.ndarray, list[EdgeType]]:
    """``(E, 3)`` global (head, relation, tail) triples and the relation list."""
    off = global_index(kg)
    rels = list(kg.edges)
    parts = []
    for r, et in enumerate(rels):
        e = kg.edges[et]
        parts.append(np.stack([e[0] + off[et[0]], np.full(e.shape[1], r), e[1] + off[et[2]]], axis=1))
    return np.concatenate(parts).astype(np.int64), rels


class DistMultKGE:
    """DistMult (Yang et al. 2015) trained on every relation of the training graph.

    :math:`f(h, r, t) = \\sum_i e_{h,i}\\, w_{r,i}\\, e_{t,i}`, trained with the
    logistic loss against ``negatives`` type-consistent corrupted tails and heads
    per edge (Adam, mini-batches), with early stopping on validation MRR
    of the task relations.

    Parameters
    ----------
    dim, epochs, batch_size, lr, negatives, weight_decay, patience : model and training settings.
    """

    name = "distmult"

    def __init__(self, dim: int = 128, epochs: int = 30, batch_size: int = 8192, lr: float = 0.01,
                 negatives: int = 4, l2: float = 1e-6, patience: int = 3, max_minutes: float = 8.0, **_: Any) -> None:
        self.dim, self.epochs, self.batch_size, self.lr = dim, epochs, batch_size, lr
        self.negatives, self.l2, self.patience, self.max_minutes = negatives, l2, patience, max_minutes
        self.history: list[dict[str, float]] = []

    def fit(self, split: LinkSplit, tasks: Sequence[Task], seed: int = 0) -> "DistMultKGE":
        import torch

        from .evaluate import evaluate_task

        torch.manual_seed(seed)
        g = split.train_graph
        self.graph = g
        self.off, triples, self.rels, n_ent = indexed_triples(g)
        # type range of each relation's head and tail, for type-consistent corruption
        lo_h = torch.tensor([self.off[et[0]] for et in self.rels])
        n_h = torch.tensor([g.num_nodes(et[0]) for et in self.rels])
        lo_t = torch.tensor([self.off[et[2]] for et in self.rels])
        n_t = torch.tensor([g.num_nodes(et[2]) for et in self.rels])
        self.ent = torch.nn.Embedding(n_ent, self.dim)
        self.rel = torch.nn.Embedding(len(self.rels), self.dim)
        torch.nn.init.xavier_uniform_(self.ent.weight)
        torch.nn.init.xavier_uniform_(self.rel.weight)
        params = list(self.ent.parameters()) + list(self.rel.parameters())
        opt = torch.optim.Adam(params, lr=self.lr)
        T = torch.from_numpy(triples)
        gen = torch.Generator().manual_seed(seed)
        best, best_state, bad = -1.0, None, 0
        t0 = time.perf_counter()
        for epoch in range(self.epochs):
            perm = torch.randperm(len(T), generator=gen)
            tot = 0.0
            for b in range(0, len(T), self.batch_size):
                batch = T[perm[b:b + self.batch_size]]
                h, r, t = batch[:, 0], batch[:, 1], batch[:, 2]
                k = self.negatives
                rr = r.repeat_interleave(k)
                corrupt_tail = torch.rand(len(rr), generator=gen) < 0.5
                rand = torch.rand(len(rr), generator=gen)
                new_t = lo_t[rr] + (rand * n_t[rr]).long()
                new_h = lo_h[rr] + (rand * n_h[rr]).long()
                nh = torch.where(corrupt_tail, h.repeat_interleave(k), new_h)
                nt = torch.where(corrupt_tail, new_t, t.repeat_interleave(k))
                pos = self._score(h, r, t)
                neg = self._score(nh, rr, nt)
                loss = torch.nn.functional.softplus(-pos).mean() + torch.nn.functional.softplus(neg).mean()
                loss = loss + self.l2 * (self.ent(h).pow(2).sum(1).mean() + self.ent(t).pow(2).sum(1).mean())
                opt.zero_grad()
                loss.backward()
                opt.step()
                tot += loss.detach().item() * len(batch)
            val = [evaluate_task(self, split, task, part="val")["mrr"] for task in tasks
                   if split.positives[task.edge_type]["val"].shape[1]]
            vmrr = float(np.mean(val)) if val else -float(tot)
            self.history.append({"epoch": epoch, "loss": tot / len(T), "val_mrr": vmrr})
            log.info("distmult epoch %d loss %.4f val MRR %.4f", epoch, tot / len(T), vmrr)
            if vmrr > best:
                best, bad = vmrr, 0
                best_state = (self.ent.weight.detach().clone(), self.rel.weight.detach().clone())
            else:
                bad += 1
                if bad >= self.patience:
                    break
            if time.perf_counter() - t0 > 60 * self.max_minutes:
                log.warning("distmult: stopping after %.1f min (max_minutes)", self.max_minutes)
                break
        if best_state is not None:
            with torch.no_grad():
                self.ent.weight.copy_(best_state[0])
                self.rel.weight.copy_(best_state[1])
        return self

    def _score(self, h, r, t):
        return (self.ent(h) * self.rel(r) * self.ent(t)).sum(-1)

    def scores(self, task: Task, queries: np.ndarray) -> np.ndarray:
        import torch

        et = task.edge_type
        r = self.rels.index(et)
        with torch.no_grad():
            q = self.ent.weight[torch.as_tensor(queries) + self.off[task.query_type]]
            n = self.graph.num_nodes(task.answer_type)
            c = self.ent.weight[self.off[task.answer_type]:self.off[task.answer_type] + n]
            return ((q * self.rel.weight[r]) @ c.T).numpy()



def indexed_triples(kg: KnowledgeGraph) -> tuple[dict[str, int], np.ndarray, list[EdgeType], int]:
    """What an embedding model trains on: type offsets, ``(E, 3)`` global triples, relations, entity count."""
    triples, rels = all_triples(kg)
    return global_index(kg), triples, rels, sum(kg.num_nodes(t) for t in kg.node_types)


def _pathcount(**kw: Any):
    from .pathcount import PathCountModel

    return PathCountModel(**kw)


def _gnn(kind: str) -> Callable[..., Any]:
    def make(**kw: Any):
        from .gnn import GNNLinkModel

        return GNNLinkModel(encoder=kind, **kw)

    return make


#: model name -> factory(**hparams)
MODELS: dict[str, Callable[..., Any]] = {
    "degree": DegreePrior,
    "pathcount": _pathcount,
    "distmult": DistMultKGE,
    "rgcn": _gnn("rgcn"),
    "hgt": _gnn("hgt"),
}


def get_model(name: str, **hparams: Any):
    """Instantiate a registered model by name.

    Raises
    ------
    ConfigError
        Unknown name.
    """
    try:
        factory = MODELS[name.lower()]
    except KeyError:
        raise ConfigError(f"unknown model {name!r}", value=name, hint="choose from " + ", ".join(MODELS)) from None
    return factory(**hparams)
