"""Standardization: salts stripped, charges neutralized, input untouched."""

from __future__ import annotations

import pytest
from rdkit import Chem

from discovery.chem.standardize import standardize_mol, standardize_smiles


@pytest.mark.parametrize(
    "smiles, expected",
    [
        ("CC(=O)[O-].[Na+]", "CC(=O)O"),  # salt stripped, carboxylate protonated
        ("C[NH3+].[Cl-]", "CN"),  # ammonium neutralized
        ("O=C([O-])c1ccccc1.O", "O=C(O)c1ccccc1"),  # water removed
        ("[NH3+]CC(=O)[O-]", "NCC(=O)O"),  # zwitterion neutralized
        ("C[N+](C)(C)C.[Cl-]", "C[N+](C)(C)C"),  # quaternary N keeps its charge
        ("C[N+](=O)[O-]", "C[N+](=O)[O-]"),  # nitro stays in its charge-separated form
        ("CCO", "CCO"),
    ],
)
def test_standardize(smiles, expected):
    assert standardize_smiles(smiles) == expected


def test_options_and_input_untouched():
    m = Chem.MolFromSmiles("CC(=O)[O-].[Na+]")
    before = Chem.MolToSmiles(m)
    assert Chem.MolToSmiles(standardize_mol(m, largest_fragment=False, neutralize=False)) == before
    assert Chem.MolToSmiles(standardize_mol(m, neutralize=False)) == "CC(=O)[O-]"
    assert Chem.MolToSmiles(m) == before


def test_errors():
    with pytest.raises(ValueError, match="None"):
        standardize_mol(None)
    with pytest.raises(ValueError, match="empty"):
        standardize_mol(Chem.MolFromSmiles(""))
    with pytest.raises(ValueError, match="invalid SMILES"):
        standardize_smiles("C1CC")
