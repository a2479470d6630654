"""Featurization: hand-written expectations, Chemprop v2 equality, edges, cache."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from rdkit import Chem

from discovery.chem import featurize as featurize_fn
from discovery.chem.featurize import (
    ATOM_FDIM,
    BOND_FDIM,
    FEATURIZER_VERSION,
    atom_features,
    bond_features,
    features_cache_key,
    featurize,
    featurize_cached,
)
from discovery.chem.graphs import PackedGraphs

C_MASS = np.float32(0.01 * 12.011)
O_MASS = np.float32(0.01 * 15.999)
N_MASS = np.float32(0.01 * 14.007)


def vec(cols, mass, aromatic=0):
    """Atom vector with one-hot columns ``cols`` set, aromatic bit and mass."""
    x = np.zeros(ATOM_FDIM, dtype=np.float32)
    x[list(cols)] = 1
    x[70] = aromatic
    x[71] = mass
    return x


def bvec(cols):
    x = np.zeros(BOND_FDIM, dtype=np.float32)
    x[list(cols)] = 1
    return x


def mol(smiles):
    m = Chem.MolFromSmiles(smiles)
    assert m is not None, smiles
    return m


# Column map (see featurize.py): Z = col Z-1 (I: 36, other: 37); degree 38+d;
# charge 45 + index in [-1,-2,1,2,0]; chiral tag 51+t; total H 56+h;
# hybridization 62 + index in [S,SP,SP2,SP2D,SP3,SP3D,SP3D2] (else 69); aromatic 70; mass 71.
HAND_ATOMS = {
    "CCO": [
        vec([5, 42, 49, 51, 59, 66], C_MASS),  # CH3: degree 4, 3 H, sp3
        vec([5, 42, 49, 51, 58, 66], C_MASS),  # CH2: degree 4, 2 H
        vec([7, 40, 49, 51, 57, 66], O_MASS),  # OH: degree 2, 1 H, sp3
    ],
    "c1ccccc1": [vec([5, 41, 49, 51, 57, 64], C_MASS, aromatic=1)] * 6,  # degree 3, 1 H, sp2, aromatic
    "CC(=O)[O-]": [
        vec([5, 42, 49, 51, 59, 66], C_MASS),
        vec([5, 41, 49, 51, 56, 64], C_MASS),  # carboxyl C: sp2, no H
        vec([7, 39, 49, 51, 56, 64], O_MASS),  # =O
        vec([7, 39, 45, 51, 56, 64], O_MASS),  # O-: charge -1 -> col 45
    ],
    "N[C@@H](C)C(=O)O": [
        vec([6, 41, 49, 51, 58, 66], N_MASS),
        vec([5, 42, 49, 52, 57, 66], C_MASS),  # @@ = CHI_TETRAHEDRAL_CW (1) -> col 52
        vec([5, 42, 49, 51, 59, 66], C_MASS),
        vec([5, 41, 49, 51, 56, 64], C_MASS),
        vec([7, 39, 49, 51, 56, 64], O_MASS),
        vec([7, 40, 49, 51, 57, 64], O_MASS),
    ],
    "[Na+]": [vec([10, 38, 47, 51, 56, 62], np.float32(0.01 * 22.99))],  # degree 0, +1 -> 47, hybridization S
    "C[Sn](C)(C)C": [vec([5, 42, 49, 51, 59, 66], C_MASS), vec([37, 42, 49, 51, 56, 66], np.float32(0.01 * 118.711))]
    + [vec([5, 42, 49, 51, 59, 66], C_MASS)] * 3,  # Sn (Z=50): unknown element slot 37
    "CI": [vec([5, 42, 49, 51, 59, 66], C_MASS), vec([36, 39, 49, 51, 56, 66], np.float32(0.01 * 126.904))],
    "[Fe+3]": [vec([25, 38, 50, 51, 56, 64], np.float32(0.01 * 55.845))],  # +3: unknown charge slot 50
    "FS(F)(F)(F)(F)F": [vec([8, 39, 49, 51, 56, 66], np.float32(0.01 * 18.998))]
    + [vec([15, 44, 49, 51, 56, 68], np.float32(0.01 * 32.067))]  # degree 6 -> unknown 44; sp3d2 -> 68
    + [vec([8, 39, 49, 51, 56, 66], np.float32(0.01 * 18.998))] * 5,
    "[13CH4]": [vec([5, 42, 49, 51, 60, 66], np.float32(0.01 * 13.00335483507))],  # isotope mass
}

HAND_BONDS = {
    "CCO": [bvec([1, 7]), bvec([1, 7])],  # single, not conjugated, not in ring, stereo NONE
    "c1ccccc1": [bvec([4, 5, 6, 7])] * 6,  # aromatic, conjugated, ring
    "CC(=O)[O-]": [bvec([1, 7]), bvec([2, 5, 7]), bvec([1, 5, 7])],
    "C/C=C/C": [bvec([1, 7]), bvec([2, 10]), bvec([1, 7])],  # STEREOE (3) -> col 10
    "C/C=C\\C": [bvec([1, 7]), bvec([2, 9]), bvec([1, 7])],  # STEREOZ (2) -> col 9
}


def test_dimensions_and_version():
    assert ATOM_FDIM == 72 and BOND_FDIM == 14
    assert FEATURIZER_VERSION == "v2-72-14.1"
    assert atom_features(None).shape == (72,) and not atom_features(None).any()
    null = bond_features(None)
    assert null.shape == (14,) and null[0] == 1 and null.sum() == 1


@pytest.mark.parametrize("smiles", sorted(HAND_ATOMS))
def test_hand_written_atom_features(smiles):
    m = mol(smiles)
    expected = np.stack(HAND_ATOMS[smiles])
    ref = np.stack([atom_features(a) for a in m.GetAtoms()])
    np.testing.assert_allclose(ref, expected, rtol=0, atol=2e-7)
    g = featurize([m])
    np.testing.assert_allclose(g.x.numpy(), expected, rtol=0, atol=2e-7)
    # one-hot blocks are exact
    np.testing.assert_array_equal(g.x.numpy()[:, :71], expected[:, :71])


@pytest.mark.parametrize("smiles", sorted(HAND_BONDS))
def test_hand_written_bond_features(smiles):
    m = mol(smiles)
    expected = np.stack(HAND_BONDS[smiles])
    np.testing.assert_array_equal(np.stack([bond_features(b) for b in m.GetBonds()]), expected)
    g = featurize([m])
    np.testing.assert_array_equal(g.edge_attr.numpy(), np.repeat(expected, 2, axis=0))


def test_vectorized_equals_reference(esol_table, special_smiles):
    mols = list(esol_table.mols[:300]) + [mol(s) for s in special_smiles]
    g = featurize(mols)
    ref_x = np.stack([atom_features(a) for m in mols for a in m.GetAtoms()])
    ref_e = np.stack([bond_features(b) for m in mols for b in m.GetBonds()])
    np.testing.assert_array_equal(g.x.numpy(), ref_x)
    np.testing.assert_array_equal(g.edge_attr.numpy(), np.repeat(ref_e, 2, axis=0))
    assert g.x.dtype == torch.float32 and g.edge_attr.dtype == torch.float32
    assert g.edge_index.dtype == torch.long and g.atom_ptr.dtype == torch.long


def test_edge_order_and_reverse_edges():
    m = mol("CC(=O)Nc1ccccc1")
    g = featurize([m])
    ei = g.edge_index.numpy()
    for k, b in enumerate(m.GetBonds()):
        assert tuple(ei[:, 2 * k]) == (b.GetBeginAtomIdx(), b.GetEndAtomIdx())
        assert tuple(ei[:, 2 * k + 1]) == (b.GetEndAtomIdx(), b.GetBeginAtomIdx())
    rev = g[0].rev_edge_index.numpy()
    np.testing.assert_array_equal(rev, np.arange(ei.shape[1]) ^ 1)
    np.testing.assert_array_equal(ei[:, rev], ei[::-1])


def test_zero_bond_molecules():
    mols = [mol("C"), mol("[Na+]"), mol("CCO"), mol("[Cl-]"), mol("[Na+].[Cl-]")]
    g = featurize(mols)
    assert len(g) == 5
    assert g.num_atoms.tolist() == [1, 1, 3, 1, 2]
    assert g.num_edges.tolist() == [0, 0, 4, 0, 0]
    d = g[1]
    assert d.x.shape == (1, 72) and d.edge_index.shape == (2, 0) and d.edge_attr.shape == (0, 14)
    b = g.collate(np.array([0, 1, 3]))
    assert b.x.shape == (3, 72) and b.edge_index.shape == (2, 0) and b.batch.tolist() == [0, 1, 2]


def test_invalid_molecules_are_rejected():
    with pytest.raises(ValueError, match="None"):
        featurize([mol("C"), None])
    with pytest.raises(ValueError, match="no atoms"):
        featurize([Chem.MolFromSmiles("")])
    with pytest.raises(ValueError, match="molecule 1: RDKit cannot compute"):
        featurize([mol("C"), Chem.MolFromSmiles("c1ccccc1O", sanitize=False)])


def test_package_featurize_is_callable_even_when_module_imported():
    import importlib

    import discovery.chem

    importlib.import_module("discovery.chem.featurize")
    g = featurize_fn([mol("CCO")])
    assert isinstance(g, PackedGraphs) and len(g) == 1
    assert isinstance(discovery.chem.featurize([mol("C")]), PackedGraphs)


# --------------------------------------------------------------------------- chemprop
def _chemprop_graphs(mols):
    cp = pytest.importorskip("chemprop")
    from chemprop.featurizers import SimpleMoleculeMolGraphFeaturizer

    f = SimpleMoleculeMolGraphFeaturizer()  # defaults: MultiHotAtomFeaturizer.v2(), MultiHotBondFeaturizer()
    assert f.shape == (72, 14), cp.__version__
    return [f(m) for m in mols]


def test_equal_to_chemprop_v2(esol_table, special_smiles):
    pytest.importorskip("chemprop")
    mols = list(esol_table.mols) + [mol(s) for s in special_smiles]
    ref = _chemprop_graphs(mols)
    g = featurize(mols)
    assert len(g) == len(ref)
    np.testing.assert_array_equal(g.x.numpy(), np.concatenate([r.V for r in ref]).astype(np.float32))
    np.testing.assert_array_equal(g.edge_attr.numpy(), np.concatenate([r.E for r in ref]).astype(np.float32))
    for i, r in enumerate(ref):
        e0, e1 = int(g.edge_ptr[i]), int(g.edge_ptr[i + 1])
        a0, a1 = int(g.atom_ptr[i]), int(g.atom_ptr[i + 1])
        assert a1 - a0 == len(r.V)
        np.testing.assert_array_equal(g.edge_index[:, e0:e1].numpy(), r.edge_index)
        np.testing.assert_array_equal(g[i].rev_edge_index.numpy(), r.rev_edge_index)


def test_batch_equal_to_chemprop_collate(esol_table):
    pytest.importorskip("chemprop")
    from chemprop.data.collate import BatchMolGraph

    mols = list(esol_table.mols[:50]) + [mol("C"), mol("[Na+]")]
    idx = np.array([51, 3, 50, 7, 7, 20])
    ref = BatchMolGraph([_chemprop_graphs(mols)[i] for i in idx])
    b = featurize(mols).collate(idx)
    np.testing.assert_array_equal(b.x.numpy(), ref.V.numpy())
    np.testing.assert_array_equal(b.edge_attr.numpy(), ref.E.numpy())
    np.testing.assert_array_equal(b.edge_index.numpy(), ref.edge_index.numpy())
    np.testing.assert_array_equal(b.rev_edge_index.numpy(), ref.rev_edge_index.numpy())
    np.testing.assert_array_equal(b.batch.numpy(), ref.batch.numpy())


# --------------------------------------------------------------------------- cache
def test_cache_miss_hit_and_corruption(tmp_path, monkeypatch):
    import discovery.chem.featurize as fz

    smiles = ["CCO", "c1ccccc1", "[Na+]", "CC(=O)[O-]"]
    g1 = featurize_cached(smiles, cache_dir=tmp_path)
    files = list(tmp_path.glob("*.pt"))
    assert [f.name for f in files] == [f"{features_cache_key(smiles)}.pt"]
    assert not list(tmp_path.glob("*.partial-*"))

    calls = []
    real = fz.featurize
    monkeypatch.setattr(fz, "featurize", lambda mols: calls.append(1) or real(mols))
    g2 = featurize_cached(smiles, cache_dir=tmp_path)  # hit: no featurization
    assert calls == [] and g2 == g1 and g2.featurizer_version == FEATURIZER_VERSION

    files[0].write_bytes(b"this is not a torch file")  # corrupt: rebuilt and rewritten
    g3 = featurize_cached(smiles, cache_dir=tmp_path)
    assert calls == [1] and g3 == g1
    assert PackedGraphs.load(files[0]) == g1

    files[0].write_bytes(files[0].read_bytes()[:100])  # truncated
    assert featurize_cached(smiles, cache_dir=tmp_path) == g1 and calls == [1, 1]


def test_cache_key_depends_on_order_version_and_content(monkeypatch):
    import discovery.chem.featurize as fz

    k = features_cache_key(["CCO", "C"])
    assert k != features_cache_key(["C", "CCO"])
    assert k != features_cache_key(["CCO", "C", "C"])
    assert k != features_cache_key(["CCOC"])
    monkeypatch.setattr(fz, "FEATURIZER_VERSION", "v2-72-14.2")
    assert fz.features_cache_key(["CCO", "C"]) != k


def test_cache_default_dir_and_mols_argument(discovery_cache):
    smiles = ["CCN", "O=C=O"]
    mols = [mol(s) for s in smiles]
    g = featurize_cached(smiles, mols)
    assert (discovery_cache / "features" / f"{features_cache_key(smiles)}.pt").exists()
    assert g == featurize(mols)
    with pytest.raises(ValueError, match="2 SMILES but 1"):
        featurize_cached(smiles, mols[:1])
    with pytest.raises(ValueError, match="cannot be parsed"):
        featurize_cached(["CC(", "C"], cache_dir=discovery_cache / "x")
