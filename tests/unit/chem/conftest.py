"""Fixtures for the discovery.chem tests: the ESOL data set and diverse molecules."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def esol_csv() -> Path:
    """ESOL (delaney.csv) through the dataset registry, else from the data mirror."""
    try:
        from discovery.data import fetch

        return Path(fetch("esol")[0])
    except ImportError:
        mirror = os.environ.get("DISCOVERY_DATA_MIRROR")
        if not mirror:
            pytest.skip("no dataset registry and no DISCOVERY_DATA_MIRROR")
        return Path(mirror) / "molecules" / "delaney.csv"


@pytest.fixture(scope="session")
def esol_path() -> Path:
    return esol_csv()


@pytest.fixture(scope="session")
def esol_table(esol_path):
    from discovery.chem.io import read_molecules

    return read_molecules(esol_path, target_cols=["logp"])


#: Hard cases beyond ESOL: charges, stereo, aromatic heterocycles, single atoms,
#: elements outside the 1-36 + I list, isotopes, hypervalent atoms, dative bonds.
SPECIAL_SMILES = [
    "C", "[Na+]", "[Cl-]", "[Se]", "[Pt+2]", "[Fe+3]", "[U]", "[SiH4]", "O",
    "C[Sn](C)(C)C", "N.N.Cl[Pt]Cl", "N->[Pt](<-N)(Cl)Cl", "[Cu+2].[O-]S(=O)(=O)[O-]",
    "CC(=O)[O-]", "C[N+](C)(C)C", "[O-][n+]1ccccc1", "C=[N+]=[N-]", "[CH2-]C",
    "N[C@@H](C)C(=O)O", "C[C@H](O)C(=O)[O-]", "C/C=C/C", "C/C=C\\C", "CC=[C@]=CC",
    "C1=CC=C[C@H]1O", "F[S@](F)(F)(F)(F)F", "FS(F)(F)(F)(F)F", "[13CH3]C[2H]",
    "c1ccccc1-c1ccccc1", "c1ccc2[nH]ccc2c1", "c1ccsc1", "C#N", "*C", "CI", "C[Se]C",
    "C[Si](C)(C)OC", "OB(O)c1ccccc1", "[NH4+]", "[H][H]", "[2H]O[2H]", "C[S+](C)C",
    "Brc1ccc(I)cc1", "C1CC2CCC1C2", "[Xe]", "[Kr]", "[Rb+]", "[I-]", "[Gd+3]",
]


@pytest.fixture(scope="session")
def special_smiles() -> list[str]:
    return list(SPECIAL_SMILES)
