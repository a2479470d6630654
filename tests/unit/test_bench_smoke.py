"""The molprop-vs-Chemprop benchmark harness (benchmarks/molprop_vs_chemprop.py).

The measuring, scoring and split-handoff pieces are tested directly; an
end-to-end run on 120 ESOL molecules (both tools, 3 epochs) is marked slow.
Tests needing Chemprop are skipped when it is not installed (it lives in the
optional ``bench`` extra).
"""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "benchmarks"))

import _bench_utils as bu  # noqa: E402
import molprop_vs_chemprop as bench  # noqa: E402

HAS_CHEMPROP = importlib.util.find_spec("chemprop") is not None
needs_chemprop = pytest.mark.skipif(not HAS_CHEMPROP, reason="chemprop (extra 'bench') is not installed")


def test_run_measured_reports_exit_code_wall_time_and_peak_rss(tmp_path: Path) -> None:
    code = "import time; a = bytearray(150 * 2**20); a[::4096] = b'x' * len(a[::4096]); time.sleep(0.3); raise SystemExit(3)"
    m = bu.run_measured([sys.executable, "-c", code], log=tmp_path / "log.txt")
    assert m.returncode == 3
    assert m.wall_s >= 0.3
    assert m.peak_rss_mb >= 150
    assert m.maxrss_mb >= 150
    assert not m.timed_out


def test_run_measured_counts_children_and_kills_on_timeout(tmp_path: Path) -> None:
    child = "import time; a = bytearray(120 * 2**20); a[::4096] = b'x' * len(a[::4096]); time.sleep(0.5)"
    parent = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}]); print('done')"
    m = bu.run_measured([sys.executable, "-c", parent], log=tmp_path / "log.txt")
    assert m.returncode == 0 and "done" in m.log.read_text()
    assert m.peak_rss_mb >= 120  # the child's memory counts for the parent's run

    m = bu.run_measured([sys.executable, "-c", "import time; time.sleep(30)"], log=tmp_path / "t.txt", timeout_s=0.5)
    assert m.timed_out and m.returncode != 0 and m.wall_s < 10


def test_metrics_have_the_textbook_definitions() -> None:
    assert bu.rmse(np.array([0.0, 0.0]), np.array([3.0, 4.0])) == pytest.approx(math.sqrt(12.5))
    assert bu.roc_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])) == pytest.approx(0.75)
    with pytest.raises(ValueError):
        bu.rmse(np.array([1.0]), np.array([np.nan]))
    assert bu.mean_sd([1.0, 2.0, 3.0]) == (2.0, 1.0)
    assert bu.mean_sd([5.0]) == (5.0, 0.0)
    assert bu.fmt_mean_sd([]) == "n/a"


def test_replace_section_updates_in_place_and_keeps_the_rest() -> None:
    text = "# Results\n\nintro\n"
    once = bu.replace_section(text, "x", "table 1")
    assert once.startswith(text) and "<!-- x:begin -->\ntable 1\n<!-- x:end -->" in once
    twice = bu.replace_section(once + "\n## other\nkeep me\n", "x", "table 2")
    assert "table 1" not in twice and "table 2" in twice and "keep me" in twice
    assert twice.count("<!-- x:begin -->") == 1
    # a backslash in the body is not a regex escape
    assert "a\\1b" in bu.replace_section(once, "x", "a\\1b")


def test_prepared_esol_and_split_files_agree(tmp_path: Path) -> None:
    prep = bench.prepare_dataset(bench.DATASETS["esol"], limit=60)
    assert len(prep.smiles) == len(prep.mols) == len(prep.y) == 60
    assert prep.source_rows[:2] == [2, 3] and not prep.excluded
    split = bench.scaffold_split(prep, seed=0)
    csv, js, labels = bench.write_split_inputs(prep, split, tmp_path)
    assert sorted(np.flatnonzero(labels == "test").tolist()) == split.test.tolist()
    import pandas as pd

    df = pd.read_csv(csv)
    assert list(df.columns) == ["smiles", "logp", "split"]
    assert df["split"].tolist() == labels.tolist()
    assert np.allclose(df["logp"].to_numpy(), prep.y)
    splits = json.loads(js.read_text())
    assert len(splits) == 1
    for part in ("train", "val", "test"):
        assert splits[0][part] == np.flatnonzero(labels == part).tolist()


def test_bad_rows_are_reported_not_dropped_silently(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "d.csv"
    f.write_text("smiles,logp\nCCO,1.0\nnot_a_smiles,2.0\nCCN,\nc1ccccc1,3\n")
    monkeypatch.setattr(bench, "resolve_dataset_file", lambda ds: f)
    prep = bench.prepare_dataset(bench.DATASETS["esol"])
    assert prep.smiles == ["CCO", "c1ccccc1"] and prep.source_rows == [2, 5]
    assert [(e["row"], e["column"]) for e in prep.excluded] == [(3, "smiles"), (4, "logp")]


def test_ours_command_uses_the_split_column_and_config_flags(tmp_path: Path) -> None:
    ds = bench.DATASETS["bace"]
    cmd = bench.ours_command(ds, tmp_path / "d.csv", tmp_path / "o", seed=2, epochs=50, config="default", epochs_forced=False)
    joined = " ".join(cmd)
    assert "molprop train" in joined and "--smiles-col mol" in joined and "--target Class" in joined
    assert "--split column --split-col split" in joined and "--seed 2" in joined and "--epochs 50" in joined
    assert "--task-type classification" in joined
    forced = bench.ours_command(ds, tmp_path / "d.csv", tmp_path / "o", seed=0, epochs=5, config="tuned", epochs_forced=True)
    assert forced[forced.index("--epochs") + 1] == "5"
    assert forced[forced.index("--mol-features") + 1] == "physchem"
    tuned = bench.ours_command(ds, tmp_path / "d.csv", tmp_path / "o", seed=0, epochs=50, config="tuned", epochs_forced=False)
    assert tuned[tuned.index("--epochs") + 1] == "36"
    assert tuned[tuned.index("--ema") + 1] == "0.99" and tuned[tuned.index("--select-by") + 1] == "metric"
    assert tuned[tuned.index("--ensemble") + 1] == "2" and tuned[tuned.index("--graph-only-members") + 1] == "1"
    assert tuned[tuned.index("--precision") + 1] == "bf16-mixed" and tuned.count("--ensemble") == 1
    # the sweep's "tuned-v1" base keeps the 2026-11-30 config
    assert bench.TUNED_V1["--epochs"] == 30 and "--ema" not in bench.TUNED_V1


@needs_chemprop
def test_chemprop_reads_our_splits_file_format(tmp_path: Path) -> None:
    from chemprop.cli.utils.parsing import parse_indices

    from discovery.chem import Split

    prep = bench.prepare_dataset(bench.DATASETS["freesolv"], limit=30)
    split = Split(train=np.arange(24), val=np.arange(24, 27), test=np.array([29, 27, 28]), kind="column", seed=0,
                  sizes=(0.8, 0.1, 0.1))
    _, js, labels = bench.write_split_inputs(prep, split, tmp_path)
    d = json.loads(js.read_text())[0]
    assert parse_indices(d["test"]) == [27, 28, 29] and labels[27:].tolist() == ["test"] * 3
    with pytest.raises(RuntimeError, match="unassigned"):
        bench.split_labels(Split(train=np.arange(20), val=np.arange(20, 25), test=np.arange(25, 28), kind="column",
                                 seed=0, sizes=(0.8, 0.1, 0.1)), 30)
    cmd = bench.chemprop_command(prep.ds, tmp_path / "data.csv", js, tmp_path / "out", seed=1, epochs=50)
    assert cmd[cmd.index("--splits-file") + 1] == str(js)
    assert cmd[cmd.index("--pytorch-seed") + 1] == "1" and cmd[cmd.index("--task-type") + 1] == "regression"


@needs_chemprop
def test_featurization_benchmark_times_both_on_the_same_atoms() -> None:
    prep = bench.prepare_dataset(bench.DATASETS["bace"], limit=40)
    feat = bench.bench_featurization(prep.mols, repeats=1)
    assert feat["n_molecules"] == 40
    assert feat["ours"]["n_atoms"] == feat["chemprop"]["n_atoms"] == feat["n_atoms"]
    assert feat["ours"]["atom_fdim"] == feat["chemprop"]["atom_fdim"] == 72
    assert feat["ratio"] == pytest.approx(feat["ours"]["mol_per_s"] / feat["chemprop"]["mol_per_s"])


@needs_chemprop
@pytest.mark.slow
def test_end_to_end_smoke_run_scores_both_tools_on_the_same_split(tmp_path: Path) -> None:
    rc = bench.main([
        "--datasets", "esol", "--seeds", "0", "--epochs", "3", "--limit", "120", "--configs", "default,tuned",
        "--workdir", str(tmp_path), "--no-write", "--side-by-side",
    ])
    assert rc == 0
    res = json.loads((tmp_path / "results.json").read_text())
    runs = res["runs"]
    assert [r["config"] for r in runs] == ["chemprop", "default", "tuned"]  # in order although run side by side
    for r in runs:
        assert r["error"] is None and math.isfinite(r["metric"]) and r["wall_s"] > 0 and r["peak_rss_mb"] > 50
        assert (r["n_train"], r["n_val"], r["n_test"]) == (runs[0]["n_train"], runs[0]["n_val"], runs[0]["n_test"])
        assert r["self_reported"] is not None and r["self_reported"] == pytest.approx(r["metric"], rel=1e-3)
    assert "ESOL" in (tmp_path / "results.md").read_text()


def test_results_are_written_into_the_marked_section(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    md, js = tmp_path / "RESULTS.md", tmp_path / "results" / "x.json"
    monkeypatch.setattr(bench, "RESULTS_MD", md)
    monkeypatch.setattr(bench, "RESULTS_JSON", js)
    bench.write_results("first table", {"a": np.float64(1.5)})
    assert md.read_text().startswith("# Benchmark results") and "first table" in md.read_text()
    md.write_text(md.read_text() + "\n<!-- other:begin -->\nother tool\n<!-- other:end -->\n")
    bench.write_results("second table", {"a": 2})
    text = md.read_text()
    assert "second table" in text and "first table" not in text and "other tool" in text
    assert json.loads(js.read_text()) == {"a": 2}


def test_summary_and_goals_compare_means_and_totals() -> None:
    def rec(ds: str, seed: int, cfg: str, metric: float, wall: float, rss: float) -> bench.RunRecord:
        return bench.RunRecord(
            dataset=ds, seed=seed, tool="chemprop" if cfg == "chemprop" else "ours", config=cfg,
            metric_name=bench.DATASETS[ds].metric, metric=metric, wall_s=wall, cpu_s=wall, peak_rss_mb=rss,
            maxrss_mb=rss, returncode=0, n_train=8, n_val=1, n_test=1, epochs=50, command=[],
        )

    recs = [
        rec("esol", 0, "chemprop", 1.0, 40, 700), rec("esol", 1, "chemprop", 1.2, 40, 710),
        rec("esol", 0, "default", 0.9, 10, 600), rec("esol", 1, "default", 1.1, 12, 650),
        rec("bace", 0, "chemprop", 0.80, 60, 800), rec("bace", 0, "default", 0.79, 20, 900),
    ]
    summary = bench.summarize(recs, ["esol", "bace"], ["chemprop", "default"])
    assert summary["datasets"]["esol"]["configs"]["default"]["metric_mean"] == pytest.approx(1.0)
    assert summary["totals"]["default"]["wall_sum"] == 42 and summary["totals"]["chemprop"]["rss_max"] == 800
    lines = bench.goals(summary, {"ratio": 2.5}, ["esol", "bace"], ["default"])
    text = "\n".join(lines)
    assert "on 1 of 2 datasets" in text and "FAIL: ours (default) accuracy" in text  # BACE AUC lower
    assert "PASS: ours (default) total wall time = 0.30x" in text
    assert "FAIL: ours (default) peak RSS (max over runs) = 1.12x" in text
    assert "PASS: featurization throughput = 2.50x" in text


def test_sweep_runs_variants_on_the_benchmark_split_and_resumes(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    import molprop_sweep as sweep

    args = ["--datasets", "freesolv", "--seeds", "0", "--workers", "2", "--workdir", str(tmp_path),
            "--variant", "a=tuned-v1:--epochs 2 --hidden 32 --ffn-hidden 32",
            "--variant", "b=default:--epochs 2 --hidden 32 --ffn-hidden 32 --precision bf16-mixed",
            "--variant", "c=tuned-v1:--epochs 2 --hidden 32 --ffn-hidden 32 --feature-dropout 0.5 --feature-flag"]
    assert sweep.main(args) == 0
    recs = [json.loads(x) for x in (tmp_path / "runs.jsonl").read_text().splitlines()]
    assert sorted(r["variant"] for r in recs) == ["a", "b", "c"]
    for r in recs:
        assert r["rc"] == 0 and r["epochs_run"] == [2] and math.isfinite(r["test"]) and math.isfinite(r["val"])
    a = next(r for r in recs if r["variant"] == "a")
    # the base config's flags come first, the variant's after them (argparse keeps the last)
    assert "--mol-features physchem" in a["command"] and a["command"].endswith("--hidden 32 --ffn-hidden 32")
    # the split is the benchmark's own: same data.csv as molprop_vs_chemprop writes
    prep = bench.prepare_dataset(bench.DATASETS["freesolv"])
    ref = tmp_path / "ref"
    bench.write_split_inputs(prep, bench.scaffold_split(prep, 0), ref)
    assert (ref / "data.csv").read_bytes() == (tmp_path / "splits" / "freesolv" / "seed0" / "data.csv").read_bytes()
    capsys.readouterr()
    assert sweep.main(args) == 0  # resumed: nothing left to run
    assert "0 runs to do (3 already" in capsys.readouterr().out
    assert len((tmp_path / "runs.jsonl").read_text().splitlines()) == 3
    assert sweep.main(["--summary-only", "--datasets", "freesolv", "--out", str(tmp_path / "runs.jsonl")]) == 0
    table = capsys.readouterr().out
    assert "| a | " in table and "| b | " in table and "n=1" in table
    with pytest.raises(SystemExit, match="NAME=BASE:FLAGS"):
        sweep.parse_variant("nobase")

    # the post-hoc views of the feature-dropout model: "full" is what the run itself scored on test
    import molprop_feature_views as views

    out = tmp_path / "views.jsonl"
    assert views.main(["--runs", str(tmp_path / "runs"), "--variants", "c", "--datasets", "freesolv",
                       "--splits-dir", str(tmp_path / "splits"), "--out", str(out)]) == 0
    (row,) = [json.loads(x) for x in out.read_text().splitlines()]
    c = next(r for r in recs if r["variant"] == "c")
    assert row["test_full"] == pytest.approx(c["test"], rel=1e-5)
    assert row["val_full"] == pytest.approx(c["val"], rel=1e-5)
    assert all(math.isfinite(row[k]) for k in row if k.startswith(("val_", "test_")))
    assert row["test_graph"] != row["test_full"]
    with pytest.raises(SystemExit, match="not trained with feature dropout"):
        views.main(["--runs", str(tmp_path / "runs"), "--variants", "a", "--datasets", "freesolv",
                    "--splits-dir", str(tmp_path / "splits"), "--out", str(tmp_path / "a.jsonl")])
