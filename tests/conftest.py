"""Shared test set-up.

- ``DISCOVERY_DATA_MIRROR`` defaults to ``<repo>/../shared/data`` (the read-only
  data mirror) so the registry finds the real files.
- ``DISCOVERY_CACHE`` points at a per-session temporary folder, so tests never
  read or write ``~/.cache/discovery``.
- ``DISCOVERY_OFFLINE`` defaults to ``1``: a test never downloads from the
  internet by accident (a test of the download path passes ``offline=False``
  and a local URL explicitly).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

os.environ.setdefault("DISCOVERY_DATA_MIRROR", str((REPO_ROOT.parent / "shared" / "data").resolve()))
os.environ.setdefault("DISCOVERY_OFFLINE", "1")


@pytest.fixture(scope="session", autouse=True)
def discovery_cache(tmp_path_factory: pytest.TempPathFactory):
    """Session-wide ``DISCOVERY_CACHE`` under pytest's temporary folder (restored afterwards)."""
    cache = tmp_path_factory.mktemp("discovery-cache")
    previous = os.environ.get("DISCOVERY_CACHE")
    os.environ["DISCOVERY_CACHE"] = str(cache)
    yield cache
    if previous is None:
        os.environ.pop("DISCOVERY_CACHE", None)
    else:
        os.environ["DISCOVERY_CACHE"] = previous
