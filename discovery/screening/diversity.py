"""Diversity picking, Butina clustering and the applicability-domain score.

All three work on a :class:`~discovery.screening.index.FingerprintIndex`
(or anything :func:`~discovery.screening.search.topk_search` accepts) and
speak in input positions.

* :func:`maxmin_pick`: MaxMin diversity picking (Ashton et al. 2002): each
  new pick is the molecule whose largest Tanimoto similarity to everything
  picked so far (including pre-chosen compounds) is smallest. The first pick
  (without pre-chosen compounds) is drawn with ``numpy.random.default_rng(seed)``;
  ties go to the lowest input position, so a seed gives one answer.
* :func:`butina_cluster`: Taylor-Butina clustering (Butina 1999), the same
  algorithm and tie order as ``rdkit.ML.Cluster.Butina.ClusterData`` (without
  reordering): molecules are neighbours when ``1 - Tanimoto <= cutoff``;
  centroids are taken by descending neighbour count, ties to the higher
  position, exactly as RDKit sorts.
* :func:`max_similarity` / :func:`applicability_domain`: nearest-neighbour
  applicability domain: for each query the largest Tanimoto to a training set
  and which training molecule it is (Sheridan et al. 2004).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from discovery.errors import InputError
from discovery.screening.fingerprints import FingerprintSpec, ratio
from discovery.screening.index import FingerprintIndex

__all__ = ["PickResult", "maxmin_pick", "butina_cluster", "max_similarity", "applicability_domain"]

_BLOCK = 65536


def _lib(library: Any, spec: FingerprintSpec | None) -> FingerprintIndex:
    from discovery.screening.search import _as_library

    return _as_library(library, spec)


def _sims_to(lib: FingerprintIndex, fp: np.ndarray, fp_pc: int) -> np.ndarray:
    """Exact Tanimoto of one packed fingerprint to every stored row (stored order), in blocks."""
    n = len(lib)
    out = np.empty(n, dtype=np.float64)
    for s in range(0, n, _BLOCK):
        blk = np.asarray(lib.fps[s:s + _BLOCK])
        inter = np.bitwise_count(blk & fp[None, :]).sum(-1, dtype=np.int64)
        out[s:s + _BLOCK] = ratio(inter, fp_pc + np.asarray(lib.popcounts[s:s + _BLOCK], dtype=np.int64) - inter)
    return out


@dataclass
class PickResult:
    """MaxMin picks.

    Attributes
    ----------
    positions : np.ndarray
        ``[m]`` int64 input positions of the new picks, in pick order.
    max_sim : np.ndarray
        ``[m]`` float64: each pick's largest Tanimoto to the molecules chosen
        before it (NaN for the very first, random pick).
    """

    positions: np.ndarray
    max_sim: np.ndarray

    def to_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame({"pick": np.arange(1, len(self.positions) + 1), "position": self.positions,
                             "max_sim_to_picked": self.max_sim})


def maxmin_pick(
    library: Any,
    n: int,
    *,
    seed: int = 0,
    chosen: Sequence[int] | None = None,
    chosen_fps: np.ndarray | None = None,
    spec: FingerprintSpec | None = None,
) -> PickResult:
    """Pick ``n`` diverse molecules by MaxMin.

    Parameters
    ----------
    library : FingerprintIndex, packed array or list of SMILES
    n : int
        Molecules to pick (at most the library size minus those already chosen).
    seed : int
        Seeds the first pick when nothing is pre-chosen.
    chosen : sequence of int, optional
        Input positions in ``library`` already chosen (not picked again).
    chosen_fps : np.ndarray, optional
        ``[c, W]`` packed fingerprints of chosen compounds outside the library.

    Returns
    -------
    PickResult
    """
    lib = _lib(library, spec)
    N = len(lib)
    chosen = [] if chosen is None else [int(c) for c in chosen]
    for c in chosen:
        if not 0 <= c < N:
            raise InputError(f"pre-chosen position {c} is outside the library (0..{N - 1})")
    avail = N - len(set(chosen))
    if int(n) < 0 or int(n) > avail:
        raise InputError(f"cannot pick {n} molecules: the library has {avail} not already chosen")
    pos_stored = np.asarray(lib.positions, dtype=np.int64)
    maxsim = np.full(N, -np.inf)  # stored order: largest similarity to the chosen set
    taken = np.zeros(N, dtype=bool)
    rows_of = lib.rows_of
    seeds: list[tuple[np.ndarray, int]] = []
    if chosen:
        for r in rows_of(chosen):
            taken[r] = True
            seeds.append((np.asarray(lib.fps[r]), int(lib.popcounts[r])))
    if chosen_fps is not None and len(chosen_fps):
        from discovery.screening.fingerprints import popcount

        cf = np.ascontiguousarray(chosen_fps, dtype=np.uint64)
        for fp, pc in zip(cf, popcount(cf)):
            seeds.append((fp, int(pc)))
    for fp, pc in seeds:
        np.maximum(maxsim, _sims_to(lib, fp, pc), out=maxsim)
    picks: list[int] = []
    pick_sim: list[float] = []
    if int(n) == 0:
        return PickResult(np.zeros(0, np.int64), np.zeros(0))
    if not seeds:
        first = int(np.random.default_rng(seed).integers(N))
        r = int(rows_of([first])[0])
        picks.append(first)
        pick_sim.append(np.nan)
        taken[r] = True
        np.maximum(maxsim, _sims_to(lib, np.asarray(lib.fps[r]), int(lib.popcounts[r])), out=maxsim)
    while len(picks) < int(n):
        cand = np.where(taken, np.inf, maxsim)
        best = cand.min()
        rows = np.flatnonzero(cand == best)
        r = int(rows[np.argmin(pos_stored[rows])])  # ties: lowest input position
        picks.append(int(pos_stored[r]))
        pick_sim.append(float(best))
        taken[r] = True
        np.maximum(maxsim, _sims_to(lib, np.asarray(lib.fps[r]), int(lib.popcounts[r])), out=maxsim)
    return PickResult(np.asarray(picks, dtype=np.int64), np.asarray(pick_sim, dtype=np.float64))


def butina_cluster(library: Any, cutoff: float = 0.4, *, spec: FingerprintSpec | None = None,
                   kernel: str | None = None) -> Any:
    """Taylor-Butina clusters at Tanimoto *distance* ``cutoff`` (neighbours: ``1 - sim <= cutoff``).

    Parameters
    ----------
    library : FingerprintIndex, packed array or list of SMILES
    cutoff : float
        Distance cutoff in [0, 1); 0.4 means similarity at least 0.6.

    Returns
    -------
    pandas.DataFrame
        One row per molecule in input order: ``position``, ``cluster`` (0 =
        first cluster formed = largest neighbourhood), ``centroid`` (bool),
        ``cluster_size``, ``sim_to_centroid``.
    """
    import pandas as pd

    from discovery.screening.search import threshold_search

    c = float(cutoff)
    if not 0.0 <= c < 1.0:
        raise InputError(f"Butina distance cutoff must be in [0, 1), got {cutoff}")
    lib = _lib(library, spec)
    N = len(lib)
    hits = threshold_search(lib, lib, max(1e-9, 1.0 - c - 1e-9), kernel=kernel)
    keep = (1.0 - hits.scores) <= c
    qa, ta, sa = hits.query[keep], hits.target[keep], hits.scores[keep]
    # neighbour lists in index order, self included (as RDKit)
    order = np.lexsort((ta, qa))
    qa, ta, sa = qa[order], ta[order], sa[order]
    counts = np.bincount(qa, minlength=N)
    starts = np.concatenate([[0], np.cumsum(counts)])
    # RDKit: sort (count, idx) descending -> ties to the higher index
    seq = np.lexsort((-np.arange(N), -counts))
    label = np.full(N, -1, dtype=np.int64)
    centroid = np.zeros(N, dtype=bool)
    sim_c = np.full(N, np.nan)
    cid = 0
    for idx in seq:
        if counts[idx] <= 1:
            break
        if label[idx] >= 0:
            continue
        label[idx] = cid
        centroid[idx] = True
        sim_c[idx] = 1.0
        nb = ta[starts[idx]:starts[idx + 1]]
        ns = sa[starts[idx]:starts[idx + 1]]
        free = label[nb] < 0
        label[nb[free]] = cid
        sim_c[nb[free]] = ns[free]
        cid += 1
    for idx in seq:  # remaining singletons, in the same order as RDKit
        if label[idx] < 0:
            label[idx] = cid
            centroid[idx] = True
            sim_c[idx] = 1.0
            cid += 1
    size = np.bincount(label, minlength=cid)
    return pd.DataFrame({"position": np.arange(N), "cluster": label, "centroid": centroid,
                         "cluster_size": size[label], "sim_to_centroid": sim_c})


def max_similarity(query: Any, train: Any, *, spec: FingerprintSpec | None = None,
                   kernel: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Largest Tanimoto of each query to a training set, and the nearest training molecule.

    Parameters
    ----------
    query : list of SMILES, packed array or FingerprintIndex
    train : FingerprintIndex, packed array or list of SMILES

    Returns
    -------
    sim : np.ndarray
        ``[Q]`` float64 max Tanimoto (1.0: the query is in the training set).
    nearest : np.ndarray
        ``[Q]`` int64 training input position of the nearest neighbour (lowest on ties).
    """
    from discovery.screening.search import topk_search

    res = topk_search(query, train, k=1, kernel=kernel, spec=spec)
    return res.scores[:, 0], res.indices[:, 0]


def applicability_domain(
    query_smiles: Sequence[str],
    training: Any,
    *,
    spec: FingerprintSpec | None = None,
    threshold: float | None = None,
    kernel: str | None = None,
) -> Any:
    """Nearest-neighbour applicability domain of query molecules.

    Parameters
    ----------
    query_smiles : sequence of str
        ``[Q]`` molecules to score; an unparsable one gets NaN (never an error,
        so a prediction file keeps its rows).
    training : sequence of str, FingerprintIndex, or path of an index folder
        The model's training molecules.
    spec : FingerprintSpec, optional
        Fingerprint (default Morgan radius 2, 2048 bits; an index brings its own).
    threshold : float, optional
        If given, a boolean ``ad_in_domain`` column says ``ad_max_sim >= threshold``.

    Returns
    -------
    pandas.DataFrame
        ``[Q]`` rows: ``ad_max_sim`` (float), ``ad_nearest`` (training input
        position, -1 if the query is invalid), ``ad_nearest_smiles``, and
        ``ad_in_domain`` when ``threshold`` is set.

    Examples
    --------
    >>> ad = applicability_domain(pred["smiles"], train_smiles, threshold=0.35)  # doctest: +SKIP
    >>> pred = pred.join(ad)  # doctest: +SKIP
    """
    import pandas as pd

    from discovery.screening.fingerprints import fingerprint_smiles

    if isinstance(training, (str, os.PathLike)):
        from discovery.screening.index import open_index

        training = open_index(training)
    if isinstance(training, FingerprintIndex):
        lib = training
    else:
        lib = FingerprintIndex.from_smiles(list(training), spec or FingerprintSpec(), on_error="report")
        if len(lib) == 0:
            raise InputError("the training set has no valid molecule")
    qs = list(query_smiles)
    packed, ok, _ = fingerprint_smiles(qs, lib.spec, on_error="report")
    sim = np.full(len(qs), np.nan)
    near = np.full(len(qs), -1, dtype=np.int64)
    if len(packed):
        s, nb = max_similarity(packed, lib, kernel=kernel)
        sim[ok], near[ok] = s, nb
    smiles = np.array([""] * len(qs), dtype=object)
    if ok.any():
        smiles[ok] = lib.smiles_at(near[ok])
    out = pd.DataFrame({"ad_max_sim": sim, "ad_nearest": near, "ad_nearest_smiles": smiles})
    if threshold is not None:
        out["ad_in_domain"] = sim >= float(threshold)
    return out
