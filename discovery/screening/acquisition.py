"""Acquisition functions and diverse batch selection for active learning.

Acquisitions (:data:`ACQUISITIONS`, chosen by name; larger is better, the
goal is to *maximise* the property unless ``maximize=False``):

``ei``        expected improvement over the best measured value ``y*``:
              ``(mu - y* - xi) Phi(z) + sd phi(z)``, ``z = (mu - y* - xi) / sd`` (Jones et al. 1998)
``ucb``       upper confidence bound ``mu + beta * sd`` (Srinivas et al. 2010)
``thompson``  Thompson sampling: one joint posterior draw per batch slot, its argmax
``random``    uniform random (the baseline)
``greedy``    posterior mean (pure exploitation)

Batch selection (:func:`select_batch`): the library is scored with the GP in
chunks; the ``pool`` best candidates by the acquisition are kept, and the
batch is then built greedily with the *kriging believer* (Ginsbourger et al.
2010): after each pick its posterior mean is taken as if measured, which
leaves the mean unchanged and shrinks the posterior covariance of the
remaining candidates (``Sigma <- Sigma - Sigma[:, j] Sigma[j, :] / (Sigma[j, j] + noise)``),
so the next pick goes elsewhere. In addition no pick may have Tanimoto
``>= max_sim`` to an earlier pick of the same batch. Thompson draws are
taken jointly from the pool's posterior. Every pick gets a ``reason``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from discovery.errors import ConfigError, InputError

__all__ = ["ACQUISITIONS", "expected_improvement", "ucb", "select_batch"]

log = logging.getLogger(__name__)


def expected_improvement(mu: np.ndarray, sd: np.ndarray, best: float, xi: float = 0.0) -> np.ndarray:
    """EI of maximisation, ``[m]`` (0 where ``sd`` is 0 and ``mu <= best``)."""
    from scipy.stats import norm

    sd = np.maximum(sd, 1e-12)
    imp = mu - best - xi
    z = imp / sd
    return imp * norm.cdf(z) + sd * norm.pdf(z)


def ucb(mu: np.ndarray, sd: np.ndarray, beta: float = 2.0) -> np.ndarray:
    """Upper confidence bound ``mu + beta * sd``, ``[m]``."""
    return mu + beta * sd


@dataclass
class _Ctx:
    best: float
    beta: float
    xi: float


ACQUISITIONS: dict[str, Callable[[np.ndarray, np.ndarray, _Ctx], np.ndarray]] = {
    "ei": lambda mu, sd, c: expected_improvement(mu, sd, c.best, c.xi),
    "ucb": lambda mu, sd, c: ucb(mu, sd, c.beta),
    "greedy": lambda mu, sd, c: mu,
    "thompson": lambda mu, sd, c: ucb(mu, sd, 2.0),  # pool pre-selection only; picks come from draws
    "random": lambda mu, sd, c: np.zeros_like(mu),
}


def _tanimoto_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact Tanimoto ``[len(a), len(b)]`` of packed fingerprints (small sets)."""
    from discovery.screening.fingerprints import popcount, ratio

    inter = np.bitwise_count(a[:, None, :] & b[None, :, :]).sum(-1, dtype=np.int64)
    return ratio(inter, popcount(a)[:, None].astype(np.int64) + popcount(b)[None, :] - inter)


def select_batch(
    gp: Any,
    library_smiles: Sequence[str],
    budget: int,
    *,
    acquisition: str = "ei",
    maximize: bool = True,
    beta: float = 2.0,
    xi: float = 0.0,
    max_sim: float = 0.9,
    pool: int | None = None,
    seed: int = 0,
    exclude: Sequence[int] | None = None,
    library_fps: np.ndarray | None = None,
    train_fps: np.ndarray | None = None,
    library_features: np.ndarray | None = None,
    chunk: int = 4096,
) -> Any:
    """Choose the next ``budget`` molecules to measure.

    Parameters
    ----------
    gp : TanimotoGP
        Fitted on the measured molecules.
    library_smiles : sequence of str
        ``[m]`` candidates (valid SMILES).
    budget : int
        Batch size.
    acquisition : {"ei", "ucb", "thompson", "random", "greedy"}
    maximize : bool
        Maximise the property (False: minimise; the GP's values are negated internally).
    beta, xi : float
        UCB exploration weight; EI margin (in property units).
    max_sim : float
        No two picks of a batch may have Tanimoto ``>= max_sim`` (1.0 disables).
    pool : int, optional
        Candidates kept for the sequential batch step (default ``max(2000, 20 * budget)``).
    seed : int
        Seeds ``random`` and ``thompson``.
    exclude : sequence of int, optional
        Library positions never to pick (e.g. already measured).
    library_fps, train_fps : np.ndarray, optional
        Packed binary fingerprints (default: computed) for similarity reasons and ``max_sim``.
    library_features : np.ndarray, optional
        ``[m, nbits]`` the GP's features of the library (``gp.featurize(library_smiles)``), to save recomputing.

    Returns
    -------
    pandas.DataFrame
        ``budget`` rows in pick order: ``rank, position, smiles, acquisition,
        score, mean, sd, nearest_measured_sim, max_sim_in_batch, reason``.
    """
    import pandas as pd

    from discovery.screening.fingerprints import fingerprint_smiles

    if acquisition not in ACQUISITIONS:
        raise ConfigError(f"unknown acquisition {acquisition!r}; choose one of {', '.join(ACQUISITIONS)}")
    smiles = list(library_smiles)
    m = len(smiles)
    budget = int(budget)
    excl = np.zeros(m, dtype=bool)
    if exclude is not None:
        excl[np.asarray(list(exclude), dtype=np.int64)] = True
    if budget < 1 or budget > int((~excl).sum()):
        raise InputError(f"budget must be between 1 and the {int((~excl).sum())} selectable library molecules, "
                         f"got {budget}")
    sign = 1.0 if maximize else -1.0
    rng = np.random.default_rng(seed)
    if library_fps is None:
        library_fps = fingerprint_smiles(smiles, gp.spec, on_error="raise")[0]
    # 1. score the whole library in chunks
    mu = np.empty(m)
    sd = np.empty(m)
    for s in range(0, m, chunk):
        part = library_features[s:s + chunk] if library_features is not None else smiles[s:s + chunk]
        mu[s:s + chunk], sd[s:s + chunk] = gp.predict(part)[:2]
    smu = sign * mu
    ctx = _Ctx(best=float(np.max(sign * gp.y)), beta=float(beta), xi=float(xi))
    acq0 = ACQUISITIONS[acquisition](smu, sd, ctx)
    # 2. candidate pool
    P = int(pool or max(2000, 20 * budget))
    if acquisition == "random":
        cand = rng.permutation(np.flatnonzero(~excl))[: max(P, budget)]
    else:
        order = np.lexsort((np.arange(m), -np.where(excl, -np.inf, acq0)))
        cand = order[: min(P, int((~excl).sum()))]
    cand = np.asarray(cand, dtype=np.int64)
    fps_c = library_fps[cand]
    picks: list[int] = []  # indices into cand
    scores: list[float] = []
    batch_sim: list[float] = []
    blocked = np.zeros(len(cand), dtype=bool)
    noise = gp.noise * gp.y_std ** 2
    if acquisition in ("ei", "ucb", "greedy", "thompson"):
        feats = library_features[cand] if library_features is not None else gp.featurize([smiles[i] for i in cand])
        _, _, cov = gp.predict(feats, return_cov=True)
    else:
        cov = None
    draws = None
    if acquisition == "thompson":
        w, V = np.linalg.eigh((cov + cov.T) / 2)
        L = V * np.sqrt(np.maximum(w, 0))[None, :]
        draws = sign * mu[cand][None, :] + (L @ rng.standard_normal((len(cand), budget))).T  # [budget, P]
    for slot in range(budget):
        if acquisition == "random":
            ok = np.flatnonzero(~blocked)
            if len(ok) == 0:
                break
            j = int(ok[0])
            val = float("nan")
        else:
            if acquisition == "thompson":
                a = draws[slot].copy()
            else:
                var_f = np.maximum(np.diag(cov), 1e-12)
                a = ACQUISITIONS[acquisition](smu[cand], np.sqrt(var_f + noise), ctx)
            a[blocked] = -np.inf
            if not np.isfinite(a).any():
                break
            j = int(np.argmax(a))
            val = float(a[j])
            # kriging believer: condition on a noisy observation at j (mean unchanged)
            if cov is not None:
                cj = cov[:, j].copy()
                cov = cov - np.outer(cj, cj) / (cj[j] + noise)
        sims = _tanimoto_rows(fps_c[j:j + 1], fps_c)[0]
        batch_sim.append(float(np.max(sims[picks])) if picks else float("nan"))
        picks.append(j)
        scores.append(val)
        blocked[j] = True
        if max_sim < 1.0:
            blocked |= sims >= max_sim
    if len(picks) < budget:
        raise InputError(f"only {len(picks)} molecules could be chosen with max_sim={max_sim}; "
                         f"raise max_sim or the pool size", hint="e.g. --max-sim 0.95 or --pool 10000")
    pos = cand[np.asarray(picks)]
    # nearest measured molecule
    if train_fps is None:
        from discovery.screening.fingerprints import pack_bits

        train_fps = pack_bits(gp.counts > 0)
    near = _tanimoto_rows(library_fps[pos], train_fps)
    nsim = near.max(1)
    nidx = near.argmax(1)
    reasons = []
    for r, (p, sc) in enumerate(zip(pos, scores)):
        bs = batch_sim[r]
        what = {"ei": f"expected improvement {sc:.3g}", "ucb": f"UCB {sc:.3g} (beta {beta:g})",
                "greedy": "highest predicted value", "thompson": f"Thompson draw {sc * sign:.3g}",
                "random": "random pick"}[acquisition]
        reasons.append(
            f"{what}; predicted {mu[p]:.3g} ± {sd[p]:.3g}; nearest measured molecule #{nidx[r]} at "
            f"Tanimoto {nsim[r]:.2f}" + ("" if np.isnan(bs) else f"; most similar earlier pick {bs:.2f}"))
    return pd.DataFrame({
        "rank": np.arange(1, len(pos) + 1), "position": pos, "smiles": [smiles[i] for i in pos],
        "acquisition": acquisition, "score": scores, "mean": mu[pos], "sd": sd[pos],
        "nearest_measured_sim": nsim, "nearest_measured": nidx, "max_sim_in_batch": batch_sim,
        "reason": reasons,
    })
