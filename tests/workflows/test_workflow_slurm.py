"""The .test workflow through profiles/slurm on the single-node cluster of scripts/slurm-up.sh.

Every job must go through ``sbatch`` and the numbers must equal the local
run's (same seeds, same thread counts -> same results).
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

pytest.importorskip("snakemake", reason="snakemake is not installed: install the `workflows` extra")

from wf_helpers import run_snakemake, write_test_config  # noqa: E402

pytestmark = pytest.mark.slow

DATASETS = ("esol", "freesolv")
SEEDS = (0, 1)
#: molprop jobs the .test config submits: fetch 2, train 4, evaluate 4, predict 4, summarize 1, report 1;
#: the enabled capability sections add their own (counted from the run's job table)
N_MOLPROP = 2 + 4 + 4 + 4 + 1 + 1


def _planned_jobs(log: str) -> dict[str, int]:
    """The first "Job stats" table of a snakemake log: rule -> count (without the total)."""
    table = log.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    rows = [line.split() for line in table.splitlines()[3:] if line.strip()]
    return {r[0]: int(r[1]) for r in rows if len(r) == 2 and r[1].isdigit() and r[0] != "total"}

#: keys whose values legitimately differ between two runs of the same computation
VOLATILE = re.compile(r"time|seconds|timing|duration|started|finished|host|pid|path|date|_s$", re.I)


def _stable(obj):
    """``obj`` without run-specific fields (timings, hosts, absolute paths)."""
    if isinstance(obj, dict):
        return {k: _stable(v) for k, v in obj.items() if not VOLATILE.search(str(k))}
    if isinstance(obj, list):
        return [_stable(v) for v in obj]
    return obj


@pytest.fixture(scope="module")
def slurm_run(slurm_cluster, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("wf-slurm")
    cfg = write_test_config(workdir)
    res = run_snakemake(workdir, profile="slurm", configfile=cfg, timeout=1500)
    assert res.returncode == 0, f"SLURM run failed:\n{res.stdout}"
    return workdir, res.stdout


def test_every_job_went_through_sbatch(slurm_run):
    workdir, log = slurm_run
    submitted = re.findall(r"Job (\d+) has been submitted with SLURM jobid (\d+)", log)
    planned = _planned_jobs(log)
    molprop = sum(planned.get(r, 0) for r in ("fetch", "train", "evaluate", "predict", "summarize", "report"))
    assert molprop == N_MOLPROP, planned
    n_expected = sum(n for rule, n in planned.items() if rule != "all")  # `all` runs locally
    assert len(submitted) == n_expected, log
    assert len({slurm_id for _, slurm_id in submitted}) == n_expected
    # slurmctld knows the last job (finished jobs stay visible for MinJobAge = 300 s)
    last = max(int(slurm_id) for _, slurm_id in submitted)
    show = subprocess.run(["scontrol", "show", "job", str(last)], capture_output=True, text=True, timeout=30)
    assert "JobState=COMPLETED" in show.stdout, show.stdout + show.stderr
    assert f"WorkDir={workdir}" in show.stdout, show.stdout
    assert (workdir / "results" / "test" / "molprop" / "summary.tsv").is_file()
    assert (workdir / "results" / "test" / "report.html").is_file()


def test_slurm_numbers_equal_local(slurm_run, local_run):
    workdir, _ = slurm_run
    out_slurm = workdir / Path(local_run.outdir).relative_to(local_run.workdir) / "molprop"
    out_local = local_run.outdir / "molprop"
    for dataset in DATASETS:
        for seed in SEEDS:
            for rel in (f"train/{dataset}/seed{seed}/metrics.json", f"evaluate/{dataset}/seed{seed}.json"):
                a = _stable(json.loads((out_local / rel).read_text()))
                b = _stable(json.loads((out_slurm / rel).read_text()))
                assert a == b, rel
            for rel in (f"train/{dataset}/seed{seed}/test_predictions.csv", f"train/{dataset}/seed{seed}/splits.json",
                        f"predict/{dataset}/seed{seed}.csv"):
                assert (out_local / rel).read_text() == (out_slurm / rel).read_text(), rel
