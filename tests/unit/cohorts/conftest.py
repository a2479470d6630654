"""Fixtures for discovery.cohorts tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from cohorts_fixture import write_cdm


@pytest.fixture()
def tiny_dir(tmp_path: Path) -> Path:
    return write_cdm(tmp_path / "cdm")


@pytest.fixture()
def tiny_cdm(tiny_dir: Path):
    from discovery.cohorts import load_cdm

    cdm = load_cdm(tiny_dir)
    yield cdm
    cdm.close()


@pytest.fixture()
def make_cdm_dir(tmp_path: Path):
    """Factory: ``make_cdm_dir(name, upper=False, drop=(), tables=None) -> folder``."""
    def make(name: str = "c", **kw) -> Path:
        return write_cdm(tmp_path / name, **kw)
    return make
