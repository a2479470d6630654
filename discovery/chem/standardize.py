"""Molecule standardization with RDKit's MolStandardize.

:func:`standardize_mol` runs, in order:

1. ``rdMolStandardize.Cleanup`` (RDKit defaults: remove explicit hydrogens,
   disconnect metal atoms bonded to N/O/F etc., apply the standard
   normalization transforms such as nitro and N-oxide forms, reionize so the
   most acidic groups carry the charges);
2. ``rdMolStandardize.LargestFragmentChooser`` (keep the fragment with the
   most atoms, counting hydrogens; strips salts and solvents), if
   ``largest_fragment``;
3. ``rdMolStandardize.Uncharger`` (neutralize by adding/removing protons
   where possible; charges needed for a zwitterion or a quaternary nitrogen
   stay), if ``neutralize``.
"""

from __future__ import annotations

from rdkit import Chem, rdBase
from rdkit.Chem.MolStandardize import rdMolStandardize

__all__ = ["standardize_mol", "standardize_smiles"]


def standardize_mol(mol: Chem.Mol, largest_fragment: bool = True, neutralize: bool = True) -> Chem.Mol:
    """Return a standardized copy of ``mol`` (the input is not modified).

    Parameters
    ----------
    mol : rdkit.Chem.Mol
        A sanitized molecule.
    largest_fragment : bool, default True
        Keep only the largest fragment (salt and solvent stripping).
    neutralize : bool, default True
        Neutralize charges where a neutral form exists.

    Returns
    -------
    rdkit.Chem.Mol
        The standardized molecule (sanitized).

    Raises
    ------
    ValueError
        If ``mol`` is None or has no atoms, or RDKit fails on it (the message
        is RDKit's).
    """
    if mol is None:
        raise ValueError("cannot standardize None (an unparsed SMILES?)")
    if mol.GetNumAtoms() == 0:
        raise ValueError("cannot standardize an empty molecule")
    with rdBase.BlockLogs():
        try:
            out = rdMolStandardize.Cleanup(mol)
            if largest_fragment:
                out = rdMolStandardize.LargestFragmentChooser().choose(out)
            if neutralize:
                out = rdMolStandardize.Uncharger().uncharge(out)
            Chem.SanitizeMol(out)
        except Exception as exc:  # RDKit raises several exception types
            raise ValueError(f"standardization failed: {exc}") from exc
    return out


def standardize_smiles(smiles: str, largest_fragment: bool = True, neutralize: bool = True) -> str:
    """Canonical SMILES of the standardized molecule; ``ValueError`` if it does not parse."""
    with rdBase.BlockLogs():
        mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        raise ValueError(f"invalid SMILES {smiles!r}")
    return Chem.MolToSmiles(standardize_mol(mol, largest_fragment=largest_fragment, neutralize=neutralize))
