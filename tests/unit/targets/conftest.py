"""Fixtures for the targets tests: the tiny Hetionet sample and a hand-made planted graph."""

from __future__ import annotations

import pytest

from discovery.targets.synthetic import planted_graph


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread():
    """One intra-op thread: on a shared 2-core machine two spinning threads are much slower than one."""
    try:
        import torch
    except ImportError:  # pragma: no cover
        yield
        return
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="session")
def tiny_kg():
    from discovery.targets.kg import load_kg

    return load_kg("hetionet-tiny")


@pytest.fixture()
def planted():
    return planted_graph()


@pytest.fixture()
def make_planted():
    return planted_graph
