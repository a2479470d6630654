"""Fixtures for the screening tests: real molecules from the data mirror."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")


@pytest.fixture(scope="session")
def esol_smiles() -> list[str]:
    from discovery.data.loaders import resolve

    import pandas as pd

    path, _ = resolve("ESOL")
    return pd.read_csv(path)["smiles"].tolist()


@pytest.fixture(scope="session")
def esol_table():
    from discovery.data.loaders import resolve

    import pandas as pd

    path, _ = resolve("ESOL")
    return pd.read_csv(path)
