"""The similarity benchmark's FPSim2 database writer gives FPSim2 exactly our fingerprints."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
from rdkit import Chem

from discovery.screening import FingerprintIndex, FingerprintSpec, threshold_search, topk_search

REPO = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.skipif(importlib.util.find_spec("FPSim2") is None,
                                reason="FPSim2 (extra 'bench') is not installed")


def test_fpsim2_db_from_packed_fingerprints_matches_our_search(tmp_path, esol_smiles):
    sys.path.insert(0, str(REPO / "benchmarks"))
    import similarity as bench
    from FPSim2 import FPSim2Engine

    spec = FingerprintSpec()
    lib = FingerprintIndex.from_smiles(esol_smiles[:400], spec)
    db = tmp_path / "lib.h5"
    bench.write_fpsim2_db(lib, db)
    eng = FPSim2Engine(str(db))
    queries = esol_smiles[400:410]
    ours_thr = threshold_search(queries, lib, 0.4)
    ours_top = topk_search(queries, lib, k=5)
    for i, s in enumerate(queries):
        efp = spec.rdkit_bitvect(Chem.MolFromSmiles(s))
        r = eng.similarity(efp, threshold=0.4, n_workers=1)
        mine = ours_thr.query == i
        assert sorted(r["mol_id"].tolist()) == sorted(ours_thr.target[mine].tolist())
        assert np.allclose(np.sort(r["coeff"]), np.sort(ours_thr.scores[mine]))
        top = eng.top_k(efp, k=5, threshold=0.0, n_workers=1)
        assert np.allclose(np.sort(top["coeff"])[::-1], ours_top.scores[i])
