"""Result folders for report tests: real molecules, plausible (synthetic) numbers.

Layout and key names follow ``discovery.molprop.train._write_outputs``:
metrics.json (task_type, target_cols, n_*, val/test metric tables, members,
uncertainty), test_predictions.csv (smiles, row, <t>_true, <t>_pred, <t>_std),
splits.json, invalid_rows.csv, manifest.json, model/bundle.json.

The molecules and measured values are real rows of the registered dataset
(read through ``discovery.data.resolve``); predictions are measured value +
seeded Gaussian noise, and every metric in metrics.json is computed from the
predictions written, so the folder is internally consistent. Only tests use
this.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np

FAKE_SHA = "ab" * 32


def _rmse(y, p):
    return float(np.sqrt(np.mean((y - p) ** 2)))


def _mae(y, p):
    return float(np.mean(np.abs(y - p)))


def _r2(y, p):
    return float(1 - np.sum((y - p) ** 2) / np.sum((y - y.mean()) ** 2))


def _auc(y, s):
    pos, neg = s[y > 0.5], s[y < 0.5]
    if len(pos) == 0 or len(neg) == 0:
        return None  # undefined with one class, as discovery.molprop.metrics reports it
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(wins / (len(pos) * len(neg)))


def _ap(y, s):
    order = np.argsort(-s, kind="mergesort")
    y = y[order]
    if y.sum() == 0:
        return None
    tp = np.cumsum(y)
    prec = tp / np.arange(1, len(y) + 1)
    return float((prec * y).sum() / y.sum())


def _coverage(y, p, s, level):
    z = NormalDist().inv_cdf(0.5 + level / 2)
    return float(np.mean(np.abs(y - p) <= z * s))


def _miscal(y, p, s):
    levels = np.linspace(0, 1, 101)
    absz = np.abs(y - p) / s
    zs = np.array([NormalDist().inv_cdf(0.5 + q / 2) if q < 1 else np.inf for q in levels])
    obs = (absz[None, :] <= zs[:, None]).mean(axis=1)
    d = np.abs(obs - levels)
    return float(np.sum((d[1:] + d[:-1]) / 2 * np.diff(levels)))


def _table(task: str, targets: list[str], y, p) -> dict[str, Any]:
    """``{target: {metric: value, "n": n}, "mean": {metric: mean over targets}}``; y, p shape (n, t), NaN = no label."""
    names = ("rmse", "mae", "r2") if task == "regression" else ("roc_auc", "pr_auc", "ece")
    out: dict[str, Any] = {}
    for j, t in enumerate(targets):
        ok = np.isfinite(y[:, j])
        yy, pp = y[ok, j], p[ok, j]
        if task == "regression":
            out[t] = {"rmse": _rmse(yy, pp), "mae": _mae(yy, pp), "r2": _r2(yy, pp), "n": int(ok.sum())}
        else:
            out[t] = {"roc_auc": _auc(yy, pp), "pr_auc": _ap(yy, pp), "ece": 0.05, "n": int(ok.sum())}
    out["mean"] = {}
    for k in names:
        vals = [out[t][k] for t in targets if out[t][k] is not None]
        out["mean"][k] = float(np.mean(vals)) if vals else None
    return out


def make_molprop_run(
    out: Path,
    *,
    dataset: str = "ESOL",
    seed: int = 0,
    n: int = 240,
    ensemble: int = 3,
    noise: float = 0.6,
    model: str = "dmpnn",
    epochs: int = 30,
    n_invalid: int = 1,
    drop_keys: tuple[str, ...] = (),
    n_targets: int = 1,
    mol_features: str | None = None,
    graph_only_members: int = 0,
) -> Path:
    """Write one ``molprop.train`` result folder to ``out`` and return it.

    Parameters
    ----------
    dataset : str
        Registered dataset (``ESOL`` regression on ``logp``, ``BBBP`` classification on ``p_np``).
    seed : int
        Drives which rows are used, the split and the noise.
    n : int
        Molecules used (first ``n`` of a seeded permutation); 80/10/10 split.
    drop_keys : tuple of str
        Metric names removed from every metrics table (to test "not reported").
    n_targets : int
        Use the dataset's first ``n_targets`` target columns (missing labels stay NaN).
    """
    import pandas as pd

    from discovery.data import resolve

    path, info = resolve(dataset)
    df = pd.read_csv(path)
    smiles_col = info.smiles_column
    targets = list(info.target_columns[:n_targets])
    task = info.task
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(df))[:n]
    n_tr, n_va = int(0.8 * n), int(0.1 * n)
    parts = {"train": idx[:n_tr], "val": idx[n_tr:n_tr + n_va], "test": idx[n_tr + n_va:]}
    y = df[targets].to_numpy(float).reshape(len(df), len(targets))
    smiles = df[smiles_col].astype(str).tolist()

    def predict(ids: np.ndarray, member: int | None = None):
        r = np.random.default_rng([seed, 7 if member is None else member])
        yt = y[ids]
        shape = yt.shape
        if task == "regression":
            bias = 0.0 if member is None else r.normal(0, 0.1)
            pred = yt + r.normal(bias, noise, size=shape)
            std = np.abs(r.normal(0, noise * 0.6, size=shape)) + 0.15
        else:
            logits = (np.nan_to_num(yt, nan=0.5) - 0.5) * 3 + r.normal(0, 1.8, size=shape)
            pred = 1 / (1 + np.exp(-logits))
            std = np.abs(r.normal(0, 0.05, size=shape))
        return yt, pred, std

    metrics: dict[str, Any] = {"task_type": task, "target_cols": targets, "n_train": n_tr, "n_val": n_va,
                               "n_test": len(parts["test"]), "n_invalid": n_invalid}
    preds = {}
    for name in ("val", "test"):
        yt, p, s = predict(parts[name])
        preds[name] = (yt, p, s)
        metrics[name] = _table(task, targets, yt, p)
    members = {"fit": [{"member": i, "best_epoch": 10 + i} for i in range(ensemble)]}
    summary = {}
    for name in ("val", "test"):
        tables = [_table(task, targets, *predict(parts[name], member=i)[:2]) for i in range(ensemble)]
        members[name] = tables
        summ = {}
        for key in (*targets, "mean"):
            summ[key] = {}
            for metric in tables[0][key]:
                if metric == "n":
                    continue
                vals = np.array([t[key][metric] for t in tables if t[key][metric] is not None])
                summ[key][metric] = ({"mean": float(vals.mean()), "sd": float(vals.std(ddof=1)) if len(vals) > 1 else 0.0}
                                     if len(vals) else {"mean": None, "sd": None})
        summary[name] = summ
    members["summary"] = summary
    metrics["members"] = members
    scale = np.ones(len(targets))
    if ensemble == 1:
        # as train.py writes a single model without MC dropout: no uncertainty, empty std column
        unc = {"method": "none", "note": "single model without MC dropout: no uncertainty",
               "calibration_scale": {t: 1.0 for t in targets}}
        preds = {k: (yt, p, np.full_like(p, np.nan)) for k, (yt, p, _) in preds.items()}
    elif task == "regression":
        yv, pv, sv = preds["val"]
        scale = np.sqrt(np.nanmean(((yv - pv) / sv) ** 2, axis=0))
        unc = {"method": "ensemble", "fitted_on": "validation"}
        for name in ("val", "test"):
            yt, p, s = preds[name]
            unc[name] = {t: {
                "scale": float(scale[j]),
                "miscalibration_area_before": _miscal(yt[:, j], p[:, j], s[:, j]),
                "miscalibration_area_after": _miscal(yt[:, j], p[:, j], s[:, j] * scale[j]),
                "coverage90_before": _coverage(yt[:, j], p[:, j], s[:, j], 0.9),
                "coverage90_after": _coverage(yt[:, j], p[:, j], s[:, j] * scale[j], 0.9),
                "nll_before": 1.0, "nll_after": 0.9,
            } for j, t in enumerate(targets)}
        unc["calibration_scale"] = {t: float(scale[j]) for j, t in enumerate(targets)}
        base = np.broadcast_to(np.nanmean(y[parts["train"]], axis=0), preds["test"][0].shape)
        metrics["baseline_train_mean"] = {"test": _table(task, targets, preds["test"][0], base)}
    else:
        unc = {"method": "ensemble", "note": "std = ensemble standard deviation of the probabilities",
               "calibration_scale": {t: 1.0 for t in targets}}
    metrics["uncertainty"] = unc
    metrics["timings_s"] = {"read": 0.1, "train": 12.3, "total": 13.0}

    def drop(obj):
        if isinstance(obj, dict):
            return {k: drop(v) for k, v in obj.items() if k not in drop_keys}
        if isinstance(obj, list):
            return [drop(v) for v in obj]
        return obj

    metrics = drop(metrics)
    out = Path(out)
    (out / "model").mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    yt, p, s = preds["test"]
    test_ids = parts["test"]
    frame = {"smiles": [smiles[i] for i in test_ids], "row": test_ids + 2}
    for j, t in enumerate(targets):
        frame[f"{t}_true"], frame[f"{t}_pred"], frame[f"{t}_std"] = yt[:, j], p[:, j], s[:, j] * scale[j]
    pd.DataFrame(frame).to_csv(out / "test_predictions.csv", index=False)
    (out / "splits.json").write_text(json.dumps({
        "kind": "random", "seed": seed,
        **{k: {"indices": [int(i) for i in v], "smiles": [smiles[i] for i in v]} for k, v in parts.items()},
    }))
    with open(out / "invalid_rows.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["row", "smiles", "reason"])
        for k in range(n_invalid):
            w.writerow([len(df) + 2 + k, "C1CC(", "SMILES Parse Error: extra open parentheses"])
    bundle = {"format_version": 1, "task_type": task, "target_cols": targets, "smiles_col": smiles_col,
              "ensemble_size": ensemble, "model": {"name": model, "hparams": {"hidden": 300, "depth": 3}},
              "calibration": {"method": "ensemble", "scale": [float(x) for x in scale]},
              "training_data": {"source": str(path), "sha256": FAKE_SHA, "n_molecules": len(df), "dataset": info.name},
              "split": {"kind": "random", "seed": seed, "sizes": [0.8, 0.1, 0.1]}}
    (out / "model" / "bundle.json").write_text(json.dumps(bundle, indent=2))
    from discovery.provenance import build_manifest, write_manifest

    config = {"data": dataset, "smiles_col": smiles_col, "target_cols": targets, "task_type": task,
              "split": "random", "sizes": [0.8, 0.1, 0.1], "seed": seed, "ensemble": ensemble, "model": model,
              "epochs": epochs, "batch_size": 64, "hparams": {"hidden": 300, "depth": 3, "dropout": 0.0,
                                                               "aggregation": "norm", "mol_features": mol_features},
              "graph_only_members": graph_only_members}
    manifest = build_manifest(kind="molprop.train", inputs={"data": path}, config=config, seed=seed,
                              timings={"train": 12.3})
    manifest["command"] = ["discovery", "molprop", "train", "--data", dataset, "--seed", str(seed), "--out", str(out)]
    write_manifest(out, manifest)
    return out


def make_baseline(path: Path, *, dataset_key: str = "esol", values: tuple[float, ...] = (0.91, 0.95, 0.99)) -> Path:
    """A baseline JSON in the layout of ``benchmarks/molprop_vs_chemprop.py``'s results file."""
    m = float(np.mean(values))
    sd = float(np.std(values, ddof=1))
    payload = {
        "meta": {"date": "2025-01-01T00:00:00+00:00", "epochs": 50, "seeds": list(range(len(values)))},
        "summary": {"datasets": {dataset_key: {"metric": "rmse", "task": "regression", "configs": {
            "chemprop": {"metric_values": list(values), "metric_mean": m, "metric_sd": sd, "n_runs": len(values),
                         "n_failed": 0},
            "default": {"metric_values": [v - 0.05 for v in values], "n_runs": len(values), "n_failed": 0},
        }}}},
        "runs": [],
    }
    path.write_text(json.dumps(payload))
    return path


def expected_mean_sd(values: list[float]) -> str:
    """Independent formatting of mean ± sd (ddof=1) at 3 decimals (values below 10)."""
    m = sum(values) / len(values)
    sd = math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1))
    return f"{m:.3f} ± {sd:.3f}"
