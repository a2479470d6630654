"""Target discovery and drug repurposing on a biomedical knowledge graph, plus proteins.

Submodules (imported on use; torch and PyG load only when a model needs them):

- :mod:`~discovery.targets.kg`: read Hetionet SIF, Neo4j TSVs, triple tables -> :class:`KnowledgeGraph` / HeteroData
- :mod:`~discovery.targets.splits`: random and disease-held-out link splits without reverse-edge leakage
- :mod:`~discovery.targets.evaluate`: filtered MRR / Hits@k, AUROC / AUPRC
- :mod:`~discovery.targets.models`: degree prior, DistMult, R-GCN / HGT (:mod:`.gnn`), path counts (:mod:`.pathcount`)
- :mod:`~discovery.targets.rank` / :mod:`.evidence`: ranked answers with paths and per-source evidence
- :mod:`~discovery.targets.proteins` / :mod:`.dta`: Biopython sequence descriptors, DAVIS affinity model
- :mod:`~discovery.targets.run`: result folders (``targets.evaluate``, ``targets.rank``, ``targets.dta``)
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "KnowledgeGraph": "kg", "load_kg": "kg", "read_hetionet_sif": "kg", "read_neo4j_tsv": "kg",
    "read_triples": "kg", "read_nodes": "kg",
    "make_link_split": "splits", "LinkSplit": "splits",
    "Task": "evaluate", "task_for": "evaluate", "evaluate_task": "evaluate",
    "get_model": "models", "MODELS": "models",
    "rank_candidates": "rank", "RankResult": "rank", "harmonic_sum": "evidence",
    "evaluate_models": "run", "rank_to_folder": "run",
    "read_sequences": "proteins", "protein_descriptors": "proteins", "load_davis": "proteins",
    "run_dta": "dta",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(name)
