"""Exactness of the Tanimoto search against RDKit's BulkTanimotoSimilarity."""

from __future__ import annotations

import numpy as np
import pytest
from rdkit import Chem, DataStructs

from discovery.errors import InputError
from discovery.screening import FingerprintIndex, FingerprintSpec, threshold_search, topk_search
from discovery.screening.fingerprints import fingerprint_mols, pack_bits, popcount, tanimoto_exact, unpack_bits

KERNELS = ["jax", "numpy"]


def _rdkit_fps(smiles, spec):
    gen = spec.generator()
    return [gen.GetFingerprint(Chem.MolFromSmiles(s)) for s in smiles]


def _rdkit_topk(qfp, lib_fps, k):
    sims = np.array(DataStructs.BulkTanimotoSimilarity(qfp, lib_fps))
    order = np.lexsort((np.arange(len(sims)), -sims))[:k]
    return order, sims[order], sims


def test_packing_round_trip_matches_rdkit_bits(esol_smiles):
    spec = FingerprintSpec(nbits=1024)
    mols = [Chem.MolFromSmiles(s) for s in esol_smiles[:50]]
    packed = fingerprint_mols(mols, spec)
    assert packed.dtype == np.uint64 and packed.shape == (50, 16)
    for m, row in zip(mols, unpack_bits(packed)):
        assert list(np.flatnonzero(row)) == list(spec.rdkit_bitvect(m).GetOnBits())
    assert np.array_equal(popcount(packed), [spec.rdkit_bitvect(m).GetNumOnBits() for m in mols])


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("nbits,radius", [(1024, 2), (2048, 3)])
def test_topk_identical_to_rdkit(esol_smiles, kernel, nbits, radius):
    rng = np.random.default_rng(nbits + radius)
    lib_smiles = [esol_smiles[i] for i in rng.permutation(len(esol_smiles))[:700]]
    spec = FingerprintSpec(radius=radius, nbits=nbits)
    lib = FingerprintIndex.from_smiles(lib_smiles, spec)
    queries = [esol_smiles[i] for i in rng.choice(len(esol_smiles), 40, replace=False)]
    # small blocks and batches: many blocks, BitBound pruning and batch merging are exercised
    res = topk_search(queries, lib, k=10, kernel=kernel, block_rows=128, query_batch=16)
    lib_fps = _rdkit_fps(lib_smiles, spec)
    for i, q in enumerate(_rdkit_fps(queries, spec)):
        order, sims, _ = _rdkit_topk(q, lib_fps, 10)
        assert res.indices[i].tolist() == order.tolist()
        assert res.scores[i].tolist() == sims.tolist()  # bit-identical doubles
    assert res.stats.pairs_computed <= res.stats.pairs_total


@pytest.mark.parametrize("kernel", KERNELS)
def test_threshold_identical_to_rdkit(esol_smiles, kernel):
    spec = FingerprintSpec(nbits=2048)
    lib_smiles = esol_smiles[:600]
    lib = FingerprintIndex.from_smiles(lib_smiles, spec)
    queries = esol_smiles[590:640]
    hits = threshold_search(queries, lib, 0.45, kernel=kernel, block_rows=128, query_batch=8)
    lib_fps = _rdkit_fps(lib_smiles, spec)
    expect_q, expect_t, expect_s = [], [], []
    for i, q in enumerate(_rdkit_fps(queries, spec)):
        sims = np.array(DataStructs.BulkTanimotoSimilarity(q, lib_fps))
        idx = np.flatnonzero(sims >= 0.45)
        idx = idx[np.lexsort((idx, -sims[idx]))]
        expect_q += [i] * len(idx)
        expect_t += idx.tolist()
        expect_s += sims[idx].tolist()
    assert hits.query.tolist() == expect_q
    assert hits.target.tolist() == expect_t
    assert hits.scores.tolist() == expect_s
    assert hits.stats.pairs_computed < hits.stats.pairs_total  # BitBound skipped something


def test_bitbound_prunes_without_changing_results(esol_smiles):
    lib = FingerprintIndex.from_smiles(esol_smiles, FingerprintSpec(nbits=1024))
    q = esol_smiles[::50]
    a = topk_search(q, lib, k=5, block_rows=64, query_batch=4)
    b = topk_search(q, lib, k=5, block_rows=64, query_batch=4, bitbound=False)
    assert np.array_equal(a.indices, b.indices) and np.array_equal(a.scores, b.scores)
    assert a.stats.pairs_computed < b.stats.pairs_computed
    t1 = threshold_search(q, lib, 0.7, block_rows=64)
    t2 = threshold_search(q, lib, 0.7, block_rows=64, bitbound=False)
    assert np.array_equal(t1.target, t2.target) and t1.stats.pruned_fraction > 0.3


@pytest.mark.parametrize("kernel", KERNELS)
def test_ties_broken_by_index_with_duplicates(kernel):
    # duplicate SMILES and equal scores: lower input position first
    lib_smiles = ["CCO", "c1ccccc1", "CCO", "CCN", "CCO", "c1ccccc1", "CCCC"]
    lib = FingerprintIndex.from_smiles(lib_smiles, FingerprintSpec(nbits=1024))
    res = topk_search(["CCO", "c1ccccc1"], lib, k=4, kernel=kernel)
    assert res.indices[0, :3].tolist() == [0, 2, 4]
    assert res.scores[0, :3].tolist() == [1.0, 1.0, 1.0]
    assert res.indices[1, :2].tolist() == [1, 5]
    spec = FingerprintSpec(nbits=1024)
    fps = _rdkit_fps(lib_smiles, spec)
    for i, q in enumerate(_rdkit_fps(["CCO", "c1ccccc1"], spec)):
        order, sims, _ = _rdkit_topk(q, fps, 4)
        assert res.indices[i].tolist() == order.tolist() and res.scores[i].tolist() == sims.tolist()


@pytest.mark.parametrize("kernel", KERNELS)
def test_query_identical_to_member_ranks_first(esol_smiles, kernel):
    lib = FingerprintIndex.from_smiles(esol_smiles[:300], FingerprintSpec(nbits=2048))
    res = topk_search(esol_smiles[100:110], lib, k=3, kernel=kernel, block_rows=64)
    for j in range(10):
        first = res.indices[j, 0]
        assert res.scores[j, 0] == 1.0
        # the member itself, or an earlier molecule with the same fingerprint
        assert first <= 100 + j
        assert tanimoto_exact(lib.fingerprints([100 + j])[0], lib.fingerprints([first]))[0] == 1.0


@pytest.mark.parametrize("kernel", KERNELS)
def test_empty_fingerprints_score_zero_like_rdkit(kernel):
    # two empty bit sets: 0/0 is defined as 0.0 (RDKit's value)
    a = DataStructs.ExplicitBitVect(128)
    assert DataStructs.TanimotoSimilarity(a, DataStructs.ExplicitBitVect(128)) == 0.0
    packed = np.zeros((3, 2), dtype=np.uint64)
    packed[1, 0] = 0b1011
    lib = FingerprintIndex.from_packed(packed)
    res = topk_search(np.zeros((1, 2), dtype=np.uint64), lib, k=3, kernel=kernel)
    assert res.scores[0].tolist() == [0.0, 0.0, 0.0]
    assert res.indices[0].tolist() == [0, 1, 2]
    assert len(threshold_search(np.zeros((1, 2), dtype=np.uint64), lib, 0.01, kernel=kernel)) == 0
    assert tanimoto_exact(packed[0], packed).tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("kernel", KERNELS)
def test_k_larger_than_library(kernel):
    lib = FingerprintIndex.from_smiles(["CCO", "CCN", "c1ccccc1"], FingerprintSpec(nbits=1024))
    res = topk_search(["CCO"], lib, k=5, kernel=kernel)
    assert res.indices.shape == (1, 5)
    assert res.indices[0, :3].tolist() == [0, 1, 2] or set(res.indices[0, :3]) == {0, 1, 2}
    assert res.indices[0, 3:].tolist() == [-1, -1]
    assert np.isnan(res.scores[0, 3:]).all() and not np.isnan(res.scores[0, :3]).any()
    assert len(res.to_frame()) == 3


def test_4096_bit_fingerprints_exact(esol_smiles):
    spec = FingerprintSpec(nbits=4096, radius=1)
    lib_smiles = esol_smiles[:400]
    lib = FingerprintIndex.from_smiles(lib_smiles, spec)
    res = topk_search(esol_smiles[:20], lib, k=8, block_rows=128)
    fps = _rdkit_fps(lib_smiles, spec)
    for i, q in enumerate(_rdkit_fps(esol_smiles[:20], spec)):
        order, sims, _ = _rdkit_topk(q, fps, 8)
        assert res.indices[i].tolist() == order.tolist()


def test_bad_arguments():
    lib = FingerprintIndex.from_smiles(["CCO"], FingerprintSpec(nbits=1024))
    with pytest.raises(InputError):
        topk_search(["CCO"], lib, k=0)
    with pytest.raises(InputError):
        threshold_search(["CCO"], lib, 0.0)
    with pytest.raises(InputError, match="invalid SMILES"):
        topk_search(["not a smiles"], lib, k=1)
    with pytest.raises(InputError, match="bits"):
        topk_search(np.zeros((1, 32), dtype=np.uint64), lib, k=1)


def test_pack_bits_layout():
    bits = np.zeros((1, 128), dtype=np.uint8)
    bits[0, [0, 63, 64, 127]] = 1
    packed = pack_bits(bits)
    assert packed[0].tolist() == [1 | (1 << 63), 1 | (1 << 63)]


def test_accelerator_path_block_default_and_sparse_threshold(esol_smiles, monkeypatch):
    """What a GPU backend changes (run here on the CPU by reporting another backend to our code):
    65,536-row default blocks, and the threshold kernel's count-gated copy of candidate masks, which
    skips blocks without candidates and must give exactly the NumPy kernel's hits."""
    import jax

    from discovery.screening.search import ACCELERATOR_BLOCK_ROWS, BLOCK_ROWS, default_block_rows

    assert default_block_rows("jax") == BLOCK_ROWS and default_block_rows("numpy") == BLOCK_ROWS
    spec = FingerprintSpec(nbits=2048)
    lib = FingerprintIndex.from_smiles(esol_smiles[:600], spec)
    queries = esol_smiles[590:640]
    ref = threshold_search(queries, lib, 0.6, kernel="numpy", block_rows=64, query_batch=8)
    monkeypatch.setattr(jax, "default_backend", lambda: "gpu")
    assert default_block_rows("jax") == ACCELERATOR_BLOCK_ROWS
    assert default_block_rows("numpy") == BLOCK_ROWS
    hits = threshold_search(queries, lib, 0.6, kernel="jax", block_rows=64, query_batch=8)
    assert 0 < len(hits.query) < 50 * 600  # some blocks have candidates, most do not
    assert hits.query.tolist() == ref.query.tolist() and hits.target.tolist() == ref.target.tolist()
    assert hits.scores.tolist() == ref.scores.tolist()
    top = topk_search(queries, lib, k=5, kernel="jax")  # the 65,536-row default on a 600-row library
    ref_top = topk_search(queries, lib, k=5, kernel="numpy", block_rows=64)
    assert np.array_equal(top.indices, ref_top.indices) and np.array_equal(top.scores, ref_top.scores)
