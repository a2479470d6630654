"""Helpers for the Snakemake workflow tests (imported by the test modules and conftest).

- :func:`run_snakemake` runs ``python -m snakemake`` on ``workflows/Snakefile``
  in a scratch working directory, with this interpreter's ``bin/`` first on
  ``PATH`` so rules find the ``discovery`` CLI of the environment under test.
- :func:`write_test_config` writes ``workflows/.test/config.yaml`` into a working
  directory with its library file made absolute.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import yaml

#: why the workflow tests skip where snakemake is missing (CI installs the extra)
NO_SNAKEMAKE = "snakemake is not installed: install the `workflows` extra (pip install -e '.[workflows]')"

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / "workflows"
SNAKEFILE = WORKFLOW / "Snakefile"
PROFILES = WORKFLOW / "profiles"
TEST_CONFIG = WORKFLOW / ".test" / "config.yaml"


def workflow_env() -> dict[str, str]:
    """Environment for snakemake and its jobs: this venv's bin/ first on PATH."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("DISCOVERY_DATA_MIRROR", str((REPO.parent / "shared" / "data").resolve()))
    env.setdefault("DISCOVERY_OFFLINE", "1")
    return env


def snakemake_cmd(workdir: Path, *args: str, profile: str | None = None, configfile: Path | None = None) -> list[str]:
    cmd = [sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), "--directory", str(workdir)]
    if profile:
        cmd += ["--profile", str(PROFILES / profile)]
    if configfile:
        cmd += ["--configfile", str(configfile)]
    return cmd + list(args)


def run_snakemake(
    workdir: Path,
    *args: str,
    profile: str | None = None,
    configfile: Path | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess:
    """Run snakemake to completion; stdout and stderr together in ``.stdout``."""
    return subprocess.run(
        snakemake_cmd(workdir, *args, profile=profile, configfile=configfile),
        cwd=workdir,
        env=workflow_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
    )


def _absolute_paths(obj):
    """Config values naming a file of the repository (``workflows/.test/x.csv``) as absolute paths."""
    if isinstance(obj, dict):
        return {k: (v if k == "outdir" else _absolute_paths(v)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_absolute_paths(v) for v in obj]
    if isinstance(obj, str) and os.path.dirname(obj) and not os.path.isabs(obj) and (REPO / obj).exists():
        return str((REPO / obj).resolve())
    return obj


def write_test_config(workdir: Path, **overrides) -> Path:
    """``.test/config.yaml`` written into ``workdir`` (repository-relative file paths made absolute), with overrides."""
    cfg = _absolute_paths(yaml.safe_load(TEST_CONFIG.read_text()))
    cfg.update(overrides)
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def popen_snakemake(workdir: Path, log: Path, *args: str, profile: str | None = None,
                    configfile: Path | None = None) -> subprocess.Popen:
    """Start snakemake in its own session (process group = its pid), output to ``log``.

    SIGINT is reset to its default in the child: a test run started in the background by a
    shell without job control (``make test &``, ``nohup ... &``) inherits SIGINT *ignored*,
    and snakemake would then never see the interrupt the tests send.
    """
    fh = open(log, "w")
    try:
        return subprocess.Popen(
            snakemake_cmd(workdir, *args, profile=profile, configfile=configfile),
            cwd=workdir,
            env=workflow_env(),
            stdout=fh,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
            preexec_fn=_default_sigint,
        )
    finally:
        fh.close()  # the child holds its own copy


_JOB_BLOCK = re.compile(
    r"^(?:local)?rule (?P<rule>\w+):\n(?P<body>(?:    .*\n)+)", re.MULTILINE
)


def jobs_in_log(text: str) -> dict[int, dict]:
    """Jobs a snakemake log started: ``{jobid: {"rule", "output": [paths], "wildcards"}}``."""
    jobs = {}
    for m in _JOB_BLOCK.finditer(text):
        fields = {}
        for line in m.group("body").splitlines():
            key, _, value = line.strip().partition(": ")
            fields[key] = value
        if "jobid" in fields:
            outputs = [p.strip() for p in fields.get("output", "").split(",") if p.strip()]
            jobs[int(fields["jobid"])] = {"rule": m.group("rule"), "output": outputs,
                                          "wildcards": fields.get("wildcards", "")}
    return jobs


def finished_jobids(text: str, rule: str | None = None) -> set[int]:
    """Job ids snakemake reported finished (``Finished jobid: N (Rule: R)``)."""
    return {
        int(m.group(1))
        for m in re.finditer(r"Finished jobid: (\d+) \(Rule: (\w+)\)", text)
        if rule is None or m.group(2) == rule
    }


def mtimes(paths: list[Path]) -> dict[str, int]:
    """``{path: mtime_ns}`` of files, descending into directories."""
    out = {}
    for p in paths:
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file():
                    out[str(f)] = f.stat().st_mtime_ns
        elif p.exists():
            out[str(p)] = p.stat().st_mtime_ns
    return out
