"""Shared fixtures: the BC5CDR-trained offline model (built once per session into the test cache)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def lit_model():
    from discovery.literature.model import default_model

    return default_model()


@pytest.fixture(scope="session")
def bc5cdr_test():
    from discovery.literature.model import _bc5cdr

    return _bc5cdr("test")
