"""Molecule-level RDKit descriptors fed to the model beside the learned graph vector.

The D-MPNN paper (Yang et al. 2019, J. Chem. Inf. Model. 59:3370) found that
concatenating computed 2-D descriptors to the learned molecule vector
improves property prediction, most on small physico-chemical data sets;
Chemprop exposes this as ``--features_generators rdkit_2d_normalized`` (v1) and
``--molecule-featurizers`` (v2). :data:`DESCRIPTOR_SETS` names the sets this
project computes; the model standardizes them with the training split's mean
and standard deviation (:class:`discovery.molprop.models.MoleculeModel`).

``physchem`` (64 values, ~1,000 molecules/s on one core) is chosen to be fast
and to cover what medicinal chemists reason with:

* Wildman-Crippen logP and molar refractivity (Wildman & Crippen 1999),
  topological polar surface area (Ertl et al. 2000), Labute's approximate
  surface area, exact molecular weight, H-bond donors/acceptors (Lipinski),
  rotatable bonds, fraction sp3, ring counts (all, aromatic, aliphatic,
  saturated, heterocycles), heteroatoms, heavy atoms, amide bonds, stereo
  centres, net formal charge;
* Kier-Hall connectivity (chi0v..chi4v) and shape (kappa1..3, alpha) indices;
* the MOE-type VSA descriptors (Labute 2000): SlogP_VSA1-12, SMR_VSA1-10 and
  PEOE_VSA1-14, the surface area falling in bins of Crippen logP, molar
  refractivity and Gasteiger partial charge contributions.

A value RDKit cannot compute for a molecule becomes NaN (the model maps it
to the training mean); :func:`mol_descriptors` counts them in its return.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

__all__ = ["DESCRIPTORS_VERSION", "DESCRIPTOR_SETS", "descriptor_names", "mol_descriptors"]

#: bumped when any set's definition changes (saved in model bundles)
DESCRIPTORS_VERSION = "1"


def _blocks() -> list[tuple[int, Callable[[Any], Any]]]:
    """``(width, function)`` per group of columns, in the order of :data:`DESCRIPTOR_SETS` ``["physchem"]``."""
    from rdkit import Chem
    from rdkit.Chem import rdMolDescriptors as rd

    scalars = [
        rd.CalcTPSA, rd.CalcLabuteASA, rd.CalcExactMolWt, rd.CalcNumHBD, rd.CalcNumHBA, rd.CalcNumRotatableBonds,
        rd.CalcFractionCSP3, rd.CalcNumRings, rd.CalcNumAromaticRings, rd.CalcNumAliphaticRings,
        rd.CalcNumSaturatedRings, rd.CalcNumHeterocycles, rd.CalcNumHeteroatoms, lambda m: m.GetNumHeavyAtoms(),
        rd.CalcNumAmideBonds, rd.CalcNumAtomStereoCenters, Chem.GetFormalCharge,
        rd.CalcChi0v, rd.CalcChi1v, rd.CalcChi2v, rd.CalcChi3v, rd.CalcChi4v,
        rd.CalcKappa1, rd.CalcKappa2, rd.CalcKappa3, rd.CalcHallKierAlpha,
    ]
    # Crippen logP and MR come from one call
    return ([(2, rd.CalcCrippenDescriptors)] + [(1, fn) for fn in scalars]
            + [(n, getattr(rd, fn)) for _, n, fn in _VSA])


_VSA = (("slogp_vsa", 12, "SlogP_VSA_"), ("smr_vsa", 10, "SMR_VSA_"), ("peoe_vsa", 14, "PEOE_VSA_"))

_PHYSCHEM_NAMES: tuple[str, ...] = (
    "crippen_logp", "crippen_mr", "tpsa", "labute_asa", "exact_mw", "hbd", "hba", "rotatable_bonds",
    "fraction_csp3", "rings", "aromatic_rings", "aliphatic_rings", "saturated_rings", "heterocycles",
    "heteroatoms", "heavy_atoms", "amide_bonds", "stereo_centers", "formal_charge",
    "chi0v", "chi1v", "chi2v", "chi3v", "chi4v", "kappa1", "kappa2", "kappa3", "hall_kier_alpha",
) + tuple(f"{stem}{k}" for stem, n, _ in _VSA for k in range(1, n + 1))

#: set name -> descriptor names, in column order
DESCRIPTOR_SETS: dict[str, tuple[str, ...]] = {"physchem": _PHYSCHEM_NAMES}


def descriptor_names(kind: str) -> tuple[str, ...]:
    """Column names of descriptor set ``kind``; ``ValueError`` for an unknown set."""
    try:
        return DESCRIPTOR_SETS[kind]
    except KeyError:
        raise ValueError(f"unknown descriptor set {kind!r}; choose one of {sorted(DESCRIPTOR_SETS)}") from None


def mol_descriptors(mols: Sequence[Any], kind: str = "physchem") -> tuple[np.ndarray, int]:
    """Descriptor matrix of ``mols``.

    Parameters
    ----------
    mols : sequence of rdkit.Chem.Mol
        Valid (sanitized) molecules.
    kind : str, default "physchem"
        A key of :data:`DESCRIPTOR_SETS`.

    Returns
    -------
    values : np.ndarray
        ``[len(mols), len(descriptor_names(kind))]`` float32; NaN where RDKit
        failed for that molecule and descriptor.
    n_failed : int
        Number of NaN values.
    """
    from rdkit import rdBase

    names = descriptor_names(kind)
    blocks = _blocks()
    out = np.full((len(mols), len(names)), np.nan, dtype=np.float64)
    blocker = rdBase.BlockLogs()
    try:
        for i, m in enumerate(mols):
            row, col = out[i], 0
            for w, fn in blocks:
                try:
                    row[col:col + w] = fn(m)
                except (RuntimeError, ValueError, ArithmeticError):
                    pass
                col += w
    finally:
        del blocker
    out[~np.isfinite(out)] = np.nan
    return out.astype(np.float32), int(np.isnan(out).sum())
