"""MaxMin picking, Butina clustering, applicability domain."""

from __future__ import annotations

import numpy as np
import pytest
from rdkit import Chem, DataStructs
from rdkit.ML.Cluster import Butina

from discovery.errors import InputError
from discovery.screening import (FingerprintIndex, FingerprintSpec, applicability_domain, butina_cluster,
                                 max_similarity, maxmin_pick)
from discovery.screening.fingerprints import tanimoto_exact


@pytest.mark.parametrize("cutoff", [0.35, 0.6])
def test_butina_identical_to_rdkit(esol_smiles, cutoff):
    smiles = esol_smiles[200:500]
    spec = FingerprintSpec(nbits=2048)
    gen = spec.generator()
    fps = [gen.GetFingerprint(Chem.MolFromSmiles(s)) for s in smiles]
    dists = []
    for i in range(1, len(fps)):
        dists.extend(1.0 - np.array(DataStructs.BulkTanimotoSimilarity(fps[i], fps[:i])))
    clusters = Butina.ClusterData(dists, len(fps), cutoff, isDistData=True)
    df = butina_cluster(smiles, cutoff, spec=spec)
    expect = np.empty(len(fps), dtype=int)
    for c, members in enumerate(clusters):
        expect[list(members)] = c
        assert df["centroid"].iloc[members[0]]
    assert df["cluster"].tolist() == expect.tolist()
    assert df["centroid"].sum() == len(clusters)


def test_maxmin_deterministic_and_diverse(esol_smiles):
    lib = FingerprintIndex.from_smiles(esol_smiles, FingerprintSpec(nbits=1024))
    a = maxmin_pick(lib, 20, seed=7)
    b = maxmin_pick(lib, 20, seed=7)
    c = maxmin_pick(lib, 20, seed=8)
    assert a.positions.tolist() == b.positions.tolist()
    assert a.positions[0] != c.positions[0]
    assert len(set(a.positions.tolist())) == 20
    # each pick's recorded max similarity is its true max similarity to the earlier picks,
    # and no remaining molecule was further from the picks at that time
    fps = lib.fingerprints()
    for j in range(1, 20):
        sims = np.stack([tanimoto_exact(fps[p], fps) for p in a.positions[:j]]).max(0)
        assert sims[a.positions[j]] == a.max_sim[j]
        rest = np.setdiff1d(np.arange(len(lib)), a.positions[:j])
        assert sims[rest].min() == a.max_sim[j]
        assert a.positions[j] == rest[np.flatnonzero(sims[rest] == a.max_sim[j])[0]]  # ties: lowest index


def test_maxmin_with_chosen(esol_smiles):
    lib = FingerprintIndex.from_smiles(esol_smiles[:200], FingerprintSpec(nbits=1024))
    res = maxmin_pick(lib, 5, chosen=[3, 4])
    assert not set(res.positions.tolist()) & {3, 4}
    assert not np.isnan(res.max_sim[0])  # first pick measured against the chosen ones
    with pytest.raises(InputError):
        maxmin_pick(lib, 201)
    with pytest.raises(InputError):
        maxmin_pick(lib, 2, chosen=[500])


def test_applicability_domain(esol_smiles):
    train = esol_smiles[:300]
    ad = applicability_domain([esol_smiles[10], esol_smiles[400], "not smiles"], train, threshold=0.5)
    assert ad["ad_max_sim"].iloc[0] == 1.0 and ad["ad_in_domain"].iloc[0]
    assert ad["ad_nearest_smiles"].iloc[0] in train
    assert np.isnan(ad["ad_max_sim"].iloc[2]) and ad["ad_nearest"].iloc[2] == -1
    sim, near = max_similarity([esol_smiles[400]], train)
    gen = FingerprintSpec().generator()
    q = gen.GetFingerprint(Chem.MolFromSmiles(esol_smiles[400]))
    ref = DataStructs.BulkTanimotoSimilarity(q, [gen.GetFingerprint(Chem.MolFromSmiles(s)) for s in train])
    assert sim[0] == max(ref) == ad["ad_max_sim"].iloc[1]
    assert near[0] == int(np.argmax(ref))
