r"""Predictive uncertainty: ensembles, MC dropout and variance calibration.

Uncertainty of a regression prediction is the standard deviation
:math:`\sigma` of the member predictions (ensemble), of ``T`` stochastic
forward passes with dropout left on (MC dropout), or of both pooled. Raw
:math:`\sigma` is rarely calibrated, so one scale factor per target is fitted
on the validation set such that :math:`z = (y - \mu) / (s \sigma)` is close to
standard normal. Minimising the Gaussian negative log-likelihood over
:math:`s` has the closed form

.. math::

    s^2 = \frac{1}{n} \sum_i \left(\frac{y_i - \mu_i}{\sigma_i}\right)^2 .

A pure scale fails when some members agree by chance (a 2-3 member ensemble
gives near-zero :math:`\sigma` for some molecules and those few dominate the
fit), so the calibrated deviation also carries a floor :math:`b \ge 0` in
target units,

.. math::

    \sigma_{cal} = \sqrt{(s \sigma)^2 + b^2},

with :math:`(s, b)` fitted jointly by minimising the validation Gaussian NLL
(:func:`fit_calibration`; the closed-form scale above is the start point and
the answer when the floor does not lower the NLL).

Calibration quality is reported as the miscalibration area, the area between
the observed and the expected coverage of central Gaussian intervals over
levels :math:`p \in [0, 1]` (0 is perfect, 0.5 the worst), and the observed
coverage of the 90 % interval.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator, Sequence

import numpy as np
from torch import nn

__all__ = [
    "UNCERTAINTY_METHODS",
    "fit_calibration_scale",
    "fit_calibration",
    "apply_calibration",
    "interval_coverage",
    "miscalibration_area",
    "calibration_report",
    "gaussian_nll",
    "mc_dropout",
    "combine_samples",
    "weighted_mean",
    "effective_mc_p",
]

#: how the ``std`` of a prediction is obtained
UNCERTAINTY_METHODS = ("none", "ensemble", "mc_dropout")


def _flat(y: Any, mu: Any, sigma: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=np.float64).ravel()
    mu = np.asarray(mu, dtype=np.float64).ravel()
    sigma = np.asarray(sigma, dtype=np.float64).ravel()
    ok = np.isfinite(y) & np.isfinite(mu) & np.isfinite(sigma) & (sigma > 0)
    return y[ok], mu[ok], sigma[ok]


def fit_calibration_scale(y: np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Per-target scale ``s`` minimising the Gaussian NLL of ``y ~ N(mu, (s*sigma)^2)``.

    Parameters
    ----------
    y, mu, sigma : np.ndarray, shape [n, t] (or [n])
        Labels (NaN = missing), predicted means and standard deviations.

    Returns
    -------
    np.ndarray, shape [t]
        ``s_j = sqrt(mean(((y - mu) / sigma)^2))`` over usable entries of
        target j (finite label, ``sigma > 0``); 1.0 where none are usable.
    """
    y2 = np.asarray(y, dtype=np.float64)
    y2 = y2.reshape(len(y2), -1)
    mu2 = np.asarray(mu, dtype=np.float64).reshape(y2.shape)
    s2 = np.asarray(sigma, dtype=np.float64).reshape(y2.shape)
    out = np.ones(y2.shape[1])
    for j in range(y2.shape[1]):
        yy, mm, ss = _flat(y2[:, j], mu2[:, j], s2[:, j])
        if yy.size:
            val = float(np.sqrt(np.mean(((yy - mm) / ss) ** 2)))
            if np.isfinite(val) and val > 0:
                out[j] = val
    return out


def apply_calibration(sigma: np.ndarray, scale: Sequence[float], floor: Sequence[float] | None = None) -> np.ndarray:
    """Calibrated deviation ``sqrt((scale * sigma)^2 + floor^2)``, per target (last axis)."""
    sig = np.asarray(sigma, dtype=np.float64)
    sc = np.asarray(scale, dtype=np.float64)
    fl = np.zeros_like(sc) if floor is None else np.asarray(floor, dtype=np.float64)
    return np.sqrt((sig * sc) ** 2 + fl**2)


def fit_calibration(y: np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-target ``(scale, floor)`` minimising the NLL of ``y ~ N(mu, (s sigma)^2 + b^2)``.

    Parameters
    ----------
    y, mu, sigma : np.ndarray, shape [n, t] (or [n])
        Labels (NaN = missing), predicted means and raw standard deviations.

    Returns
    -------
    scale, floor : np.ndarray, shape [t]
        ``floor`` is in target units; ``(s, 0)`` with the closed-form ``s``
        of :func:`fit_calibration_scale` when adding a floor does not help.
    """
    from scipy.optimize import minimize

    y2 = np.asarray(y, dtype=np.float64)
    y2 = y2.reshape(len(y2), -1)
    mu2 = np.asarray(mu, dtype=np.float64).reshape(y2.shape)
    s2 = np.asarray(sigma, dtype=np.float64).reshape(y2.shape)
    scale = fit_calibration_scale(y2, mu2, s2)
    floor = np.zeros(y2.shape[1])
    for j in range(y2.shape[1]):
        yy, mm, ss = _flat(y2[:, j], mu2[:, j], s2[:, j])
        if yy.size < 3:
            continue
        r2 = (yy - mm) ** 2

        def nll(theta: np.ndarray) -> float:
            var = (np.exp(theta[0]) * ss) ** 2 + np.exp(theta[1]) ** 2
            return float(np.mean(0.5 * np.log(var) + 0.5 * r2 / var))

        base = nll(np.array([np.log(scale[j]), -30.0]))
        rmse = float(np.sqrt(np.mean(r2))) or 1e-6
        best = None
        for a0, b0 in ((np.log(scale[j]), np.log(0.5 * rmse)), (0.0, np.log(0.5 * rmse)), (np.log(scale[j]), np.log(0.05 * rmse))):
            res = minimize(nll, np.array([a0, b0]), method="Nelder-Mead", options={"xatol": 1e-6, "fatol": 1e-9, "maxiter": 2000})
            if best is None or res.fun < best.fun:
                best = res
        if best is not None and np.isfinite(best.fun) and best.fun < base - 1e-9:
            scale[j], floor[j] = float(np.exp(best.x[0])), float(np.exp(best.x[1]))
    return scale, floor


def _z(level: np.ndarray) -> np.ndarray:
    from scipy.stats import norm

    return norm.ppf(0.5 + np.asarray(level, dtype=np.float64) / 2.0)


def interval_coverage(y: np.ndarray, mu: np.ndarray, sigma: np.ndarray, level: float = 0.9) -> float | None:
    """Fraction of labels inside the central ``level`` Gaussian interval ``mu ± z sigma``.

    Returns None when no entry has a finite label and ``sigma > 0``.
    """
    yy, mm, ss = _flat(y, mu, sigma)
    if yy.size == 0:
        return None
    return float(np.mean(np.abs(yy - mm) <= _z(level) * ss))


def miscalibration_area(
    y: np.ndarray, mu: np.ndarray, sigma: np.ndarray, n_levels: int = 101
) -> float | None:
    """Area between observed and expected coverage of central intervals, levels 0..1.

    ``integral_0^1 |observed(p) - p| dp`` by the trapezoid rule on ``n_levels``
    evenly spaced levels. 0 = perfectly calibrated; 0.5 = worst possible.
    """
    yy, mm, ss = _flat(y, mu, sigma)
    if yy.size == 0:
        return None
    levels = np.linspace(0.0, 1.0, n_levels)
    absz = np.abs(yy - mm) / ss
    with np.errstate(divide="ignore"):
        z = _z(levels)  # inf at p = 1
    observed = (absz[None, :] <= z[:, None]).mean(axis=1)
    return float(np.trapezoid(np.abs(observed - levels), levels))


def gaussian_nll(y: np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> float | None:
    """Mean Gaussian negative log-likelihood (nats) over usable entries."""
    yy, mm, ss = _flat(y, mu, sigma)
    if yy.size == 0:
        return None
    return float(np.mean(0.5 * np.log(2 * np.pi * ss**2) + 0.5 * ((yy - mm) / ss) ** 2))


def calibration_report(
    y: np.ndarray, mu: np.ndarray, sigma: np.ndarray, scale: Sequence[float], target_cols: Sequence[str],
    floor: Sequence[float] | None = None,
) -> dict[str, dict[str, float | None]]:
    """Miscalibration area, 90 % coverage and NLL before and after scaling, per target.

    Parameters
    ----------
    y, mu, sigma : np.ndarray, shape [n, t]
    scale : sequence of float, length t
    floor : sequence of float, length t, optional
        Additive floor of the calibrated deviation (target units); 0 if omitted.
    target_cols : sequence of str, length t

    Returns
    -------
    dict
        ``{target: {"miscalibration_area_before", "miscalibration_area_after",
        "coverage90_before", "coverage90_after", "nll_before", "nll_after", "scale", "floor"}}``
    """
    y2 = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    mu2 = np.asarray(mu, dtype=np.float64).reshape(y2.shape)
    s2 = np.asarray(sigma, dtype=np.float64).reshape(y2.shape)
    out: dict[str, dict[str, float | None]] = {}
    for j, col in enumerate(target_cols):
        s = float(scale[j])
        f = 0.0 if floor is None else float(floor[j])
        a, b, c = y2[:, j], mu2[:, j], s2[:, j]
        cc = apply_calibration(c, [s], [f])
        out[col] = {
            "scale": s,
            "floor": f,
            "miscalibration_area_before": miscalibration_area(a, b, c),
            "miscalibration_area_after": miscalibration_area(a, b, cc),
            "coverage90_before": interval_coverage(a, b, c, 0.9),
            "coverage90_after": interval_coverage(a, b, cc, 0.9),
            "nll_before": gaussian_nll(a, b, c),
            "nll_after": gaussian_nll(a, b, cc),
        }
    return out


def combine_samples(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation over the first axis.

    Parameters
    ----------
    samples : np.ndarray, shape [k, n, t]
        ``k`` predictions (members and/or dropout samples) of ``n`` molecules.

    Returns
    -------
    mean, std : np.ndarray, shape [n, t]
        ``std`` is the population standard deviation (0 when ``k == 1``).
    """
    samples = np.asarray(samples, dtype=np.float64)
    return samples.mean(axis=0), samples.std(axis=0)


def weighted_mean(samples: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """Mean over the first axis of ``samples`` [k, n, t] with non-negative ``weights`` [k] (None: equal).

    A mixed ensemble's prediction (see :func:`discovery.molprop.train`); its
    uncertainty stays the members' unweighted spread (:func:`combine_samples`),
    which a weight of 0 would otherwise hide.
    """
    samples = np.asarray(samples, dtype=np.float64)
    if weights is None:
        return samples.mean(axis=0)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (samples.shape[0],) or (w < 0).any() or w.sum() <= 0:
        raise ValueError(f"need {samples.shape[0]} non-negative weights with a positive sum, got {weights!r}")
    return np.tensordot(w / w.sum(), samples, axes=1)


@contextlib.contextmanager
def mc_dropout(model: nn.Module, p: float | None = None) -> Iterator[nn.Module]:
    """Switch dropout on inside an evaluation-mode model (Monte-Carlo dropout).

    Every ``nn.Dropout`` is put in training mode and, where ``p`` is given,
    its rate set to ``p``; modules that keep a float ``dropout`` attribute
    and call ``F.dropout`` themselves (PyG's AttentiveFP) get their
    ``training`` flag set (non-recursively) and ``dropout`` set to ``p``.
    Batch norm and everything else stay in evaluation mode. The original
    state is restored on exit.

    Parameters
    ----------
    model : nn.Module
        In eval mode.
    p : float, optional
        Dropout rate to use; ``None`` keeps each module's own rate.
    """
    saved: list[tuple[nn.Module, bool, str, float]] = []
    try:
        for m in model.modules():
            if isinstance(m, nn.modules.dropout._DropoutNd):
                saved.append((m, m.training, "p", m.p))
                m.training = True
                if p is not None:
                    m.p = float(p)
            elif isinstance(getattr(m, "dropout", None), float):
                saved.append((m, m.training, "dropout", m.dropout))
                m.training = True
                if p is not None:
                    m.dropout = float(p)
        yield model
    finally:
        for m, training, attr, value in saved:
            m.training = training
            setattr(m, attr, value)


def effective_mc_p(model: nn.Module, default_p: float) -> float:
    """Dropout rate for MC dropout: the model's own (if > 0) else ``default_p``."""
    own = float(getattr(model, "hparams", {}).get("dropout", 0.0) or 0.0)
    return own if own > 0 else float(default_p)
