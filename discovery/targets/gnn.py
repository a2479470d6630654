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

        def forward(self, graph: dict[str, Any], n_id: dict[str, torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
            """Node states of the whole graph, or of a sampled subgraph whose nodes are ``n_id`` per type.

            For R-GCN, ``graph["edge_index"]`` indexes the node types stacked in ``self.types`` order.
            """
            if n_id is None:
                xs = {t: self.emb[_k(t)].weight for t in self.types}
                feats = self.feat
            else:
                xs = {t: self.emb[_k(t)](n_id[t]) for t in self.types}
                feats = {t: f[n_id[t].cpu()] for t, f in self.feat.items()}
            for t, f in feats.items():
                xs[t] = xs[t] + self.proj[_k(t)](f.to(xs[t].device))
            if self.kind == "rgcn":
                sizes = [xs[t].shape[0] for t in self.types]
                x = torch.cat([xs[t] for t in self.types], 0)
                for i, conv in enumerate(self.convs):
                    h = conv(x, graph["edge_index"], graph["edge_type"])
                    x = h if i == len(self.convs) - 1 else self.dropout(torch.relu(h)) + x
                return dict(zip(self.types, torch.split(x, sizes)))
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
        Share of message-passing edges sampled per training step (DropEdge; full batch only);
        inference uses all edges.
    batching : {"full", "neighbor"}
        ``"full"``: every step runs the encoder on the whole graph. ``"neighbor"``: mini-batches of
        ``batch_size`` supervision edges from PyG's ``LinkNeighborLoader`` (each with its
        ``negatives`` corrupted answers), the encoder running only on their sampled
        ``num_neighbors``-hop subgraph; embeddings for evaluation come from ``NeighborLoader``
        over every node with the same fan-outs (seeded, so repeatable). Use it when the
        full graph's activations do not fit in (GPU) memory.
    num_neighbors : sequence of int
        Neighbours sampled per node, per edge type, per layer (``-1``: all; a list shorter than
        ``layers`` repeats its last value); ``"neighbor"`` only.
    batch_size : int
        Supervision edges per mini-batch; ``"neighbor"`` only.
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
                 node_features: dict[str, Any] | None = None, batching: str = "full",
                 num_neighbors: Sequence[int] = (15, 10), batch_size: int = 1024, **_: Any) -> None:
        if batching not in ("full", "neighbor"):
            raise ValueError(f"batching must be 'full' or 'neighbor', not {batching!r}")
        fanouts = list(num_neighbors)
        self.name = encoder
        self.encoder_kind = encoder
        self.hp = dict(hidden=hidden, layers=layers, heads=heads, epochs=epochs, lr=lr, weight_decay=weight_decay,
                       dropout=dropout, negatives=negatives, supervision_ratio=supervision_ratio,
                       eval_every=eval_every, patience=patience, max_minutes=max_minutes,
                       edge_keep=edge_keep, batching=batching,
                       num_neighbors=[int(k) for k in fanouts + fanouts[-1:] * layers][:layers],
                       batch_size=batch_size)
        self.accelerator = accelerator
        self.node_features = node_features
        self.history: list[dict[str, float]] = []
        self._inference_graph: tuple[Any, Any] | None = None  # (HeteroData, sampler) while fitting

    # ------------------------------------------------------------------ graph tensors
    def _relation_edges(self, g: KnowledgeGraph, target_edges: dict[EdgeType, np.ndarray],
                        keep: float = 1.0, rng: np.random.Generator | None = None) -> dict[EdgeType, np.ndarray]:
        """``(2, E)`` edges of every relation in ``rel_types`` (reverses flipped): non-target edges + ``target_edges``.

        ``keep < 1`` samples that share of the edges (DropEdge; used while training only).
        """
        edges = dict(g.edges)
        edges.update(target_edges)
        if keep < 1.0 and rng is not None:
            edges = {et: e[:, rng.random(e.shape[1]) < keep] for et, e in edges.items()}
        out = {}
        for rt in self.rel_types:
            if rt[1].startswith(REVERSE_PREFIX):
                e = edges.get((rt[2], rt[1][len(REVERSE_PREFIX):], rt[0]))
                e = None if e is None else e[::-1]
            else:
                e = edges.get(rt)
            out[rt] = np.ascontiguousarray(e) if e is not None else np.zeros((2, 0), dtype=np.int64)
        return out

    def _graph_tensors(self, g: KnowledgeGraph, target_edges: dict[EdgeType, np.ndarray], device,
                       keep: float = 1.0, rng: np.random.Generator | None = None) -> dict[str, Any]:
        """Full-graph message-passing tensors (see :meth:`_relation_edges`)."""
        import torch

        rel = self._relation_edges(g, target_edges, keep, rng)
        if self.encoder_kind == "rgcn":
            ei, et = [], []
            for r, rt in enumerate(self.rel_types):
                e = rel[rt]
                if e.shape[1]:
                    ei.append(np.stack([e[0] + self.offsets[rt[0]], e[1] + self.offsets[rt[2]]]))
                    et.append(np.full(e.shape[1], r))
            return {"edge_index": torch.from_numpy(np.concatenate(ei, 1)).long().to(device),
                    "edge_type": torch.from_numpy(np.concatenate(et)).long().to(device)}
        return {"edge_index_dict": {rt: torch.from_numpy(e).long().to(device) for rt, e in rel.items()}}

    def _heterodata(self, g: KnowledgeGraph, target_edges: dict[EdgeType, np.ndarray]):
        """``HeteroData`` of the message-passing graph (see :meth:`_relation_edges`)."""
        import torch
        from torch_geometric.data import HeteroData

        data = HeteroData()
        for t in g.node_types:
            data[t].num_nodes = g.num_nodes(t)
        for rt, e in self._relation_edges(g, target_edges).items():
            data[rt].edge_index = torch.from_numpy(e).long()
        return data

    def _fanouts(self) -> dict[EdgeType, list[int]]:
        return {rt: list(self.hp["num_neighbors"]) for rt in self.rel_types}

    def _batch_graph(self, batch, device) -> tuple[dict[str, Any], dict[str, Any]]:
        """Encoder inputs of a sampled subgraph: (graph tensors, node ids per type)."""
        import torch

        n_id = {t: batch[t].n_id.to(device) if "n_id" in batch[t] else torch.zeros(0, dtype=torch.long, device=device)
                for t in self.graph.node_types}
        if self.encoder_kind != "rgcn":
            return {"edge_index_dict": {rt: batch[rt].edge_index.to(device) for rt in self.rel_types
                                        if rt in batch.edge_types}}, n_id
        off, o = {}, 0
        for t in self.graph.node_types:
            off[t] = o
            o += int(n_id[t].numel())
        ei, et = [], []
        for r, rt in enumerate(self.rel_types):
            if rt not in batch.edge_types or batch[rt].edge_index.numel() == 0:
                continue
            e = batch[rt].edge_index
            ei.append(torch.stack([e[0] + off[rt[0]], e[1] + off[rt[2]]]))
            et.append(torch.full((e.shape[1],), r, dtype=torch.long))
        if not ei:
            return {"edge_index": torch.zeros((2, 0), dtype=torch.long, device=device),
                    "edge_type": torch.zeros(0, dtype=torch.long, device=device)}, n_id
        return {"edge_index": torch.cat(ei, 1).to(device), "edge_type": torch.cat(et).to(device)}, n_id

    def _supervision_type(self, task: Task) -> EdgeType:
        """The relation from query to answer type in ``rel_types`` (the reverse one for tail queries)."""
        et = task.edge_type
        return et if task.query_side == "head" else (et[2], REVERSE_PREFIX + et[1], et[0])

    def _link_batches(self, split: LinkSplit, gen: np.random.Generator):
        """One epoch of ``(task index, sampled HeteroData)`` mini-batches, tasks interleaved.

        Each epoch draws a fresh disjoint supervision / message-passing partition of the training
        target edges; the supervision edges are absent from the sampled graph (and its reverses).
        """
        import torch
        from torch_geometric.loader import LinkNeighborLoader

        from .sampling import neighbor_sampler

        hp = self.hp
        sup, msg = {}, {}
        for t in self.tasks:
            e = split.positives[t.edge_type]["train"]
            m = gen.random(e.shape[1]) < hp["supervision_ratio"]
            sup[t.edge_type], msg[t.edge_type] = e[:, m], e[:, ~m]
        data = self._heterodata(self.graph, msg)
        sampler = neighbor_sampler(data, self._fanouts())
        iters = []
        for ti, task in enumerate(self.tasks):
            q, a = task.pairs(sup[task.edge_type])
            if len(q) == 0:
                continue
            loader = LinkNeighborLoader(
                data, num_neighbors=self._fanouts(), neighbor_sampler=sampler,
                edge_label_index=(self._supervision_type(task), torch.from_numpy(np.stack([q, a])).long()),
                neg_sampling={"mode": "triplet", "amount": hp["negatives"]},
                batch_size=hp["batch_size"], shuffle=True)
            iters.append((ti, iter(loader)))
        while iters:
            for item in list(iters):
                ti, it = item
                try:
                    yield ti, next(it)
                except StopIteration:
                    iters.remove(item)

    def fit(self, split: LinkSplit, tasks: Sequence[Task], seed: int = 0) -> "GNNLinkModel":
        """Train with Lightning on ``split`` (full batch or sampled mini-batches); keeps the best validation MRR."""
        import lightning as L
        import torch

        L.seed_everything(seed, workers=True, verbose=False)
        g = split.train_graph
        self.graph, self.tasks = g, list(tasks)
        self._inference_graph = None
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
                if hp["batching"] == "neighbor":
                    return self._minibatch_step(*batch)
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
                    losses.append(self._loss(z, ti, task, qt, at, na, k))
                loss = torch.stack(losses).mean()
                self.log("loss", loss, prog_bar=True, on_epoch=True, on_step=False, batch_size=1)
                return loss

            def _minibatch_step(self, ti, batch):
                task = outer.tasks[ti]
                graph, n_id = outer._batch_graph(batch, self.device)
                z = self.net.encoder(graph, n_id)
                qt = batch[task.query_type].src_index
                at = batch[task.answer_type].dst_pos_index
                na = batch[task.answer_type].dst_neg_index.reshape(-1)
                loss = self._loss(z, ti, task, qt, at, na, hp["negatives"])
                self.log("loss", loss, prog_bar=True, on_epoch=True, on_step=False, batch_size=int(qt.numel()))
                return loss

            def _loss(self, z, ti, task, qt, at, na, k):
                """Weighted BCE of ``k`` corrupted answers ``na`` per positive (query ``qt``, answer ``at``)."""
                pos = self.net.score(z, ti, task, qt, at)
                neg = self.net.score(z, ti, task, qt.repeat_interleave(k), na)
                logits = torch.cat([pos, neg])
                y = torch.cat([torch.ones_like(pos), torch.zeros_like(neg)])
                w = torch.cat([torch.full_like(pos, float(k)), torch.ones_like(neg)])
                return torch.nn.functional.binary_cross_entropy_with_logits(logits, y, weight=w)

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

        class _Epochs:
            """A fresh set of sampled mini-batches every time Lightning starts an epoch."""

            def __init__(self) -> None:
                self.gen = np.random.default_rng(seed + 1)

            def __iter__(self):
                return outer._link_batches(split, self.gen)

        lit = LitModule()
        trainer = L.Trainer(max_epochs=hp["epochs"], accelerator=self.accelerator, devices=1, logger=False,
                            enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                            num_sanity_val_steps=0, deterministic=False)
        data = _Epochs() if hp["batching"] == "neighbor" else torch.utils.data.DataLoader(_One(), batch_size=1)
        trainer.fit(lit, data)
        if lit.best_state is not None:
            lit.net.load_state_dict(lit.best_state)
        self.net = lit.net.cpu()
        self._embed(self.net, torch.device("cpu"))
        self._inference_graph = None
        self.best_val_mrr = lit.best
        return self

    def _embed(self, net, device) -> None:
        """Embeddings with every training edge as message-passing edge."""
        import torch

        was = net.training
        net.eval()
        with torch.no_grad():
            if self.hp["batching"] == "neighbor":
                self.z = self._embed_sampled(net, device)
            else:
                graph = self._graph_tensors(self.graph, {}, device)
                z = net.encoder(graph)
                self.z = {t: v.detach().cpu() for t, v in z.items()}
            self.rel_vec = [net.rel[_k(str(i))].detach().cpu() for i in range(len(self.tasks))]
        net.train(was)

    def _embed_sampled(self, net, device) -> dict[str, Any]:
        """Embeddings of every node from its sampled neighbourhood (``NeighborLoader``, fixed seed)."""
        import torch
        from torch_geometric.loader import NeighborLoader

        from .sampling import neighbor_sampler

        if self._inference_graph is None:  # built once per fit, reused by every evaluation
            data = self._heterodata(self.graph, {})
            self._inference_graph = (data, neighbor_sampler(data, self._fanouts()))
        data, sampler = self._inference_graph
        out = {}
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            for t in self.graph.node_types:
                n = self.graph.num_nodes(t)
                z = torch.zeros((n, self.hp["hidden"]))
                loader = NeighborLoader(data, num_neighbors=self._fanouts(), neighbor_sampler=sampler,
                                        input_nodes=(t, torch.arange(n)), batch_size=self.hp["batch_size"])
                for batch in loader:
                    graph, n_id = self._batch_graph(batch, device)
                    zb = net.encoder(graph, n_id)[t][: batch[t].batch_size]
                    z[batch[t].n_id[: batch[t].batch_size]] = zb.detach().cpu()
                out[t] = z
        return out

    def scores(self, task: Task, queries: np.ndarray) -> np.ndarray:
        import torch

        ti = self.tasks.index(task)
        q = self.z[task.query_type][torch.as_tensor(queries)]
        return ((q * self.rel_vec[ti]) @ self.z[task.answer_type].T).numpy()
