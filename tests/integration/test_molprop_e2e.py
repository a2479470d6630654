"""End to end on 200 real ESOL / BBBP rows: Python API and CLI, train -> bundle -> predict -> evaluate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from discovery.data import resolve

REPO = Path(__file__).resolve().parents[2]
OUTPUTS = ("metrics.json", "test_predictions.csv", "splits.json", "invalid_rows.csv", "manifest.json",
           "model/bundle.json", "model/member_0.pt")
# small but learnable in seconds: 10 epochs x 10 batches
FAST = dict(epochs=10, batch_size=16, hidden=64, ffn_hidden=64, num_threads=1)


def _head(name: str, n: int, dest: Path) -> Path:
    """The first ``n`` data rows of a registered dataset, as a CSV in a temp folder."""
    src, _ = resolve(name)
    lines = Path(src).read_text().splitlines(keepends=True)
    dest.write_text("".join(lines[: n + 1]))
    return dest


def _finite(obj) -> bool:
    if isinstance(obj, dict):
        return all(_finite(v) for v in obj.values())
    if isinstance(obj, list):
        return all(_finite(v) for v in obj)
    if isinstance(obj, float):
        return np.isfinite(obj)
    return True


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "discovery", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def _check_run_folder(run: Path, n_members: int) -> dict:
    for f in OUTPUTS:
        assert (run / f).is_file(), f
    for i in range(n_members):
        assert (run / "model" / f"member_{i}.pt").is_file()
    assert not list(run.parent.glob("*.partial-*"))
    metrics = json.loads((run / "metrics.json").read_text())
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["kind"] == "molprop.train" and manifest["seed"] == 0
    assert manifest["inputs"]["data"]["sha256"]
    assert {"train", "featurize", "total"} <= set(manifest["timings_s"])
    splits = json.loads((run / "splits.json").read_text())
    n = len(splits["train"]["indices"]) + len(splits["val"]["indices"]) + len(splits["test"]["indices"])
    assert n == metrics["n_train"] + metrics["n_val"] + metrics["n_test"]
    return metrics


@pytest.mark.slow
def test_regression_python_api(tmp_path):
    from discovery import molprop

    data = _head("ESOL", 200, tmp_path / "esol200.csv")
    res = molprop.train(str(data), target_cols=["logp"], seed=0, ensemble=2, out=tmp_path / "run", **FAST)
    m = _check_run_folder(tmp_path / "run", 2)
    assert m == json.loads(json.dumps(res.metrics))
    assert m["n_train"] + m["n_val"] + m["n_test"] == 200 and m["n_invalid"] == 0
    test = m["test"]["logp"]
    assert _finite(test) and _finite(m["val"])
    # better than predicting the training mean
    assert test["rmse"] < m["baseline_train_mean"]["test"]["logp"]["rmse"]
    unc = m["uncertainty"]["test"]["logp"]
    assert unc["coverage90_after"] is not None and unc["miscalibration_area_after"] is not None
    assert "summary" in m["members"] and m["members"]["summary"]["test"]["logp"]["rmse"]["sd"] is not None

    # the saved bundle reproduces the test predictions exactly
    preds = pd.read_csv(tmp_path / "run" / "test_predictions.csv")
    assert list(preds.columns) == ["smiles", "row", "logp_true", "logp_pred", "logp_std"]
    assert preds["row"].between(2, 201).all()
    loaded = molprop.load_bundle(tmp_path / "run")
    df = molprop.predict(loaded, str(data))
    by_row = df.set_index("row")
    np.testing.assert_allclose(by_row.loc[preds["row"], "logp_pred"].to_numpy(), preds["logp_pred"], rtol=1e-12)
    np.testing.assert_allclose(by_row.loc[preds["row"], "logp_std"].to_numpy(), preds["logp_std"], rtol=1e-12)

    # chunked prediction to a file equals the in-memory one
    summary = molprop.predict(tmp_path / "run", str(data), out=tmp_path / "p.csv", chunksize=37)
    assert summary.n_predicted == 200 and summary.n_invalid == 0
    streamed = pd.read_csv(tmp_path / "p.csv")
    np.testing.assert_allclose(streamed["logp_pred"], df["logp_pred"], rtol=1e-6)
    assert (tmp_path / "p.invalid.csv").read_text().strip() == "row,smiles,reason"

    ev = molprop.evaluate(tmp_path / "run", str(data), target_cols="logp")
    assert ev["n"] == 200 and np.isfinite(ev["metrics"]["logp"]["rmse"])


@pytest.mark.slow
def test_regression_cli(tmp_path):
    data = _head("ESOL", 200, tmp_path / "esol200.csv")
    r = _cli("molprop", "train", "--data", str(data), "--smiles-col", "smiles", "--target", "logp",
             "--split", "scaffold", "--seed", "0", "--epochs", "10", "--batch-size", "16", "--hidden", "64",
             "--ffn-hidden", "64", "--ensemble", "2", "--threads", "1", "--max-lr", "2e-3", "--warmup-epochs", "1",
             "--mol-features", "physchem-fragments", "--feature-dropout", "0.3", "--feature-average",
             "--select-by", "metric", "--out", "run", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "0 invalid rows" in r.stdout and "test logp: rmse" in r.stdout
    m = _check_run_folder(tmp_path / "run", 2)
    cfg = json.loads((tmp_path / "run" / "manifest.json").read_text())["config"]
    assert (cfg["max_lr"], cfg["warmup_epochs"], cfg["precision"], cfg["select_by"]) == (2e-3, 1, "32", "metric")
    hp = cfg["hparams"]
    assert (hp["mol_features"], hp["n_mol_features"], hp["feature_average"]) == ("physchem-fragments", 149, True)
    assert _finite(m["test"]) and m["test"]["logp"]["rmse"] < m["baseline_train_mean"]["test"]["logp"]["rmse"]

    new = tmp_path / "new.csv"
    new.write_text("smiles,id\nCCO,a\nnot-a-smiles,b\nc1ccccc1Cl,c\n")
    r = _cli("molprop", "predict", "--model", "run", "--data", "new.csv", "--out", "preds.csv", "--chunksize", "2",
             cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "predicted 2 molecules" in r.stdout and "1 invalid rows" in r.stdout
    preds = pd.read_csv(tmp_path / "preds.csv")
    # the bundle records its training split, so the applicability domain comes with every prediction
    assert list(preds.columns) == ["smiles", "row", "logp_pred", "logp_std", "ad_max_sim", "ad_nearest_smiles",
                                   "ad_in_domain"]
    assert preds["ad_max_sim"].between(0, 1).all()
    assert preds["row"].tolist() == [2, 4] and np.isfinite(preds["logp_pred"]).all() and (preds["logp_std"] > 0).all()
    inv = pd.read_csv(tmp_path / "preds.invalid.csv")
    assert inv["row"].tolist() == [3] and inv["smiles"].tolist() == ["not-a-smiles"]

    r = _cli("molprop", "evaluate", "--model", "run", "--data", "esol200.csv", "--target", "logp",
             "--out", "ev.json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    ev = json.loads((tmp_path / "ev.json").read_text())
    assert ev["n"] == 200 and np.isfinite(ev["metrics"]["logp"]["r2"])


@pytest.mark.slow
def test_classification_bbbp(tmp_path):
    from discovery import molprop

    data = _head("BBBP", 200, tmp_path / "bbbp200.csv")
    res = molprop.train(str(data), split="random", seed=0, out=tmp_path / "run", ensemble=2, **FAST)
    m = _check_run_folder(tmp_path / "run", 2)
    assert m["task_type"] == "classification" and m["target_cols"] == ["p_np"]
    test = m["test"]["p_np"]
    for k in ("roc_auc", "pr_auc", "ece"):
        assert test[k] is not None and np.isfinite(test[k]), k
    assert 0.0 <= test["roc_auc"] <= 1.0
    p = res.predictions
    assert p["p_np_pred"].between(0, 1).all() and (p["p_np_std"] >= 0).all()
    bundle = json.loads((tmp_path / "run" / "model" / "bundle.json").read_text())
    assert bundle["task_type"] == "classification" and bundle["split"]["kind"] == "random"


def test_failed_write_leaves_no_complete_folder(tmp_path, monkeypatch):
    import discovery.chem
    from discovery import molprop

    data = _head("ESOL", 60, tmp_path / "esol60.csv")

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(discovery.chem, "save_split_json", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        molprop.train(str(data), target_cols="logp", epochs=1, hidden=8, ffn_hidden=8, split="random",
                      out=tmp_path / "run")
    assert not (tmp_path / "run").exists()
    assert not list(tmp_path.glob("run.partial-*"))
