"""Evaluate a saved bundle on labelled data (streamed in chunks).

Predictions and labels of every chunk are kept (two ``[n, t]`` float arrays;
graphs are not), then the task's metrics are computed per target, plus the
uncertainty calibration (miscalibration area, 90 % coverage) for regression
bundles that have an uncertainty method.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import ConfigError

__all__ = ["evaluate"]


def evaluate(
    model_dir: str | os.PathLike | Any,
    data: Any,
    target_cols: Sequence[str] | str | None = None,
    *,
    smiles_col: str | None = None,
    out: str | os.PathLike | None = None,
    chunksize: int = 10000,
    mc_dropout: int | None = None,
    mc_p: float | None = None,
    on_error: str = "report",
) -> dict[str, Any]:
    """Metrics of a bundle on a labelled data set.

    Parameters
    ----------
    model_dir : path or Predictor
    data : str, path or MoleculeTable
    target_cols : str or sequence of str, optional
        Label columns of ``data``, matched in order to the bundle's targets
        (default: the bundle's target names).
    smiles_col : str, optional
    out : path, optional
        Also write the metrics as JSON (atomically).
    chunksize : int, default 10000
    mc_dropout, mc_p : optional
        As in :func:`discovery.molprop.predict`.
    on_error : {"report", "raise"}

    Returns
    -------
    dict
        ``{"task_type", "target_cols", "data_target_cols", "n", "n_invalid",
        "metrics": {target: {...}, "mean": {...}}, "uncertainty": {...}}``

    Raises
    ------
    ConfigError
        When the number of target columns differs from the bundle's.
    InputError
        Unreadable data or missing columns.
    """
    from ..chem import iter_molecules
    from ..data import resolve
    from ..fsutil import atomic_write_text
    from .bundle import Predictor, _json_default, load_bundle
    from .metrics import metrics_table
    from .train import _is_table
    from .uncertainty import calibration_report, combine_samples

    predictor = model_dir if isinstance(model_dir, Predictor) else load_bundle(model_dir)
    model_targets = predictor.target_cols
    if isinstance(target_cols, str):
        target_cols = [target_cols]
    data_targets = list(target_cols) if target_cols else list(model_targets)
    if len(data_targets) != len(model_targets):
        raise ConfigError(
            f"the model predicts {len(model_targets)} target(s) {model_targets} but {len(data_targets)} "
            f"label column(s) were given {data_targets}",
            hint="pass one --target per model target, in the same order",
        )
    if _is_table(data):
        chunks: Any = [data]
    else:
        path, info = resolve(data)
        if smiles_col is None and info is not None:
            smiles_col = getattr(info, "smiles_col", None) or getattr(info, "smiles_column", None)
        chunks = iter_molecules(
            path, smiles_col, data_targets, chunksize=chunksize, on_error=on_error,
            standardize=bool(predictor.meta.get("standardize", False)),
        )
    ys, means, stds = [], [], []
    n_invalid = 0
    method, calibrated = predictor.default_method(), False
    for chunk in chunks:
        n_invalid += len(chunk.invalid)
        if not len(chunk):
            continue
        pred = predictor.predict_graphs(predictor.featurize(chunk.mols), mc_samples=mc_dropout, mc_p=mc_p)
        method, calibrated = pred.method, pred.calibrated
        ys.append(np.asarray(chunk.targets, dtype=np.float64).reshape(len(chunk), -1))
        means.append(pred.mean)
        # raw (uncalibrated) spread of the samples; calibration is applied in the report below
        stds.append(combine_samples(pred.samples)[1] if pred.samples is not None else pred.std)
    t = len(model_targets)
    y = np.concatenate(ys) if ys else np.empty((0, t))
    mu = np.concatenate(means) if means else np.empty((0, t))
    sd = np.concatenate(stds) if stds else np.empty((0, t))
    result: dict[str, Any] = {
        "task_type": predictor.task_type,
        "target_cols": model_targets,
        "data_target_cols": data_targets,
        "data": str(data) if not _is_table(data) else "MoleculeTable",
        "n": int(len(y)),
        "n_invalid": int(n_invalid),
        "metrics": metrics_table(y, mu, model_targets, predictor.task_type),
        "uncertainty": {"method": method, "calibrated": calibrated},
    }
    if predictor.task_type == "regression" and method != "none" and len(y):
        # ``sd`` is the raw spread; "after" applies the bundle's calibration (scale and floor)
        cal = predictor.calibration
        scale = np.asarray(cal.get("scale", [1.0] * t), dtype=np.float64) if calibrated else np.ones(t)
        floor = np.asarray(cal.get("floor") or [0.0] * t, dtype=np.float64) if calibrated else np.zeros(t)
        result["uncertainty"]["report"] = calibration_report(y, mu, sd, scale, model_targets, floor=floor)
    if out is not None:
        atomic_write_text(Path(out), json.dumps(result, indent=2, default=_json_default) + "\n")
    return result
