"""Molecule-level descriptors: values equal RDKit's own descriptor functions, failures become NaN."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from rdkit import Chem
from rdkit.Chem import Descriptors

from discovery.chem import descriptor_names, featurize, mol_descriptors

SMILES = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "C[C@H](N)C(=O)O", "[Na+].[Cl-]", "O=C([O-])c1ccccc1"]

# our column -> the function of rdkit.Chem.Descriptors computing the same value
RDKIT_EQUIVALENT = {
    "crippen_logp": "MolLogP", "crippen_mr": "MolMR", "tpsa": "TPSA", "labute_asa": "LabuteASA",
    "exact_mw": "ExactMolWt", "hbd": "NumHDonors", "hba": "NumHAcceptors", "rotatable_bonds": "NumRotatableBonds",
    "fraction_csp3": "FractionCSP3", "rings": "RingCount", "aromatic_rings": "NumAromaticRings",
    "heavy_atoms": "HeavyAtomCount", "chi0v": "Chi0v", "chi4v": "Chi4v", "kappa3": "Kappa3",
    "hall_kier_alpha": "HallKierAlpha", "slogp_vsa1": "SlogP_VSA1", "slogp_vsa12": "SlogP_VSA12",
    "smr_vsa10": "SMR_VSA10", "peoe_vsa1": "PEOE_VSA1", "peoe_vsa14": "PEOE_VSA14",
}


@pytest.fixture(scope="module")
def mols():
    return [Chem.MolFromSmiles(s) for s in SMILES]


def test_values_match_rdkit_descriptors(mols):
    values, n_failed = mol_descriptors(mols, "physchem")
    names = list(descriptor_names("physchem"))
    assert values.shape == (len(SMILES), 64) and values.dtype == np.float32 and n_failed == 0
    assert len(set(names)) == 64
    for ours, theirs in RDKIT_EQUIVALENT.items():
        want = np.array([getattr(Descriptors, theirs)(m) for m in mols], dtype=np.float32)
        np.testing.assert_allclose(values[:, names.index(ours)], want, rtol=1e-6, atol=1e-5, err_msg=ours)
    # hand-checked: ethanol has 1 donor, 1 acceptor, 0 rings; paracetamol has one amide bond
    row = dict(zip(names, values[0]))
    assert (row["hbd"], row["hba"], row["rings"], row["heavy_atoms"]) == (1, 1, 0, 3)
    assert dict(zip(names, values[2]))["amide_bonds"] == 1
    assert dict(zip(names, values[4]))["formal_charge"] == 0 and dict(zip(names, values[5]))["formal_charge"] == -1


def test_fragment_set_extends_physchem_with_rdkit_fragment_counts(mols):
    physchem, _ = mol_descriptors(mols, "physchem")
    values, n_failed = mol_descriptors(mols, "physchem-fragments")
    names = list(descriptor_names("physchem-fragments"))
    assert values.shape == (len(SMILES), 149) and n_failed == 0 and len(set(names)) == 149
    np.testing.assert_array_equal(values[:, :64], physchem)
    # every RDKit fr_* descriptor, each equal to RDKit's own count
    rdkit_fr = [name for name, _ in Descriptors.descList if name.startswith("fr_")]
    assert names[64:] == rdkit_fr
    for name in rdkit_fr:
        want = np.array([getattr(Descriptors, name)(m) for m in mols], dtype=np.float32)
        np.testing.assert_array_equal(values[:, names.index(name)], want, err_msg=name)
    # hand-checked ionizable groups: alanine and benzoate carry one carboxylic acid, alanine one primary
    # amine, phenol and paracetamol one phenolic OH, ethanol none of these
    row = [dict(zip(names, v)) for v in values]
    assert [r["fr_COO"] for r in row] == [0, 0, 0, 1, 0, 1]
    assert [r["fr_NH2"] for r in row] == [0, 0, 0, 1, 0, 0]
    assert [r["fr_phenol"] for r in row] == [0, 1, 1, 0, 0, 0]


def test_failed_descriptor_is_nan_and_counted(mols):
    unsanitized = Chem.MolFromSmiles("c1ccccc1O", sanitize=False)  # ring info missing: RDKit refuses
    values, n_failed = mol_descriptors([mols[0], unsanitized], "physchem")
    assert n_failed == int(np.isnan(values).sum()) > 0
    assert not np.isnan(values[0]).any() and np.isnan(values[1]).any()


def test_unknown_set_is_refused(mols):
    with pytest.raises(ValueError, match="unknown descriptor set 'rdkit_all'"):
        mol_descriptors(mols, "rdkit_all")


def test_packed_graphs_carry_descriptors(tmp_path, mols):
    values, _ = mol_descriptors(mols)
    graphs = featurize(mols).with_mol_features(values)
    assert graphs.mol_fdim == 64
    sub = graphs.subset([4, 1])
    torch.testing.assert_close(sub.mol_features, torch.from_numpy(values[[4, 1]]))
    batch = graphs.collate(np.array([2, 0]))
    torch.testing.assert_close(batch.x_d, torch.from_numpy(values[[2, 0]]))
    both = type(graphs).concat([graphs.subset([0, 1]), graphs.subset([2, 3, 4, 5])])
    assert both == graphs
    graphs.save(tmp_path / "g.pt")
    assert type(graphs).load(tmp_path / "g.pt") == graphs
    assert featurize(mols).collate(np.array([0])).x_d is None
    with pytest.raises(ValueError, match="different feature dimensions"):
        type(graphs).concat([graphs, featurize(mols)])
    with pytest.raises(ValueError, match="n_mols=6"):
        featurize(mols).with_mol_features(values[:3])
