"""Evidence for a ranked answer: metapath instances (paths with intermediate nodes) and per-source scores.

Paths are enumerated on the graph itself, so each hop of each reported path is an
existing edge. Per-source evidence is combined the Open Targets way: source scores
(each in [0, 1], times a configurable source weight) are sorted in decreasing order
and summed with harmonic weights, :math:`H = \\sum_i s_{(i)} / i^2`, then divided by
the largest value ``H`` could take (every source at 1), so the combined score is in [0, 1].
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .kg import UNDIRECTED, EdgeType, KnowledgeGraph, abbreviation
from .pathcount import Step, metapath_label, step_types


@dataclass(frozen=True)
class PathInstance:
    """One path ``query -> ... -> candidate`` following a metapath.

    Attributes
    ----------
    metapath : str
        Label such as ``DrDaG``.
    nodes : tuple of (type, id, name)
        Every node of the path, query first, candidate last.
    edges : tuple of EdgeType
        The edge type of each hop (in its stored direction).
    weight : float
        Product of the hops' degree weights :math:`(d_{src} d_{dst})^{-w}` (the path's share of the DWPC).
    """

    metapath: str
    nodes: tuple[tuple[str, str, str], ...]
    edges: tuple[EdgeType, ...]
    weight: float

    def to_dict(self) -> dict[str, Any]:
        return {"metapath": self.metapath, "weight": self.weight,
                "nodes": [{"type": t, "id": i, "name": n} for t, i, n in self.nodes],
                "edges": ["-".join(e) for e in self.edges]}

    def text(self) -> str:
        return " - ".join(n for _, _, n in self.nodes)


class PathFinder:
    """Neighbour lists and step degrees of a graph, for enumerating metapath instances."""

    def __init__(self, kg: KnowledgeGraph, damping: float = 0.4) -> None:
        self.kg, self.w = kg, damping
        self._nbrs: dict[Step, tuple[list[np.ndarray], np.ndarray, np.ndarray]] = {}

    def neighbours(self, step: Step) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
        if step not in self._nbrs:
            et, fwd = step
            e = self.kg.edges.get(et, np.zeros((2, 0), dtype=np.int64))
            src, dst = (e[0], e[1]) if fwd else (e[1], e[0])
            a, b = step_types(step)
            if et[0] == et[2] and abbreviation(et) in UNDIRECTED:
                src, dst = np.concatenate([e[0], e[1]]), np.concatenate([e[1], e[0]])
            n_a, n_b = self.kg.num_nodes(a), self.kg.num_nodes(b)
            order = np.argsort(src, kind="stable")
            starts = np.searchsorted(src[order], np.arange(n_a + 1))
            dst_sorted = dst[order]
            lists = [np.sort(dst_sorted[starts[i]:starts[i + 1]]) for i in range(n_a)]
            deg_a = np.bincount(src, minlength=n_a).astype(float)
            deg_b = np.bincount(dst, minlength=n_b).astype(float)
            self._nbrs[step] = (lists, deg_a, deg_b)
        return self._nbrs[step]

    def paths(self, metapath: Sequence[Step], source: int, target: int, limit: int = 5) -> list[PathInstance]:
        """Up to ``limit`` instances of ``metapath`` from ``source`` to ``target``, heaviest first.

        Walks that revisit a node are skipped (these are paths, as in Rephetio).
        """
        out: list[tuple[float, list[int]]] = []
        types = [step_types(metapath[0])[0]] + [step_types(s)[1] for s in metapath]

        def walk(i: int, node: int, seq: list[int], weight: float) -> None:
            if len(out) > 10000:
                return
            if i == len(metapath):
                if node == target:
                    out.append((weight, list(seq)))
                return
            lists, da, db = self.neighbours(metapath[i])
            nbrs = lists[node]
            if i + 1 == len(metapath):  # last hop: only the target, found by binary search
                k = int(np.searchsorted(nbrs, target))
                nbrs = nbrs[k:k + 1] if k < len(nbrs) and nbrs[k] == target else nbrs[:0]
            for nb in nbrs:
                nb = int(nb)
                if any(types[j] == types[i + 1] and seq[j] == nb for j in range(len(seq))):
                    continue
                walk(i + 1, nb, seq + [nb], weight * (da[node] * db[nb]) ** -self.w)

        walk(0, source, [source], 1.0)
        out.sort(key=lambda x: -x[0])
        label = metapath_label(metapath)
        res = []
        for weight, seq in out[:limit]:
            nodes = tuple((types[j], self.kg.node_ids[types[j]][n], self.kg.node_names[types[j]][n])
                          for j, n in enumerate(seq))
            res.append(PathInstance(label, nodes, tuple(s[0] for s in metapath), float(weight)))
        return res


# ---------------------------------------------------------------------- source combination


def harmonic_sum(scores: Mapping[str, float], weights: Mapping[str, float] | None = None,
                 n_sources: int | None = None) -> float:
    """Open Targets-style combination of per-source scores, normalised to [0, 1].

    Parameters
    ----------
    scores : mapping source -> score in [0, 1]
    weights : mapping source -> weight (default 1); a score is multiplied by its source's weight.
    n_sources : int, optional
        Number of sources for the normalisation (default ``len(scores)``); pass the number of
        sources that *could* give evidence so that pairs with fewer sources score lower.

    Returns
    -------
    float
        :math:`\\sum_i s_{(i)}/i^2 \\,/\\, \\sum_{i \\le n} 1/i^2` with :math:`s_{(1)} \\ge s_{(2)} \\ge \\dots`.

    Examples
    --------
    >>> round(harmonic_sum({"a": 1.0, "b": 1.0}), 6)
    1.0
    >>> round(harmonic_sum({"a": 1.0, "b": 0.0}), 4)
    0.8
    """
    weights = weights or {}
    s = sorted((min(max(float(v), 0.0), 1.0) * float(weights.get(k, 1.0)) for k, v in scores.items()), reverse=True)
    n = n_sources if n_sources is not None else len(s)
    if n == 0:
        return 0.0
    h = sum(v / (i + 1) ** 2 for i, v in enumerate(s))
    hmax = sum(1.0 / (i + 1) ** 2 for i in range(n)) * max([float(weights.get(k, 1.0)) for k in scores] + [1.0])
    return float(min(h / hmax, 1.0))


SourceFn = Callable[[KnowledgeGraph, str, int, str, np.ndarray], dict[str, np.ndarray]]


def _dag_sources(path: str | os.PathLike) -> dict[tuple[str, str], list[str]]:
    out: dict[tuple[str, str], list[str]] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh, delimiter="\t"):
            out[(r["doid_id"], r["entrez_gene_id"])] = [s for s in r["sources"].split("|") if s]
    return out


def _indications(path: str | os.PathLike) -> dict[tuple[str, str], str]:
    out = {}
    with open(path, newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh, delimiter="\t"):
            out[(r["doid_id"], r["drugbank_id"])] = r["category"]
    return out


def curated_sources(kg: KnowledgeGraph, query_type: str, query: int, answer_type: str,
                    candidates: np.ndarray, *, dag_table: str | os.PathLike | None = None,
                    indications: str | os.PathLike | None = None,
                    triples: str | os.PathLike | None = None) -> dict[str, np.ndarray]:
    """Per-source scores in [0, 1] for (query, candidate) pairs.

    Sources: each Disease-associates-Gene source of Hetionet (DISEASES, DisGeNET, DOAF,
    GWAS Catalog; 1 when it lists the pair), PharmacotherapyDB (disease-modifying 1,
    symptomatic 0.5), and any triple table with ``source`` and ``score`` columns
    (e.g. literature evidence; the score, clipped to [0, 1], per source).
    """
    qid = kg.node_ids[query_type][query]
    cids = [kg.node_ids[answer_type][int(c)] for c in candidates]
    out: dict[str, np.ndarray] = {}
    if dag_table is not None and {query_type, answer_type} == {"Disease", "Gene"}:
        table = _dag_sources(dag_table)
        for j, c in enumerate(cids):
            for s in table.get((qid, c), []):
                out.setdefault(s, np.zeros(len(cids)))[j] = 1.0
    if indications is not None and {query_type, answer_type} == {"Disease", "Compound"}:
        ind = _indications(indications)
        col = np.zeros(len(cids))
        for j, c in enumerate(cids):
            cat = ind.get((qid, c))
            col[j] = {"DM": 1.0, "SYM": 0.5}.get(cat or "", 0.0)
        out["PharmacotherapyDB"] = col
    if triples is not None:
        import pandas as pd

        p = Path(triples)
        df = pd.read_parquet(p) if p.suffix == ".parquet" else pd.read_csv(p, sep="," if p.suffix == ".csv" else "\t",
                                                                          dtype=str, keep_default_na=False)
        if {"head", "tail"} <= set(df.columns):
            heads = df["head"].astype(str).str.split("::").str[-1]
            tails = df["tail"].astype(str).str.split("::").str[-1]
            srcs = df["source"].astype(str) if "source" in df.columns else pd.Series(["triples"] * len(df))
            score = pd.to_numeric(df["score"], errors="coerce").fillna(1.0) if "score" in df.columns else pd.Series(np.ones(len(df)))
            pos = {c: j for j, c in enumerate(cids)}
            for h, t, s, v in zip(heads, tails, srcs, score):
                for a, b in ((h, t), (t, h)):
                    if a == qid and b in pos:
                        col = out.setdefault(s, np.zeros(len(cids)))
                        col[pos[b]] = max(col[pos[b]], float(np.clip(v, 0, 1)))
    return out
