"""Similarity screening, diversity and active learning (JAX, with NumPy fallbacks).

Fingerprint index (:mod:`.index`), exact Tanimoto search (:mod:`.search`),
MaxMin picking, Butina clustering and the applicability-domain score
(:mod:`.diversity`), Gaussian-process regression with the Tanimoto kernel and
acquisition functions (:mod:`.gp`, :mod:`.acquisition`).

Names are imported lazily, so ``import discovery.screening`` is cheap.

Applicability domain for property predictions (max Tanimoto to the training set)::

    from discovery.screening import FingerprintIndex, applicability_domain
    train = FingerprintIndex.from_smiles(train_smiles)          # once
    ad = applicability_domain(chunk_smiles, train, threshold=0.35)
    # -> DataFrame: ad_max_sim, ad_nearest, ad_nearest_smiles, ad_in_domain (NaN / -1 for invalid SMILES)
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "FingerprintSpec": "fingerprints",
    "fingerprint_smiles": "fingerprints",
    "fingerprint_mols": "fingerprints",
    "popcount": "fingerprints",
    "tanimoto_exact": "fingerprints",
    "EMPTY_TANIMOTO": "fingerprints",
    "FingerprintIndex": "index",
    "build_index": "index",
    "open_index": "index",
    "load_library": "index",
    "simulate_active_learning": "active",
    "topk_search": "search",
    "threshold_search": "search",
    "TopK": "search",
    "Hits": "search",
    "maxmin_pick": "diversity",
    "butina_cluster": "diversity",
    "max_similarity": "diversity",
    "applicability_domain": "diversity",
    "TanimotoGP": "gp",
    "fit_gp": "gp",
    "minmax_kernel": "gp",
    "ACQUISITIONS": "acquisition",
    "select_batch": "acquisition",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    mod = _EXPORTS.get(name)
    if mod is None:
        raise AttributeError(f"module 'discovery.screening' has no attribute {name!r}")
    return getattr(importlib.import_module(f"discovery.screening.{mod}"), name)
