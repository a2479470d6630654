"""Fixtures for report tests: result folders from real dataset rows (see reports_fixture.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reports_fixture import make_baseline, make_molprop_run  # noqa: E402


@pytest.fixture(scope="session")
def runs_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``runs/`` with ESOL × seeds 0, 1, 2 and BBBP × seed 0 (molprop.train result folders)."""
    root = tmp_path_factory.mktemp("runs")
    for seed in range(3):
        make_molprop_run(root / f"esol-s{seed}", dataset="ESOL", seed=seed)
    make_molprop_run(root / "bbbp-s0", dataset="BBBP", seed=0, n=300)
    return root


@pytest.fixture(scope="session")
def baseline_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_baseline(tmp_path_factory.mktemp("bench") / "molprop_vs_chemprop.json")


@pytest.fixture(scope="session")
def built(runs_root: Path, baseline_file: Path):
    """The report for ``runs_root`` with the baseline."""
    from discovery.reports.build import build_report
    from discovery.reports.registry import ReportOptions

    return build_report([runs_root], title="Unit-test report", options=ReportOptions(baseline=baseline_file))
