"""Ranked targets (genes) or drugs (compounds) for a disease, each with its evidence.

:func:`rank_candidates` trains the chosen model on *every* known edge of the graph, scores
every candidate of the answer type for the disease, and attaches to each of the top
answers: whether the link is already known (an edge of the graph), the metapaths that
contribute most to it (coefficient x feature of the path-count model) with concrete
paths through intermediate nodes, and per-source evidence combined Open Targets-style
(:func:`~discovery.targets.evidence.harmonic_sum`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from ..errors import InputError
from .evaluate import task_for
from .evidence import PathFinder, curated_sources, harmonic_sum
from .kg import EdgeType, KnowledgeGraph, edge_label, parse_edge_type
from .models import get_model
from .splits import LinkSplit

log = logging.getLogger(__name__)

#: question -> relation ranked for a disease
QUESTIONS: dict[str, str] = {"targets": "DaG", "repurpose": "CtD"}


@dataclass
class RankResult:
    """Ranked answers with evidence.

    Attributes
    ----------
    query : dict
        ``{"type", "id", "name"}`` of the disease.
    relation : str
        e.g. ``"Disease-associates-Gene"``.
    model : str
    rows : list of dict
        One per answer: rank, id, name, score, known, combined_evidence, sources, metapaths, paths.
    n_candidates, n_known : int
    weights : dict
        Source weights used.
    """

    query: dict[str, str]
    relation: str
    model: str
    rows: list[dict[str, Any]]
    n_candidates: int
    n_known: int
    weights: dict[str, float] = field(default_factory=dict)
    top_metapaths: list[tuple[str, float]] = field(default_factory=list)

    def to_frame(self):
        """Flat table: rank, id, name, score, known, combined_evidence, top_metapath, top_path."""
        import pandas as pd

        return pd.DataFrame([{
            "rank": r["rank"], "id": r["id"], "name": r["name"], "score": r["score"], "known": r["known"],
            "combined_evidence": r["combined_evidence"],
            "sources": ";".join(f"{k}={v:.2f}" for k, v in r["sources"].items() if v > 0),
            "top_metapaths": ";".join(m["metapath"] for m in r["metapaths"][:3]),
            "top_path": r["paths"][0]["text"] if r["paths"] else "",
        } for r in self.rows])

    def to_dict(self) -> dict[str, Any]:
        return {"query": self.query, "relation": self.relation, "model": self.model,
                "n_candidates": self.n_candidates, "n_known": self.n_known, "weights": self.weights,
                "top_metapaths_global": [{"metapath": m, "coefficient": c} for m, c in self.top_metapaths],
                "results": self.rows}


def fit_full(kg: KnowledgeGraph, relation: str | EdgeType, model: str = "pathcount", seed: int = 0,
             **hparams: Any):
    """Train ``model`` on every edge of ``kg`` for one relation (no held-out edges)."""
    et = parse_edge_type(relation)
    if et not in kg.edges:
        raise InputError(f"the graph has no {edge_label(et)} edges", value=edge_label(et))
    e = kg.edges[et]
    split = LinkSplit("full", seed, kg, {et: {"train": e, "val": e[:, :0], "test": e[:, :0]}})
    task = task_for(et)
    m = get_model(model, **hparams).fit(split, [task], seed=seed)
    return m, task


def rank_candidates(
    kg: KnowledgeGraph,
    disease: str,
    *,
    relation: str | EdgeType = "DaG",
    model: str = "pathcount",
    top: int = 50,
    hide_known: bool = False,
    seed: int = 0,
    n_paths: int = 3,
    n_metapaths: int = 3,
    weights: Mapping[str, float] | None = None,
    dag_table: str | None = None,
    indications: str | None = None,
    triples: str | None = None,
    fitted: Any = None,
    explainer: Any = None,
    hparams: Mapping[str, Any] | None = None,
) -> RankResult:
    """Rank candidates for a disease with evidence.

    Parameters
    ----------
    kg : KnowledgeGraph
    disease : str
        Disease id (``DOID:1612``) or name (``breast cancer``).
    relation : str
        ``DaG`` (targets: genes) or ``CtD`` (repurposing: compounds), or another edge type with a Disease end.
    model : str
        Scoring model (see :data:`~discovery.targets.models.MODELS`); evidence metapaths always
        come from the path-count model (trained as well when ``model`` is another one).
    top : int
        Answers returned.
    hide_known : bool
        Leave out answers already linked to the disease (novel predictions only).
    weights : mapping
        Source weights for the combined evidence (``model`` is the model's rank percentile).
    dag_table, indications, triples : path, optional
        Curated source tables (Hetionet DaG-association.tsv, PharmacotherapyDB indications.tsv)
        and any triple table with source/score columns.
    fitted, explainer : optional
        Already trained scoring model and path-count model (reuse across diseases).
    """
    et = parse_edge_type(relation)
    qtype, qi = kg.find_node(disease, "Disease")
    task = task_for(et, qtype)
    if fitted is None:
        fitted, task = fit_full(kg, et, model, seed, **dict(hparams or {}))
    if explainer is None:
        explainer = fitted if getattr(fitted, "name", "") == "pathcount" else fit_full(kg, et, "pathcount", seed)[0]
    s = np.asarray(fitted.scores(task, np.array([qi])))[0]
    n = len(s)
    q_pos, a_pos = task.pairs(kg.edges[et])
    known = np.zeros(n, dtype=bool)
    known[a_pos[q_pos == qi]] = True
    order = np.lexsort((np.arange(n), -s))
    ranks = np.empty(n, dtype=int)
    ranks[order] = np.arange(1, n + 1)
    chosen = [int(c) for c in order if not (hide_known and known[c])][:top]
    chosen_arr = np.array(chosen, dtype=np.int64)
    percentile = 1.0 - (ranks - 1) / max(n - 1, 1)
    curated = curated_sources(kg, qtype, qi, task.answer_type, chosen_arr, dag_table=dag_table,
                              indications=indications, triples=triples)
    weights = dict(weights or {})
    weights.setdefault("model", 1.0)
    n_sources = 1 + len(curated)
    labels, contrib = explainer.contributions(task, qi, chosen_arr) if len(chosen_arr) else ([], np.zeros((0, 0)))
    tm = explainer.models[task]
    finder = PathFinder(kg, explainer.damping)
    rows = []
    for j, c in enumerate(chosen):
        src = {"model": float(percentile[c])}
        src.update({k: float(v[j]) for k, v in curated.items()})
        mp = []
        paths = []
        if len(labels):
            order_m = [i for i in np.argsort(-contrib[j]) if contrib[j, i] > 0 and i < len(tm.paths)]
            with_paths = 0
            for i in order_m[:12]:
                # features count walks (a known edge can walk back on itself); the evidence shown is
                # simple paths (no repeated node), so metapaths without one are listed but passed over
                found = finder.paths(tm.paths[i], qi, c, limit=n_paths)
                if len(mp) < n_metapaths:
                    mp.append({"metapath": labels[i], "contribution": float(contrib[j, i]), "n_paths_shown": len(found)})
                if found and with_paths < n_metapaths:
                    with_paths += 1
                    paths += [{**p.to_dict(), "text": p.text()} for p in found]
                if len(mp) >= n_metapaths and with_paths >= n_metapaths:
                    break
        rows.append({
            "rank": int(ranks[c]), "id": kg.node_ids[task.answer_type][c], "name": kg.node_names[task.answer_type][c],
            "type": task.answer_type, "score": float(s[c]), "known": bool(known[c]),
            "combined_evidence": harmonic_sum(src, weights, n_sources=n_sources),
            "sources": src, "metapaths": mp, "paths": paths[: n_paths * n_metapaths],
        })
    return RankResult(
        query={"type": qtype, "id": kg.node_ids[qtype][qi], "name": kg.node_names[qtype][qi]},
        relation=edge_label(et), model=getattr(fitted, "name", model), rows=rows, n_candidates=n,
        n_known=int(known.sum()), weights=weights, top_metapaths=explainer.top_metapaths(task, 10),
    )
