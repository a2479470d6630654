"""Per-target metrics with missing labels (NaN) masked out.

Every function takes ``y_true`` and a prediction of shape ``[n]`` or
``[n, t]``; entries where ``y_true`` is NaN are ignored target by target.
A metric that is undefined (no labels, or a single class for ROC-AUC) is
``None`` so that it serializes to JSON ``null`` rather than ``NaN``.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

__all__ = [
    "regression_metrics",
    "classification_metrics",
    "metrics_table",
    "rmse",
    "mae",
    "r2",
    "roc_auc",
    "pr_auc",
    "expected_calibration_error",
    "summarize_members",
    "mean_task_error",
]


def _pair(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=np.float64).ravel()
    p = np.asarray(p, dtype=np.float64).ravel()
    if y.shape != p.shape:
        raise ValueError(f"y_true has {y.size} values but prediction has {p.size}")
    ok = np.isfinite(y)
    return y[ok], p[ok]


def _f(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float | None:
    """Root mean squared error over present labels (same units as y)."""
    y, p = _pair(y_true, y_pred)
    return _f(np.sqrt(np.mean((y - p) ** 2))) if y.size else None


def mae(y_true: np.ndarray, y_pred: np.ndarray) -> float | None:
    """Mean absolute error over present labels."""
    y, p = _pair(y_true, y_pred)
    return _f(np.mean(np.abs(y - p))) if y.size else None


def r2(y_true: np.ndarray, y_pred: np.ndarray) -> float | None:
    """Coefficient of determination ``1 - SS_res / SS_tot`` (None for < 2 labels or constant y)."""
    y, p = _pair(y_true, y_pred)
    if y.size < 2:
        return None
    ss_tot = np.sum((y - y.mean()) ** 2)
    if ss_tot == 0:
        return None
    return _f(1.0 - np.sum((y - p) ** 2) / ss_tot)


def roc_auc(y_true: np.ndarray, prob: np.ndarray) -> float | None:
    """Area under the ROC curve (None when only one class is present)."""
    from sklearn.metrics import roc_auc_score

    y, p = _pair(y_true, prob)
    if y.size == 0 or np.unique(y).size < 2:
        return None
    return _f(roc_auc_score(y, p))


def pr_auc(y_true: np.ndarray, prob: np.ndarray) -> float | None:
    """Area under the precision-recall curve (average precision; None with one class)."""
    from sklearn.metrics import average_precision_score

    y, p = _pair(y_true, prob)
    if y.size == 0 or np.unique(y).size < 2:
        return None
    return _f(average_precision_score(y, p))


def expected_calibration_error(y_true: np.ndarray, prob: np.ndarray, n_bins: int = 10) -> float | None:
    """Expected calibration error of binary probabilities.

    ``ECE = sum_b (n_b / n) |mean(y in b) - mean(p in b)|`` over ``n_bins``
    equal-width probability bins on [0, 1].
    """
    y, p = _pair(y_true, prob)
    if y.size == 0:
        return None
    bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        sel = bins == b
        if sel.any():
            ece += sel.mean() * abs(y[sel].mean() - p[sel].mean())
    return _f(ece)


def mean_task_error(
    y_true: np.ndarray, pred: np.ndarray, task_type: str, *, relative: bool = False, min_labels: int = 1
) -> float:
    """A task's metric as an error, averaged over target columns; NaN when no column has one.

    ``1 - ROC-AUC`` for classification (a column with one class is left out),
    RMSE for regression (``relative``: divided by the labels' standard
    deviation where it is above 0). NaN labels are ignored; a column with fewer
    than ``min_labels`` labels is left out. Arrays keep their dtype, so float32
    inputs give float32 RMSEs. Used to select epochs
    (:func:`discovery.molprop.module.validation_score`) and the share of a
    mixed ensemble (:func:`discovery.molprop.train.train`).
    """
    y, p = np.asarray(y_true), np.asarray(pred)
    y, p = y.reshape(len(y), -1), p.reshape(len(p), -1)
    errors = []
    for j in range(y.shape[1]):
        keep = np.isfinite(y[:, j])
        if keep.sum() < max(int(min_labels), 1):
            continue
        yt, pt = y[keep, j], p[keep, j]
        if task_type == "classification":
            auc = roc_auc(yt, pt)
            if auc is not None:
                errors.append(1.0 - auc)
        else:
            err = float(np.sqrt(np.mean((pt - yt) ** 2)))
            sd = float(np.std(yt)) if relative else 0.0
            errors.append(err / sd if sd > 0 else err)
    return float(np.mean(errors)) if errors else math.nan


REGRESSION_METRICS = {"rmse": rmse, "mae": mae, "r2": r2}
CLASSIFICATION_METRICS = {"roc_auc": roc_auc, "pr_auc": pr_auc, "ece": expected_calibration_error}


def _columns(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    return a.reshape(len(a), -1)


def metrics_table(
    y_true: np.ndarray, y_pred: np.ndarray, target_cols: Sequence[str], task_type: str
) -> dict[str, dict[str, float | None]]:
    """Metrics per target plus their mean over targets.

    Parameters
    ----------
    y_true, y_pred : np.ndarray, shape [n, t]
        Labels (NaN = missing) and predictions (original units or probabilities).
    target_cols : sequence of str, length t
    task_type : {"regression", "classification"}

    Returns
    -------
    dict
        ``{target: {metric: value}, ..., "mean": {metric: mean over targets}}``
        plus ``n`` (labels present) per target.
    """
    fns = CLASSIFICATION_METRICS if task_type == "classification" else REGRESSION_METRICS
    yt, yp = _columns(y_true), _columns(y_pred)
    out: dict[str, dict[str, Any]] = {}
    for j, col in enumerate(target_cols):
        row: dict[str, Any] = {name: fn(yt[:, j], yp[:, j]) for name, fn in fns.items()}
        row["n"] = int(np.isfinite(yt[:, j]).sum())
        out[col] = row
    mean: dict[str, Any] = {}
    for name in fns:
        vals = [out[c][name] for c in target_cols if out[c][name] is not None]
        mean[name] = float(np.mean(vals)) if vals else None
    out["mean"] = mean
    return out


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray, target_cols: Sequence[str]) -> dict[str, Any]:
    """:func:`metrics_table` for regression (RMSE, MAE, R2)."""
    return metrics_table(y_true, y_pred, target_cols, "regression")


def classification_metrics(y_true: np.ndarray, prob: np.ndarray, target_cols: Sequence[str]) -> dict[str, Any]:
    """:func:`metrics_table` for binary classification (ROC-AUC, PR-AUC, ECE)."""
    return metrics_table(y_true, prob, target_cols, "classification")


def summarize_members(tables: Sequence[dict[str, dict[str, Any]]]) -> dict[str, dict[str, dict[str, float | None]]]:
    """Mean and standard deviation over ensemble members of each metric.

    Parameters
    ----------
    tables : list of :func:`metrics_table` results, one per member

    Returns
    -------
    dict
        ``{target: {metric: {"mean": m, "sd": s}}}`` (``sd`` with ddof=1, 0 for one member).
    """
    out: dict[str, dict[str, dict[str, float | None]]] = {}
    if not tables:
        return out
    for key, row in tables[0].items():
        out[key] = {}
        for metric in row:
            if metric == "n":
                continue
            vals = [t[key][metric] for t in tables if t[key][metric] is not None]
            if not vals:
                out[key][metric] = {"mean": None, "sd": None}
                continue
            arr = np.asarray(vals, dtype=np.float64)
            out[key][metric] = {"mean": float(arr.mean()), "sd": float(arr.std(ddof=1)) if arr.size > 1 else 0.0}
    return out
