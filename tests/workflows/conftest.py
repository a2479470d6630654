"""Fixtures for the Snakemake workflow tests.

- ``local_run`` (session): the .test config run locally with profiles/local,
  interrupted (SIGINT to snakemake's process group) once a training job has
  finished, then resumed to completion.
- ``slurm_cluster`` (session): the single-node SLURM cluster brought up by
  ``scripts/slurm-up.sh``, stopped afterwards if it was not running before.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from wf_helpers import (
    NO_SNAKEMAKE,
    REPO,
    finished_jobids,
    jobs_in_log,
    mtimes,
    popen_snakemake,
    run_snakemake,
    write_test_config,
)


def _run(cmd: list[str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)


def _cluster_up() -> bool:
    if shutil.which("scontrol") is None:
        return False
    try:
        ping = _run(["scontrol", "ping"], timeout=10)
    except (subprocess.TimeoutExpired, OSError):
        return False
    return "UP" in ping.stdout and "DOWN" not in ping.stdout


@pytest.fixture(scope="session")
def slurm_cluster():
    """A single-node SLURM cluster on this machine, from scripts/slurm-up.sh.

    Skipped only where it cannot be started: not root (and no password-less
    sudo), or SLURM is not installed and apt-get is missing.
    """
    is_root = os.geteuid() == 0
    has_sudo = shutil.which("sudo") is not None and _run(["sudo", "-n", "true"], timeout=10).returncode == 0
    if not (is_root or has_sudo):
        pytest.skip("SLURM bring-up needs root or password-less sudo (scripts/slurm-up.sh starts daemons)")
    if shutil.which("slurmctld") is None and not os.path.exists("/usr/sbin/slurmctld") and shutil.which("apt-get") is None:
        pytest.skip("SLURM is not installed and apt-get is not available to install slurm-wlm and munge")
    was_up = _cluster_up()
    up = _run(["bash", str(REPO / "scripts" / "slurm-up.sh")], timeout=900)
    assert up.returncode == 0, f"scripts/slurm-up.sh failed:\n{up.stdout}"
    yield up.stdout
    if not was_up:
        down = _run(["bash", str(REPO / "scripts" / "slurm-down.sh")], timeout=120)
        assert down.returncode == 0, f"scripts/slurm-down.sh failed:\n{down.stdout}"


@dataclass
class LocalRun:
    """The .test workflow run locally: interrupted after the first training job, then resumed."""

    workdir: Path
    config: Path
    outdir: Path
    interrupted_log: str
    finished_before_interrupt: dict[int, dict]  # jobid -> job (rule, output) finished before SIGINT
    mtimes_before_resume: dict[str, int]  # outputs of those jobs
    resumed_log: str
    seconds: dict[str, float] = field(default_factory=dict)


@pytest.fixture(scope="session")
def local_run(tmp_path_factory: pytest.TempPathFactory) -> LocalRun:
    """Run the .test config with profiles/local, SIGINT its process group once a training job
    has finished, then run it again to completion."""
    pytest.importorskip("snakemake", reason=NO_SNAKEMAKE)
    workdir = tmp_path_factory.mktemp("wf-local")
    cfg = write_test_config(workdir)
    outdir = workdir / yaml.safe_load(cfg.read_text())["outdir"]
    seconds = {}

    log1 = workdir / "interrupted.log"
    t0 = time.monotonic()
    proc = popen_snakemake(workdir, log1, "--cores", "2", profile="local", configfile=cfg)
    try:
        while True:
            text = log1.read_text()
            if finished_jobids(text, "train"):
                break
            if proc.poll() is not None:
                raise AssertionError(f"snakemake ended (rc {proc.returncode}) before a train job finished:\n{text}")
            if time.monotonic() - t0 > 600:
                raise AssertionError(f"no train job finished within 600 s:\n{text}")
            time.sleep(0.2)
        seconds["until_first_train"] = time.monotonic() - t0
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    # the group (snakemake and its jobs) is gone, so nothing writes while we look
    for _ in range(50):
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    text1 = log1.read_text()
    jobs = jobs_in_log(text1)
    done = {jid: jobs[jid] for jid in finished_jobids(text1) if jid in jobs}
    before = mtimes([workdir / p for job in done.values() for p in job["output"]])

    t1 = time.monotonic()
    res = run_snakemake(workdir, "--cores", "2", profile="local", configfile=cfg, timeout=900)
    seconds["resume"] = time.monotonic() - t1
    assert res.returncode == 0, f"resumed run failed:\n{res.stdout}"
    return LocalRun(workdir, cfg, outdir, text1, done, before, res.stdout, seconds)
