"""Heterogeneous GNN link prediction: R-GCN or HGT encoder (PyG) + DistMult decoder, trained with Lightning.

Encoder input: a learnable embedding per node (optionally concatenated with given node
features). The encoder runs full batch on the whole training graph with reverse relations
(Hetionet's 16-type graph, 23k nodes and 1.5M directed edges, fits in a few GB on CPU).

Training follows the disjoint message-passing / supervision protocol: every step a random
``supervision_ratio`` share of the task relations' training edges is removed from the
message-passing graph (with their reverse edges) and used as positives, against
``negatives`` type-consistent corrupted answers each; the loss is binary cross-entropy on
:math:`f(q, a) = \\langle z_q, w_r, z_a \\rangle` (DistMult). Validation MRR (filtered,
see :mod:`~discovery.targets.evaluate`) every ``eval_every`` epochs picks the best weights;
training stops early after ``patience`` evaluations without improvement.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Sequence

import numpy as np

from .evaluate import Task, evaluate_task
from .kg import REVERSE_PREFIX, EdgeType, KnowledgeGraph
from .splits import LinkSplit

log = logging.getLogger(__name__)


def _build_module(encoder: str, kg: KnowledgeGraph, tasks: Sequence[Task], hidden: int, layers: int,
                  heads: int, dropout: float, rel_types: list[EdgeType], node_features: dict[str, Any] | None = None):
    import torch
    from torch import nn

    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.types = kg.node_types
            self.emb = nn.ModuleDict({_k(t): nn.Embedding(kg.num_nodes(t), hidden) for t in self.types})
            for e in self.emb.values():
                nn.init.xavier_uniform_(e.weight)
            # optional per-type input features (e.g. ProtParam descriptors of genes), standardised and projected
            self.feat = {t: torch.as_tensor(np.asarray(f, dtype=np.float32)) for t, f in (node_features or {}).items()}
            for t, f in self.feat.items():
                if f.shape[0] != kg.num_nodes(t):
                    raise ValueError(f"node_features[{t!r}] has {f.shape[0]} rows, the graph {kg.num_nodes(t)} nodes")
                self.feat[t] = (f - f.mean(0)) / (f.std(0) + 1e-6)
            self.proj = nn.ModuleDict({_k(t): nn.Linear(f.shape[1], hidden) for t, f in self.feat.items()})
            self.kind = encoder
            if encoder == "rgcn":
                from torch_geometric.nn import RGCNConv

                self.convs = nn.ModuleList(
                    RGCNConv(hidden, hidden, num_relations=len(rel_types), num_bases=min(8, len(rel_types)),
                             aggr="mean") for _ in range(layers))
            elif encoder == "hgt":
                from torch_geometric.nn import HGTConv

                meta = (list(self.types), rel_types)
                self.convs = nn.ModuleList(HGTConv(hidden, hidden, meta, heads=heads) for _ in range(layers))
            else:  # pragma: no cover - guarded by the registry
                raise ValueError(encoder)
            self.dropout = nn.Dropout(dropout)
            self.offsets = {}
            off = 0
            for t in self.types:
                self.offsets[t] = off
                off += kg.num_nodes(t)

        def forward(self, graph: dict[str, Any]) -> dict[str, torch.Tensor]:
            xs = {t: self.emb[_k(t)].weight for t in self.types}
            for t, f in self.feat.items():
                xs[t] = xs[t] + self.proj[_k(t)](f.to(xs[t].device))
            if self.kind == "rgcn":
                x = torch.cat([xs[t] for t in self.types], 0)
                for i, conv in enumerate(self.convs):
                    h = conv(x, graph["edge_index"], graph["edge_type"])
                    x = h if i == len(self.convs) - 1 else self.dropout(torch.relu(h)) + x
                return {t: x[self.offsets[t]:self.offsets[t] + kg.num_nodes(t)] for t in self.types}
            for i, conv in enumerate(self.convs):
                h = conv(xs, graph["edge_index_dict"])
                h = {t: (h[t] if h.get(t) is not None else xs[t]) for t in self.types}
                # residual on every layer: HGT's own gated skip alone trained poorly from free embeddings
                xs = ({t: v + xs[t] for t, v in h.items()} if i == len(self.convs) - 1
                      else {t: self.dropout(torch.relu(v)) + xs[t] for t, v in h.items()})
            return xs

    class Module(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = Encoder()
            self.rel = nn.ParameterDict({_k(str(i)): nn.Parameter(torch.ones(hidden)) for i in range(len(tasks))})

        def score(self, z: dict[str, torch.Tensor], ti: int, task: Task, q: torch.Tensor, a: torch.Tensor):
            return (z[task.query_type][q] * self.rel[_k(str(ti))] * z[task.answer_type][a]).sum(-1)

    return Module()


def _k(name: str) -> str:
    return name.replace(" ", "_").replace(".", "_")


class GNNLinkModel:
    """R-GCN (Schlichtkrull et al. 2018) or HGT (Hu et al. 2020) encoder + DistMult decoder.

    Parameters
    ----------
    encoder : {"rgcn", "hgt"}
    hidden : int
        Embedding and hidden size.
    layers : int
        Message-passing layers.
    heads : int
        HGT attention heads.
    epochs, lr, weight_decay, dropout : training settings.
    negatives : int
        Corrupted answers per positive.
    supervision_ratio : float
        Share of training target edges used as supervision (and hidden from message passing) per step.
    eval_every, patience : int
        Validation cadence (epochs) and early-stopping patience (evaluations).
    edge_keep : float
        Share of message-passing edges sampled per training step (DropEdge); inference uses all edges.
    max_minutes : float
        Wall-clock cap on training.
    node_features : dict of str to (N_t, F_t) array, optional
        Input features per node type (e.g. :func:`~discovery.targets.proteins.protein_feature_matrix`
        of the genes' sequences), standardised, projected and added to the learnable embeddings.
    """

    def __init__(self, encoder: str = "rgcn", hidden: int = 32, layers: int = 2, heads: int = 2,
                 epochs: int = 60, lr: float = 0.01, weight_decay: float = 0.0, dropout: float = 0.1,
                 negatives: int = 8, supervision_ratio: float = 0.3, eval_every: int = 10, patience: int = 4,
                 edge_keep: float = 0.5, max_minutes: float = 8.0, accelerator: str = "auto",
                 node_features: dict[str, Any] | None = None, **_: Any) -> None:
        self.name = encoder
        self.encoder_kind = encoder
        self.hp = dict(hidden=hidden, layers=layers, heads=heads, epochs=epochs, lr=lr, weight_decay=weight_decay,
                       dropout=dropout, negatives=negatives, supervision_ratio=supervision_ratio,
                       eval_every=eval_every, patience=patience, max_minutes=max_minutes,
                       edge_keep=edge_keep)
        self.accelerator = accelerator
        self.node_features = node_features
        self.history: list[dict[str, float]] = []

    # ------------------------------------------------------------------ graph tensors
    def _graph_tensors(self, g: KnowledgeGraph, target_edges: dict[EdgeType, np.ndarray], device,
                       keep: float = 1.0, rng: np.random.Generator | None = None) -> dict[str, Any]:
        """Message-passing tensors for edges = non-target edges + ``target_edges``, with reverses.

        ``keep < 1`` samples that share of the edges (DropEdge; used while training only).
        """
        import torch

        edges = dict(g.edges)
        edges.update(target_edges)
        if keep < 1.0 and rng is not None:
            edges = {et: e[:, rng.random(e.shape[1]) < keep] for et, e in edges.items()}
        if self.encoder_kind == "rgcn":
            ei, et = [], []
            for r, rt in enumerate(self.rel_types):
                base = (rt[2], rt[1][len(REVERSE_PREFIX):], rt[0]) if rt[1].startswith(REVERSE_PREFIX) else rt
                e = edges.get(base)
                if e is None or e.shape[1] == 0:
                    continue
                s, d = (e[1], e[0]) if base is not rt else (e[0], e[1])
                ei.append(np.stack([s + self.offsets[rt[0]], d + self.offsets[rt[2]]]))
                et.append(np.full(e.shape[1], r))
            return {"edge_index": torch.from_numpy(np.concatenate(ei, 1)).long().to(device),
                    "edge_type": torch.from_numpy(np.concatenate(et)).long().to(device)}
        d = {}
        for rt in self.rel_types:
            if rt[1].startswith(REVERSE_PREFIX):
                e = edges.get((rt[2], rt[1][len(REVERSE_PREFIX):], rt[0]))
                e = None if e is None else e[::-1]
            else:
                e = edges.get(rt)
            if e is None:
                e = np.zeros((2, 0), dtype=np.int64)
            d[rt] = torch.from_numpy(np.ascontiguousarray(e)).long().to(device)
        return {"edge_index_dict": d}

    def fit(self, split: LinkSplit, tasks: Sequence[Task], seed: int = 0) -> "GNNLinkModel":
        """Train with Lightning on ``split`` (full batch); keeps the weights of the best validation MRR."""
        import lightning as L
        import torch

        L.seed_everything(seed, workers=True, verbose=False)
        g = split.train_graph
        self.graph, self.tasks = g, list(tasks)
        self.rel_types = []
        for et in g.edge_types:
            self.rel_types += [et, (et[2], REVERSE_PREFIX + et[1], et[0])]
        self.offsets, off = {}, 0
        for t in g.node_types:
            self.offsets[t] = off
            off += g.num_nodes(t)
        hp = self.hp
        module = _build_module(self.encoder_kind, g, self.tasks, hp["hidden"], hp["layers"], hp["heads"],
                               hp["dropout"], self.rel_types, self.node_features)
        outer = self
        train_pos = {t.edge_type: split.positives[t.edge_type]["train"] for t in self.tasks}

        class LitModule(L.LightningModule):
            def __init__(self) -> None:
                super().__init__()
                self.net = module
                self.gen = np.random.default_rng(seed)
                self.best = -1.0
                self.best_state = None
                self.bad = 0
                self.t0 = time.perf_counter()

            def training_step(self, batch, batch_idx):
                dev = self.device
                sup, msg = {}, {}
                for et, e in train_pos.items():
                    m = self.gen.random(e.shape[1]) < hp["supervision_ratio"]
                    sup[et], msg[et] = e[:, m], e[:, ~m]
                graph = outer._graph_tensors(g, msg, dev, keep=hp["edge_keep"], rng=self.gen)
                z = self.net.encoder(graph)
                losses = []
                for ti, task in enumerate(outer.tasks):
                    q, a = task.pairs(sup[task.edge_type])
                    if len(q) == 0:
                        continue
                    k = hp["negatives"]
                    qt = torch.as_tensor(q, device=dev)
                    at = torch.as_tensor(a, device=dev)
                    na = torch.as_tensor(self.gen.integers(0, g.num_nodes(task.answer_type), size=len(q) * k), device=dev)
                    pos = self.net.score(z, ti, task, qt, at)
                    neg = self.net.score(z, ti, task, qt.repeat_interleave(k), na)
                    logits = torch.cat([pos, neg])
                    y = torch.cat([torch.ones_like(pos), torch.zeros_like(neg)])
                    w = torch.cat([torch.full_like(pos, float(k)), torch.ones_like(neg)])
                    losses.append(torch.nn.functional.binary_cross_entropy_with_logits(logits, y, weight=w))
                loss = torch.stack(losses).mean()
                self.log("loss", loss, prog_bar=True, on_epoch=True, on_step=False, batch_size=1)
                return loss

            def on_train_epoch_end(self) -> None:
                ep = self.current_epoch
                last = ep + 1 == hp["epochs"]
                if (ep + 1) % hp["eval_every"] and not last:
                    return
                outer._embed(self.net, self.device)
                vals = [evaluate_task(outer, split, t, part="val")["mrr"] for t in outer.tasks
                        if split.positives[t.edge_type]["val"].shape[1]]
                v = float(np.mean(vals)) if vals else float(-self.trainer.callback_metrics.get("loss", 0.0))
                outer.history.append({"epoch": ep, "val_mrr": v,
                                      "loss": float(self.trainer.callback_metrics.get("loss", float("nan")))})
                log.info("%s epoch %d val MRR %.4f", outer.name, ep, v)
                if v > self.best:
                    self.best, self.bad = v, 0
                    self.best_state = {k: t.detach().clone() for k, t in self.net.state_dict().items()}
                else:
                    self.bad += 1
                    if self.bad >= hp["patience"]:
                        self.trainer.should_stop = True
                if time.perf_counter() - self.t0 > 60 * hp["max_minutes"]:
                    log.warning("%s: stopping after %.1f min (max_minutes)", outer.name, hp["max_minutes"])
                    self.trainer.should_stop = True

            def configure_optimizers(self):
                return torch.optim.Adam(self.parameters(), lr=hp["lr"], weight_decay=hp["weight_decay"])

        class _One(torch.utils.data.Dataset):
            def __len__(self) -> int:
                return 1

            def __getitem__(self, i):
                return 0

        lit = LitModule()
        trainer = L.Trainer(max_epochs=hp["epochs"], accelerator=self.accelerator, devices=1, logger=False,
                            enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                            num_sanity_val_steps=0, deterministic=False)
        trainer.fit(lit, torch.utils.data.DataLoader(_One(), batch_size=1))
        if lit.best_state is not None:
            lit.net.load_state_dict(lit.best_state)
        self.net = lit.net.cpu()
        self._embed(self.net, torch.device("cpu"))
        self.best_val_mrr = lit.best
        return self

    def _embed(self, net, device) -> None:
        """Embeddings with every training edge as message-passing edge."""
        import torch

        was = net.training
        net.eval()
        with torch.no_grad():
            graph = self._graph_tensors(self.graph, {}, device)
            z = net.encoder(graph)
            self.z = {t: v.detach().cpu() for t, v in z.items()}
            self.rel_vec = [net.rel[_k(str(i))].detach().cpu() for i in range(len(self.tasks))]
        net.train(was)

    def scores(self, task: Task, queries: np.ndarray) -> np.ndarray:
        import torch

        ti = self.tasks.index(task)
        q = self.z[task.query_type][torch.as_tensor(queries)]
        return ((q * self.rel_vec[ti]) @ self.z[task.answer_type].T).numpy()
