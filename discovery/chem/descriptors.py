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

``physchem-fragments`` (149 values, ~800 molecules/s) adds RDKit's 85 functional-group
counts (``rdkit.Chem.Fragments``, the ``fr_*`` descriptors: carboxylic acids,
primary/secondary/tertiary amines, amidines, guanidines, tetrazoles,
sulfonamides, phenols, quaternary nitrogens, ...) to ``physchem``. The
ionizable groups among them decide how much of a molecule is charged at
physiological pH, which ``physchem``'s neutral-molecule logP does not see and
which governs distribution coefficients (logD7.4) and passive blood-brain
barrier permeation (Pajouhesh & Lenz 2005, NeuroRx 2:541).

A value RDKit cannot compute for a molecule becomes NaN (the model maps it
to the training mean); :func:`mol_descriptors` counts them in its return.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

__all__ = ["DESCRIPTORS_VERSION", "DESCRIPTOR_SETS", "descriptor_names", "mol_descriptors"]

#: bumped when any set's definition changes (saved in model bundles)
DESCRIPTORS_VERSION = "1"


def _blocks(kind: str = "physchem") -> list[tuple[int, Callable[[Any], Any]]]:
    """``(width, function)`` per group of columns, in the order of :data:`DESCRIPTOR_SETS` ``[kind]``."""
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
    blocks = ([(2, rd.CalcCrippenDescriptors)] + [(1, fn) for fn in scalars]
              + [(n, getattr(rd, fn)) for _, n, fn in _VSA])
    if kind == "physchem-fragments":
        from rdkit.Chem import Fragments

        counts = [getattr(Fragments, name) for name in _FRAGMENT_NAMES]
        blocks.append((len(counts), lambda m: [fn(m) for fn in counts]))
    return blocks


_VSA = (("slogp_vsa", 12, "SlogP_VSA_"), ("smr_vsa", 10, "SMR_VSA_"), ("peoe_vsa", 14, "PEOE_VSA_"))

_PHYSCHEM_NAMES: tuple[str, ...] = (
    "crippen_logp", "crippen_mr", "tpsa", "labute_asa", "exact_mw", "hbd", "hba", "rotatable_bonds",
    "fraction_csp3", "rings", "aromatic_rings", "aliphatic_rings", "saturated_rings", "heterocycles",
    "heteroatoms", "heavy_atoms", "amide_bonds", "stereo_centers", "formal_charge",
    "chi0v", "chi1v", "chi2v", "chi3v", "chi4v", "kappa1", "kappa2", "kappa3", "hall_kier_alpha",
) + tuple(f"{stem}{k}" for stem, n, _ in _VSA for k in range(1, n + 1))

# RDKit's functional-group counts (rdkit.Chem.Fragments, from its FragmentDescriptors.csv), in the order of
# rdkit.Chem.Descriptors.descList; listed here so a new RDKit cannot reorder or extend the set silently
_FRAGMENT_NAMES: tuple[str, ...] = (
    "fr_Al_COO", "fr_Al_OH", "fr_Al_OH_noTert", "fr_ArN", "fr_Ar_COO", "fr_Ar_N", "fr_Ar_NH", "fr_Ar_OH",
    "fr_COO", "fr_COO2", "fr_C_O", "fr_C_O_noCOO", "fr_C_S", "fr_HOCCN", "fr_Imine", "fr_NH0", "fr_NH1",
    "fr_NH2", "fr_N_O", "fr_Ndealkylation1", "fr_Ndealkylation2", "fr_Nhpyrrole", "fr_SH", "fr_aldehyde",
    "fr_alkyl_carbamate", "fr_alkyl_halide", "fr_allylic_oxid", "fr_amide", "fr_amidine", "fr_aniline",
    "fr_aryl_methyl", "fr_azide", "fr_azo", "fr_barbitur", "fr_benzene", "fr_benzodiazepine", "fr_bicyclic",
    "fr_diazo", "fr_dihydropyridine", "fr_epoxide", "fr_ester", "fr_ether", "fr_furan", "fr_guanido",
    "fr_halogen", "fr_hdrzine", "fr_hdrzone", "fr_imidazole", "fr_imide", "fr_isocyan", "fr_isothiocyan",
    "fr_ketone", "fr_ketone_Topliss", "fr_lactam", "fr_lactone", "fr_methoxy", "fr_morpholine", "fr_nitrile",
    "fr_nitro", "fr_nitro_arom", "fr_nitro_arom_nonortho", "fr_nitroso", "fr_oxazole", "fr_oxime",
    "fr_para_hydroxylation", "fr_phenol", "fr_phenol_noOrthoHbond", "fr_phos_acid", "fr_phos_ester",
    "fr_piperdine", "fr_piperzine", "fr_priamide", "fr_prisulfonamd", "fr_pyridine", "fr_quatN", "fr_sulfide",
    "fr_sulfonamd", "fr_sulfone", "fr_term_acetylene", "fr_tetrazole", "fr_thiazole", "fr_thiocyan",
    "fr_thiophene", "fr_unbrch_alkane", "fr_urea",
)

#: set name -> descriptor names, in column order
DESCRIPTOR_SETS: dict[str, tuple[str, ...]] = {
    "physchem": _PHYSCHEM_NAMES,
    "physchem-fragments": _PHYSCHEM_NAMES + _FRAGMENT_NAMES,
}


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
        A key of :data:`DESCRIPTOR_SETS` (``"physchem"``, ``"physchem-fragments"``).

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
    blocks = _blocks(kind)
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
