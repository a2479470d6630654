"""``discovery molprop`` through a real subprocess: bad input, exit codes, messages, no half outputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
TINY = ["--epochs", "1", "--hidden", "16", "--ffn-hidden", "16", "--split", "random", "--threads", "1"]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "discovery", "molprop", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def _no_output(tmp: Path, name: str = "out") -> None:
    assert not (tmp / name).exists()
    assert not list(tmp.glob(f"{name}.partial-*"))


def _esol_rows(n: int) -> list[str]:
    from discovery.data import resolve

    return Path(resolve("ESOL")[0]).read_text().splitlines()[: n + 1]


def test_help_lists_actions(tmp_path):
    r = run("--help", cwd=tmp_path)
    assert r.returncode == 0
    for action in ("train", "predict", "evaluate"):
        assert action in r.stdout
    r = run("train", "--help", cwd=tmp_path)
    for opt in ("--data", "--target", "--split", "--split-col", "--sizes", "--ensemble", "--model", "--aggregation",
                "--patience", "--select-by", "--mol-features", "--feature-average", "--on-error", "--standardize",
                "--out"):
        assert opt in r.stdout, opt


def test_missing_file(tmp_path):
    r = run("train", "--data", "no_such.csv", "--target", "logp", "--out", "out", *TINY, cwd=tmp_path)
    assert r.returncode == 2
    assert "no_such.csv" in r.stderr and r.stderr.startswith("error:")
    assert "Traceback" not in r.stderr
    _no_output(tmp_path)


def test_missing_target_column(tmp_path):
    (tmp_path / "d.csv").write_text("smiles,logS\nCCO,1.0\nCCC,2.0\n")
    r = run("train", "--data", "d.csv", "--target", "logp", "--out", "out", *TINY, cwd=tmp_path)
    assert r.returncode == 2
    assert "d.csv" in r.stderr and "'logp'" in r.stderr and "logS" in r.stderr
    _no_output(tmp_path)


def test_missing_smiles_column(tmp_path):
    (tmp_path / "d.csv").write_text("smiles,logp\nCCO,1.0\nCCC,2.0\n")
    r = run("train", "--data", "d.csv", "--smiles-col", "SMILES_X", "--target", "logp", "--out", "out", *TINY,
            cwd=tmp_path)
    assert r.returncode == 2
    assert "d.csv" in r.stderr and "SMILES_X" in r.stderr
    _no_output(tmp_path)


@pytest.mark.parametrize("content", ["", "smiles,logp\n"])
def test_empty_file(tmp_path, content):
    (tmp_path / "empty.csv").write_text(content)
    r = run("train", "--data", "empty.csv", "--target", "logp", "--out", "out", *TINY, cwd=tmp_path)
    assert r.returncode == 2
    assert "empty.csv" in r.stderr and ("empty" in r.stderr or "no data rows" in r.stderr)
    _no_output(tmp_path)


def test_all_rows_invalid(tmp_path):
    (tmp_path / "bad.csv").write_text("smiles,logp\nxyz,1.0\nC1CC,2.0\n")
    r = run("train", "--data", "bad.csv", "--target", "logp", "--out", "out", *TINY, cwd=tmp_path)
    assert r.returncode == 2
    assert "bad.csv" in r.stderr and "all 2 records are invalid" in r.stderr
    assert "row 2" in r.stderr and "row 3" in r.stderr
    _no_output(tmp_path)


def test_non_numeric_target(tmp_path):
    lines = _esol_rows(30)
    lines[12] = lines[12].rsplit(",", 1)[0] + ",abc"  # file row 13
    (tmp_path / "d.csv").write_text("\n".join(lines) + "\n")
    r = run("train", "--data", "d.csv", "--target", "logp", "--out", "out", *TINY, cwd=tmp_path)
    assert r.returncode == 2
    assert "d.csv" in r.stderr and "row 13" in r.stderr and "'logp'" in r.stderr and "'abc'" in r.stderr
    _no_output(tmp_path)


def test_classification_label_not_binary(tmp_path):
    lines = ["smiles,active"] + [f"{'C' * (i % 6 + 1)}O,{i % 2}" for i in range(30)]
    lines[7] = "CCN,2"
    (tmp_path / "d.csv").write_text("\n".join(lines) + "\n")
    r = run("train", "--data", "d.csv", "--target", "active", "--task-type", "classification", "--out", "out",
            *TINY, cwd=tmp_path)
    assert r.returncode == 2
    assert "row 8" in r.stderr and "'active'" in r.stderr and "2.0" in r.stderr
    _no_output(tmp_path)


def test_unknown_model_is_config_error(tmp_path):
    (tmp_path / "d.csv").write_text("\n".join(_esol_rows(20)) + "\n")
    r = run("train", "--data", "d.csv", "--target", "logp", "--model", "transformer", "--out", "out", *TINY,
            cwd=tmp_path)
    assert r.returncode == 2 and "unknown model 'transformer'" in r.stderr and "dmpnn" in r.stderr
    _no_output(tmp_path)


def test_mixed_invalid_rows_train_and_are_listed(tmp_path):
    lines = _esol_rows(60)
    bad = {5: "not_a_smiles", 17: "C1CC", 40: ""}  # file rows 5, 17, 40
    for row, smi in bad.items():
        lines[row - 1] = f"{smi},{lines[row - 1].rsplit(',', 1)[1]}"
    (tmp_path / "d.csv").write_text("\n".join(lines) + "\n")
    r = run("train", "--data", "d.csv", "--target", "logp", "--out", "out", *TINY, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "3 invalid rows skipped" in r.stdout
    inv = pd.read_csv(tmp_path / "out" / "invalid_rows.csv", keep_default_na=False)
    assert inv["row"].tolist() == [5, 17, 40]
    assert inv["smiles"].tolist() == ["not_a_smiles", "C1CC", ""]
    assert all(inv["reason"].str.len() > 0)
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["n_invalid"] == 3 and metrics["n_train"] + metrics["n_val"] + metrics["n_test"] == 57

    # on-error raise stops at the first bad row, naming it
    r = run("train", "--data", "d.csv", "--target", "logp", "--out", "out2", "--on-error", "raise", *TINY,
            cwd=tmp_path)
    assert r.returncode == 2 and "row 5" in r.stderr and "not_a_smiles" in r.stderr
    _no_output(tmp_path, "out2")


@pytest.mark.slow
def test_predict_and_evaluate_errors(tmp_path):
    r = run("predict", "--model", "nowhere", "--data", "x.csv", "--out", "p.csv", cwd=tmp_path)
    assert r.returncode == 2 and "not a model bundle" in r.stderr and "nowhere" in r.stderr
    assert not (tmp_path / "p.csv").exists()

    (tmp_path / "d.csv").write_text("\n".join(_esol_rows(40)) + "\n")
    r = run("train", "--data", "d.csv", "--target", "logp", "--out", "run", *TINY, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = run("predict", "--model", "run", "--data", "missing.csv", "--out", "p.csv", cwd=tmp_path)
    assert r.returncode == 2 and "missing.csv" in r.stderr
    assert not (tmp_path / "p.csv").exists() and not list(tmp_path.glob("p.csv.partial-*"))
    r = run("evaluate", "--model", "run", "--data", "d.csv", "--target", "logp", "--target", "logp",
            cwd=tmp_path)
    assert r.returncode == 2 and "1 target(s)" in r.stderr
    # a bundle from the future
    meta = json.loads((tmp_path / "run" / "model" / "bundle.json").read_text())
    meta["format_version"] = 99
    (tmp_path / "run" / "model" / "bundle.json").write_text(json.dumps(meta))
    r = run("predict", "--model", "run", "--data", "d.csv", "--out", "p.csv", cwd=tmp_path)
    assert r.returncode == 2 and "format_version 99" in r.stderr and "bundle.json" in r.stderr
