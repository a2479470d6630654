"""RDKit layer: read and validate molecules, standardize, featurize, pack graphs, split.

Everything is re-exported lazily (``discovery.chem.featurize`` pulls in RDKit
and torch only when first used)::

    from discovery.chem import read_molecules, featurize_cached, make_split
    table = read_molecules("data.csv", target_cols=["logS"])
    graphs = featurize_cached(table.smiles, table.mols)
    split = make_split(table.smiles, "scaffold", seed=0, mols=table.mols)
    batch = graphs.collate(split.train[:64])
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    # featurize
    "ATOM_FDIM": "featurize",
    "BOND_FDIM": "featurize",
    "FEATURIZER_VERSION": "featurize",
    "atom_features": "featurize",
    "bond_features": "featurize",
    "featurize": "featurize",
    "featurize_cached": "featurize",
    "features_cache_key": "featurize",
    # descriptors
    "DESCRIPTOR_SETS": "descriptors",
    "DESCRIPTORS_VERSION": "descriptors",
    "descriptor_names": "descriptors",
    "mol_descriptors": "descriptors",
    # graphs
    "PackedGraphs": "graphs",
    "GraphBatch": "graphs",
    "MolData": "graphs",
    # io
    "MoleculeTable": "io",
    "read_molecules": "io",
    "iter_molecules": "io",
    "detect_smiles_column": "io",
    "parse_smiles": "io",
    # standardize
    "standardize_mol": "standardize",
    "standardize_smiles": "standardize",
    # splits
    "Split": "splits",
    "make_split": "splits",
    "kfold_splits": "splits",
    "bemis_murcko_scaffold": "splits",
    "scaffold_groups": "splits",
    "save_split_json": "splits",
    "load_split_json": "splits",
    "to_chemprop_splits": "splits",
    "write_chemprop_splits": "splits",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'discovery.chem' has no attribute {name!r}")
    mod = importlib.import_module(f"{__name__}.{module}")
    if name == module:
        # ``featurize`` is a module *and* a function; Python binds the package
        # attribute to the module on import, so hand out the module, which is
        # callable (``featurize(mols)``) and also has ``.featurize``.
        return mod
    value = getattr(mod, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
