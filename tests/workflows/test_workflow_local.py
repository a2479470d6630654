"""The .test workflow on this machine with profiles/local: complete, consistent, resumable, idempotent.

The session fixture ``local_run`` (conftest.py) starts the workflow, sends
SIGINT to snakemake's process group as soon as the first training job has
finished, and runs it again to completion. These tests read what it left.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

pytest.importorskip("snakemake", reason="snakemake is not installed: install the `workflows` extra")

from wf_helpers import jobs_in_log, mtimes, run_snakemake  # noqa: E402

pytestmark = pytest.mark.slow

DATASETS = {"esol": "logp", "freesolv": "freesolv"}  # .test config: dataset -> registry target
SEEDS = (0, 1)
SCREENING_ROWS = 18  # workflows/.test/screening.csv


def _read_csv(path: Path, delimiter: str = ",") -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh, delimiter=delimiter))


def test_interrupted_run_resumes_without_redoing_finished_jobs(local_run):
    done = local_run.finished_before_interrupt
    assert any(job["rule"] == "train" for job in done.values()), done
    assert local_run.mtimes_before_resume, "no finished outputs recorded before the interrupt"
    # the interrupt stopped the run: not every training job had finished
    interrupted_jobs = jobs_in_log(local_run.interrupted_log)
    assert sum(j["rule"] == "train" for j in done.values()) < len(DATASETS) * len(SEEDS)
    assert len(done) < len(interrupted_jobs) or "Terminating" in local_run.interrupted_log

    # finished outputs untouched by the resumed run ...
    after = mtimes([Path(p) for p in local_run.mtimes_before_resume])
    assert after == local_run.mtimes_before_resume
    # ... whose log shows none of those jobs again, but the rest of the training
    resumed = jobs_in_log(local_run.resumed_log)
    redone = {tuple(j["output"]) for j in resumed.values()} & {tuple(j["output"]) for j in done.values() if j["output"]}
    assert not redone, f"jobs run again after resuming: {redone}"
    assert any(j["rule"] == "train" for j in resumed.values()), local_run.resumed_log


def test_outputs_complete_and_consistent(local_run):
    out = local_run.outdir / "molprop"
    for dataset, target in DATASETS.items():
        assert (out / "data" / f"{dataset}.csv").stat().st_size > 1000
        assert (out / "logs" / "fetch" / f"{dataset}.log").exists()
        splits = []
        for seed in SEEDS:
            run = out / "train" / dataset / f"seed{seed}"
            for name in ("metrics.json", "test_predictions.csv", "splits.json", "invalid_rows.csv", "manifest.json"):
                assert (run / name).is_file(), run / name
            assert any((run / "model").iterdir())
            for step in ("train", "evaluate", "predict"):
                assert (out / "logs" / step / dataset / f"seed{seed}.log").is_file()
            splits.append((run / "splits.json").read_text())

            # the saved bundle reproduces training's test metrics when re-evaluated
            trained = json.loads((run / "metrics.json").read_text())
            evaluated = json.loads((out / "evaluate" / dataset / f"seed{seed}.json").read_text())
            assert trained["test"][target]["rmse"] == pytest.approx(
                evaluated["metrics"][f"{target}"]["rmse"], rel=1e-5
            ), (trained["test"], evaluated)

            preds = _read_csv(out / "predict" / dataset / f"seed{seed}.csv")
            assert len(preds) == SCREENING_ROWS
            assert {"smiles", f"{target}_pred", f"{target}_std"} <= set(preds[0])
            assert all(float(r[f"{target}_std"]) >= 0 for r in preds)
            assert _read_csv(out / "predict" / dataset / f"seed{seed}.invalid.csv") == []
        assert splits[0] != splits[1], "seeds 0 and 1 gave the same scaffold split"

    summary = _read_csv(out / "summary.tsv", delimiter="\t")
    runs = {(r["dataset"], r["seed"], r["stage"]) for r in summary}
    assert runs == {(d, str(s), st) for d in DATASETS for s in SEEDS for st in ("train", "evaluate")}
    assert (out / "logs" / "summarize.log").read_text().startswith("summarize:")


def test_workflow_ends_in_report_of_every_run(local_run):
    """The report rule reads every training run's result folder and writes one self-contained HTML file."""
    html = (local_run.outdir / "report.html").read_text()
    assert (local_run.outdir / "logs" / "report.log").is_file()
    assert "<h1>Discovery results</h1>" in html or "Discovery results" in html
    for dataset in DATASETS:
        assert dataset in html.lower()
    # the molprop section aggregates over the seeds of each dataset (mean ± sd) and names the runs' seeds
    assert "±" in html
    # self-contained: nothing is loaded from elsewhere (the browser test checks requests for real)
    assert not re.search(r"<(script|img|link)[^>]+(src|href)=[\"']https?:", html)


def test_rerun_has_nothing_to_do(local_run):
    before = mtimes([local_run.outdir])
    res = run_snakemake(local_run.workdir, "--cores", "2", profile="local", configfile=local_run.config, timeout=300)
    assert res.returncode == 0, res.stdout
    assert "Nothing to be done" in res.stdout, res.stdout
    assert "Finished jobid" not in res.stdout
    assert mtimes([local_run.outdir]) == before


def test_snakemake_report_carries_outputs_with_captions(local_run):
    """`snakemake --report` packs the summary table and the PI report with their captions."""
    out = local_run.workdir / "snakemake-report.zip"
    res = run_snakemake(local_run.workdir, "--report", str(out), configfile=local_run.config, timeout=300)
    assert res.returncode == 0, res.stdout
    import zipfile

    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        text = "\n".join(zf.read(n).decode("utf-8", "replace") for n in names if n.endswith((".html", ".js", ".json")))
    assert any(n.endswith("report.html") and "/data/" in n for n in names), names
    assert any(n.endswith("summary.tsv") for n in names), names
    assert "self-contained HTML file that makes no network request" in text  # report/report.rst caption
    assert "Molecular property prediction" in text  # summary.tsv category
