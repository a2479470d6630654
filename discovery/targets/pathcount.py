"""Rephetio-style link prediction: degree-weighted walk counts over metapaths + logistic regression.

For a (query, candidate) pair and a metapath ``m`` of length <= 3 (e.g. D-r-D-a-G),
the feature is the *degree-weighted path count*

.. math::

    \\mathrm{DWPC}_m(s, t) = \\sum_{\\text{walks } s=n_0 \\to \\dots \\to n_k = t}
        \\prod_{i=1}^{k} \\big(d_{e_i}(n_{i-1})\\, d_{e_i}(n_i)\\big)^{-w},

with :math:`d_e(n)` the degree of ``n`` for the step's edge type and ``w = 0.4``
(Himmelstein et al. 2017). It is computed as a product of degree-normalised
sparse adjacency matrices ``D_out^{-w} A D_in^{-w}``. Walks may revisit a node
(the matrix form; Rephetio's DWPC excludes such walks), which is why training
features are computed *fold-masked*: the positives of fold ``k`` are featurised
on the training graph with fold ``k``'s target edges removed, exactly as test
pairs are featurised on a graph without their own edge (for held-out diseases,
without any target edge of the fold's diseases: :func:`fold_graph`). Features are
``asinh(DWPC / mean DWPC)`` standardised, fed with the candidate's log-degree
to an elastic-net logistic regression; ``coefficient x feature`` is each
metapath's contribution to a prediction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .evaluate import Task, task_for
from .kg import METAEDGES as METAEDGES_ABBR
from .kg import UNDIRECTED, EdgeType, KnowledgeGraph, abbreviation
from .splits import LinkSplit

log = logging.getLogger(__name__)

Step = tuple[EdgeType, bool]  # (edge type, forward?)


def step_types(step: Step) -> tuple[str, str]:
    et, fwd = step
    return (et[0], et[2]) if fwd else (et[2], et[0])


def metapath_label(path: Sequence[Step]) -> str:
    """Hetionet-style label, e.g. ``DrDaG`` or ``CbGaD``; a backward directed step is marked ``<`` (``G<rG``)."""
    out = ""
    for i, (et, fwd) in enumerate(path):
        src, dst = step_types((et, fwd))
        ab = abbreviation(et)
        if ab in METAEDGES_ABBR:
            rel = ab[len(_abbr(et[0])):len(ab) - len(_abbr(et[2]))]
        else:
            rel = "-" + et[1] + "-"
        if not fwd and rel.endswith(">"):
            rel = "<" + rel[:-1]
        out += (_abbr(src) if i == 0 else "") + rel + _abbr(dst)
    return out


def _abbr(node_type: str) -> str:
    from .kg import NODE_ABBREV

    for k, v in NODE_ABBREV.items():
        if v == node_type:
            return k
    return node_type


def enumerate_metapaths(edge_types: Sequence[EdgeType], source: str, target: str, max_length: int = 3,
                        exclude: EdgeType | None = None) -> list[tuple[Step, ...]]:
    """Every metapath from ``source`` to ``target`` type of 1..``max_length`` steps.

    Undirected same-type relations are walked once (symmetrised); the direct target edge
    (``exclude``, length 1) is left out.
    """
    steps: list[Step] = []
    for et in edge_types:
        steps.append((et, True))
        if not (et[0] == et[2] and abbreviation(et) in UNDIRECTED):
            steps.append((et, False))
    out: list[tuple[Step, ...]] = []

    def grow(path: tuple[Step, ...], at: str) -> None:
        if path and at == target:
            if not (len(path) == 1 and exclude is not None and path[0][0] == exclude):
                out.append(path)
        if len(path) == max_length:
            return
        for st in steps:
            a, b = step_types(st)
            if a == at:
                grow(path + (st,), b)

    grow((), source)
    return out


class _Matrices:
    """Degree-weighted step matrices of one graph."""

    def __init__(self, kg: KnowledgeGraph, damping: float) -> None:
        self.kg, self.w = kg, damping
        self._cache: dict[Step, Any] = {}

    def adjacency(self, step: Step):
        import scipy.sparse as sp

        et, fwd = step
        e = self.kg.edges.get(et, np.zeros((2, 0), dtype=np.int64))
        ns, nt = self.kg.num_nodes(et[0]), self.kg.num_nodes(et[2])
        A = sp.csr_matrix((np.ones(e.shape[1]), (e[0], e[1])), shape=(ns, nt))
        if et[0] == et[2] and abbreviation(et) in UNDIRECTED:
            A = ((A + A.T) > 0).astype(np.float64).tocsr()
        return A if fwd else A.T.tocsr()

    def weighted(self, step: Step):
        W = self._cache.get(step)
        if W is None:
            import scipy.sparse as sp

            A = self.adjacency(step)
            dr = np.asarray(A.sum(axis=1)).ravel()
            dc = np.asarray(A.sum(axis=0)).ravel()
            with np.errstate(divide="ignore"):
                r = np.where(dr > 0, dr ** -self.w, 0.0)
                c = np.where(dc > 0, dc ** -self.w, 0.0)
            W = (sp.diags(r) @ A @ sp.diags(c)).tocsr()
            self._cache[step] = W
        return W

    def dwpc(self, paths: Sequence[tuple[Step, ...]], queries: np.ndarray):
        """Yield ``(path, (len(queries), n_target) dense array)`` for every metapath, sharing prefixes."""
        memo: dict[tuple[Step, ...], np.ndarray] = {}

        def get(path: tuple[Step, ...]) -> np.ndarray:
            if path in memo:
                return memo[path]
            W = self.weighted(path[-1])
            if len(path) == 1:
                X = W[queries].toarray().astype(np.float32)
            else:
                prev = get(path[:-1])
                X = np.asarray((W.T @ prev.T).T, dtype=np.float32)
            if len(path) < 3:
                memo[path] = X
            return X

        for p in paths:
            for k in [k for k in memo if k != p[: len(k)]]:
                del memo[k]  # keep only the prefixes of the current path
            yield p, get(p)


def fold_graph(split: LinkSplit, task: Task, keep: np.ndarray) -> KnowledgeGraph:
    """Training graph of one fold: ``task``'s training edges where ``keep`` is false are removed.

    For the disease-held-out split, held-out diseases have lost *every* target relation of
    the split (e.g. DaG and CtD), so the fold's queries lose them all too; otherwise paths
    through a query's other target edges (D-t-C-b-G) would exist in training only.
    """
    g, et = split.train_graph, task.edge_type
    pos = split.positives[et]["train"]
    edges = dict(g.edges)
    edges[et] = pos[:, keep]
    if split.kind == "disease":
        held = np.unique(task.pairs(pos[:, ~keep])[0])
        for et2 in split.target_types:
            if et2 == et or task.query_type not in (et2[0], et2[2]):
                continue
            e2 = edges[et2]
            edges[et2] = e2[:, ~np.isin(task_for(et2, task.query_type).pairs(e2)[0], held)]
    return g.copy_with_edges(edges)


@dataclass
class _TaskModel:
    paths: list[tuple[Step, ...]]
    scale: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    coef: np.ndarray
    intercept: float
    cand_degree: np.ndarray


class PathCountModel:
    """Degree-weighted path counts over metapaths (length <= 3) + elastic-net logistic regression.

    Parameters
    ----------
    max_length : int
        Longest metapath (default 3).
    damping : float
        Degree-damping exponent ``w`` (Rephetio: 0.4).
    n_folds : int
        Folds for fold-masked training features.
    negatives : int
        Random negative pairs per positive for training.
    C, l1_ratio : float
        Inverse regularisation strength and elastic-net mixing of the logistic regression.
    """

    name = "pathcount"

    def __init__(self, max_length: int = 3, damping: float = 0.4, n_folds: int = 3, negatives: int = 5,
                 C: float = 0.05, l1_ratio: float = 0.5, seed: int = 0) -> None:
        self.max_length, self.damping, self.n_folds, self.negatives = max_length, damping, n_folds, negatives
        self.C, self.l1_ratio, self.seed = C, l1_ratio, seed
        self.models: dict[Task, _TaskModel] = {}

    # ------------------------------------------------------------------ features
    def _features(self, mats: _Matrices, tm: _TaskModel, task: Task, q: np.ndarray, c: np.ndarray | None) -> np.ndarray:
        """(pairs, F) features; ``c=None`` means every candidate for every query ((nq*N), F)."""
        feats = []
        for _, X in mats.dwpc(tm.paths, q if c is None else np.unique(q)):
            if c is not None:
                uq = np.unique(q)
                pos = np.searchsorted(uq, q)
                X = X[pos, c]
            feats.append(np.arcsinh(np.asarray(X, dtype=np.float64).ravel()))
        F = np.stack(feats, axis=1) / tm.scale
        deg = tm.cand_degree if c is None else tm.cand_degree[c]
        if c is None:
            deg = np.tile(tm.cand_degree, len(q))
        return np.concatenate([F, np.log1p(deg)[:, None]], axis=1)

    def fit(self, split: LinkSplit, tasks: Sequence[Task], seed: int | None = None) -> "PathCountModel":
        """Train one logistic regression per task on fold-masked features of ``split``'s training graph."""
        from sklearn.linear_model import LogisticRegression

        seed = self.seed if seed is None else seed
        rng = np.random.default_rng(seed)
        g = split.train_graph
        self.graph = g
        self.mats = _Matrices(g, self.damping)
        for task in tasks:
            et = task.edge_type
            paths = enumerate_metapaths(g.edge_types, task.query_type, task.answer_type, self.max_length, exclude=et)
            pos = split.positives[et]["train"]
            qp, ap = task.pairs(pos)
            n_cand = g.num_nodes(task.answer_type)
            cand_degree = np.bincount(ap, minlength=n_cand).astype(np.float64)
            # scale: mean asinh-free DWPC over all pairs of the training graph, per metapath
            queries = np.arange(g.num_nodes(task.query_type))
            scale = np.ones(len(paths))
            for j, (_, X) in enumerate(self.mats.dwpc(paths, queries)):
                m = float(np.arcsinh(X).mean())
                scale[j] = m if m > 0 else 1.0
            # folds: by query for held-out-node splits, else by edge
            if split.kind == "disease":
                uq = np.unique(qp)
                fold_of_q = dict(zip(uq.tolist(), rng.permutation(len(uq)) % self.n_folds))
                fold = np.array([fold_of_q[int(q)] for q in qp])
            else:
                fold = rng.permutation(len(qp)) % self.n_folds
            known = set((qp * n_cand + ap).tolist())
            Xs, ys = [], []
            tm = _TaskModel(paths, scale, np.zeros(0), np.ones(0), np.zeros(0), 0.0, cand_degree)
            for k in range(self.n_folds):
                m = fold == k
                keep = ~m
                gk = fold_graph(split, task, keep)
                mk = _Matrices(gk, self.damping)
                tm.cand_degree = np.bincount(task.pairs(pos[:, keep])[1], minlength=n_cand).astype(np.float64)
                nq = int(m.sum())
                nn = nq * self.negatives
                neg_q = rng.choice(qp[m], size=nn)
                neg_c = rng.integers(0, n_cand, size=nn)
                ok = np.array([(a * n_cand + b) not in known for a, b in zip(neg_q, neg_c)])
                q_all = np.concatenate([qp[m], neg_q[ok]])
                c_all = np.concatenate([ap[m], neg_c[ok]])
                Xs.append(self._features(mk, tm, task, q_all, c_all))
                ys.append(np.concatenate([np.ones(nq), np.zeros(int(ok.sum()))]))
            tm.cand_degree = cand_degree
            X, y = np.concatenate(Xs), np.concatenate(ys)
            tm.mean, tm.std = X.mean(0), X.std(0) + 1e-9
            clf = LogisticRegression(penalty="elasticnet", solver="saga", C=self.C, l1_ratio=self.l1_ratio,
                                     max_iter=300, tol=1e-3, random_state=seed)
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                clf.fit((X - tm.mean) / tm.std, y)
            tm.coef, tm.intercept = clf.coef_.ravel(), float(clf.intercept_[0])
            self.models[task] = tm
            log.info("pathcount %s: %d metapaths, %d nonzero coefficients", task.label, len(paths),
                     int(np.sum(tm.coef != 0)))
        return self

    def scores(self, task: Task, queries: np.ndarray) -> np.ndarray:
        """``(len(queries), n_candidates)`` logits, accumulated one metapath at a time."""
        tm = self.models[task]
        q = np.asarray(queries)
        n_cand = self.graph.num_nodes(task.answer_type)
        z = np.full((len(q), n_cand), tm.intercept, dtype=np.float64)
        for j, (_, X) in enumerate(self.mats.dwpc(tm.paths, q)):
            if tm.coef[j] != 0:
                z += tm.coef[j] * ((np.arcsinh(X) / tm.scale[j]) - tm.mean[j]) / tm.std[j]
        z += tm.coef[-1] * (np.log1p(tm.cand_degree)[None, :] - tm.mean[-1]) / tm.std[-1]
        return z

    def contributions(self, task: Task, query: int, candidates: np.ndarray) -> tuple[list[str], np.ndarray]:
        """Per-feature contribution ``coef * standardised feature`` for some candidates of one query.

        Returns
        -------
        labels : list of str
            Metapath labels plus ``"candidate degree"``.
        contrib : (len(candidates), F) array
        """
        tm = self.models[task]
        c = np.asarray(candidates)
        F = self._features(self.mats, tm, task, np.full(len(c), query), c)
        labels = [metapath_label(p) for p in tm.paths] + ["candidate degree"]
        return labels, ((F - tm.mean) / tm.std) * tm.coef

    def top_metapaths(self, task: Task, n: int = 10) -> list[tuple[str, float]]:
        """Metapaths with the largest positive coefficients."""
        tm = self.models[task]
        labels = [metapath_label(p) for p in tm.paths] + ["candidate degree"]
        order = np.argsort(-tm.coef)[:n]
        return [(labels[i], float(tm.coef[i])) for i in order if tm.coef[i] > 0]
