"""Filtered ranking metrics and AUROC/AUPRC for link prediction.

Protocol (the same for every model, ours and peers):

* **Query** = the disease; **candidates** = every node of the answer type
  (all genes for Disease-associates-Gene, all compounds for
  Compound-treats-Disease), not a sample.
* **Filtered rank** of a test answer: other known true answers of the same
  query (train, validation and test edges) are removed before ranking; ties
  count half (the "realistic" rank, mean of optimistic and pessimistic), so a
  constant scorer gets the expected rank of a random order, not rank 1.
  MRR = mean of 1/rank; Hits@k = share of ranks <= k.
* **AUROC / AUPRC**: no negative *sampling*. For each test query, the
  positives are its test edges and the negatives are *all* candidates not
  known to be linked to it (train and validation edges excluded); the pairs
  of all test queries are pooled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol, Sequence

import numpy as np

from .kg import EdgeType, edge_label
from .splits import LinkSplit

QuerySide = Literal["head", "tail"]


@dataclass(frozen=True)
class Task:
    """What to rank: for a query node on ``query_side`` of ``edge_type``, the nodes on the other side.

    Examples
    --------
    ``Task(("Disease", "associates", "Gene"), "head")`` ranks genes for a disease;
    ``Task(("Compound", "treats", "Disease"), "tail")`` ranks compounds for a disease.
    """

    edge_type: EdgeType
    query_side: QuerySide

    @property
    def query_type(self) -> str:
        return self.edge_type[0] if self.query_side == "head" else self.edge_type[2]

    @property
    def answer_type(self) -> str:
        return self.edge_type[2] if self.query_side == "head" else self.edge_type[0]

    def pairs(self, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(query indices, answer indices) of ``(2, E)`` head/tail edges."""
        return (edges[0], edges[1]) if self.query_side == "head" else (edges[1], edges[0])

    @property
    def label(self) -> str:
        return edge_label(self.edge_type)


def task_for(et: EdgeType, query_type: str = "Disease") -> Task:
    """The task that queries ``query_type`` on ``et`` (head side when both ends match)."""
    return Task(et, "head" if et[0] == query_type else "tail")


class Scorer(Protocol):
    """Anything that scores all candidates for some queries."""

    def scores(self, task: Task, queries: np.ndarray) -> np.ndarray:
        """``(len(queries), n_candidates)`` scores, higher = more likely linked."""
        ...


def realistic_rank(scores: np.ndarray, answer: int, exclude: np.ndarray | None = None) -> float:
    """Filtered rank of ``answer`` in ``scores`` (1 = best), ties counted half.

    Parameters
    ----------
    scores : (N,) array
    answer : int
    exclude : int array, optional
        Candidates removed before ranking (other known answers); ``answer`` itself is never removed.
    """
    s = scores.astype(np.float64, copy=True)
    if exclude is not None and len(exclude):
        ex = exclude[exclude != answer]
        s[ex] = -np.inf
    t = s[answer]
    greater = np.sum(s > t)
    equal = np.sum(s == t) - 1
    return float(1 + greater + equal / 2.0)


def _auc(labels: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    from sklearn.metrics import average_precision_score, roc_auc_score

    if labels.min() == labels.max():
        return float("nan"), float("nan")
    return float(roc_auc_score(labels, scores)), float(average_precision_score(labels, scores))


def evaluate_task(
    model: Scorer,
    split: LinkSplit,
    task: Task,
    *,
    part: str = "test",
    ks: Sequence[int] = (1, 3, 10),
    batch: int = 64,
    return_ranks: bool = False,
) -> dict[str, Any]:
    """Filtered MRR, Hits@k, AUROC and AUPRC of ``model`` on ``split.positives[task.edge_type][part]``.

    Returns
    -------
    dict
        ``mrr``, ``hits@k``, ``auroc``, ``auprc``, ``n_queries``, ``n_positives``,
        ``n_negatives`` (and ``ranks`` when asked).
    """
    et = task.edge_type
    q_all, a_all = task.pairs(split.all_positives(et))
    q_test, a_test = task.pairs(split.positives[et][part])
    seen_parts = [p for p in ("train", "val", "test") if p != part]
    q_seen, a_seen = task.pairs(np.concatenate([split.positives[et][p] for p in seen_parts], axis=1))
    known: dict[int, np.ndarray] = {}
    order = np.argsort(q_all, kind="stable")
    qs, starts = np.unique(q_all[order], return_index=True)
    for q, chunk in zip(qs, np.split(a_all[order], starts[1:])):
        known[int(q)] = chunk
    seen: dict[int, list[int]] = {}
    for q, a in zip(q_seen, a_seen):
        seen.setdefault(int(q), []).append(int(a))
    queries = np.unique(q_test)
    ranks: list[float] = []
    labels: list[np.ndarray] = []
    preds: list[np.ndarray] = []
    for b in range(0, len(queries), batch):
        qb = queries[b:b + batch]
        S = np.asarray(model.scores(task, qb), dtype=np.float64)
        for row, q in enumerate(qb):
            s = S[row]
            answers = a_test[q_test == q]
            for a in answers:
                ranks.append(realistic_rank(s, int(a), known.get(int(q))))
            keep = np.ones(len(s), dtype=bool)
            keep[np.asarray(seen.get(int(q), []), dtype=np.int64)] = False
            y = np.zeros(len(s), dtype=np.int8)
            y[answers] = 1
            labels.append(y[keep])
            preds.append(s[keep])
    r = np.asarray(ranks)
    y = np.concatenate(labels) if labels else np.zeros(0)
    p = np.concatenate(preds) if preds else np.zeros(0)
    auroc, auprc = _auc(y, p) if len(y) else (float("nan"), float("nan"))
    out: dict[str, Any] = {
        "mrr": float(np.mean(1.0 / r)) if len(r) else float("nan"),
        **{f"hits@{k}": float(np.mean(r <= k)) if len(r) else float("nan") for k in ks},
        "mean_rank": float(np.mean(r)) if len(r) else float("nan"),
        "auroc": auroc,
        "auprc": auprc,
        "n_queries": int(len(queries)),
        "n_positives": int(len(r)),
        "n_negatives": int(len(y) - y.sum()) if len(y) else 0,
        "n_candidates": int(split.train_graph.num_nodes(task.answer_type)),
    }
    if return_ranks:
        out["ranks"] = r.tolist()
    return out


def mean_sd(runs: Sequence[dict[str, Any]], keys: Sequence[str] | None = None) -> dict[str, dict[str, float]]:
    """Mean and sample sd (ddof=1) per metric over seeds."""
    keys = keys or [k for k, v in runs[0].items() if isinstance(v, (int, float))]
    out = {}
    for k in keys:
        v = np.array([r[k] for r in runs if k in r and r[k] is not None], dtype=float)
        out[k] = {"mean": float(np.nanmean(v)) if len(v) else float("nan"),
                  "sd": float(np.nanstd(v, ddof=1)) if len(v) > 1 else 0.0, "n": int(len(v))}
    return out
