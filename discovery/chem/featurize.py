"""Molecular graph featurization, identical to Chemprop v2's default ("v2") features.

Atom features (``ATOM_FDIM = 72``), in this order, each one-hot block with a
trailing "unknown" slot:

========  =====  ========================================================
columns   size   feature (RDKit accessor)
========  =====  ========================================================
0-37      38     atomic number 1..36 and 53 (I); anything else -> 37
38-44     7      total degree ``GetTotalDegree()`` 0..5; else -> 44
45-50     6      formal charge in the order [-1, -2, 1, 2, 0]; else -> 50
51-55     5      chiral tag 0..3 (``CHI_UNSPECIFIED`` .. ``CHI_OTHER``); else -> 55
56-61     6      total H count ``GetTotalNumHs()`` 0..4; else -> 61
62-69     8      hybridization in the order [S, SP, SP2, SP2D, SP3, SP3D, SP3D2];
                 else (UNSPECIFIED, OTHER) -> 69
70        1      aromatic flag
71        1      ``0.01 * GetMass()`` (computed in float64, stored as float32)
========  =====  ========================================================

Bond features (``BOND_FDIM = 14``), per *directed* edge (both directions of a
bond carry the same vector):

========  =====  ========================================================
0         1      null bond (1 only for :func:`bond_features(None) <bond_features>`)
1-4       4      bond type SINGLE, DOUBLE, TRIPLE, AROMATIC (other types: no bit;
                 this reproduces Chemprop, whose unknown-type bit lands on
                 column 5 and is then overwritten by the conjugation flag)
5         1      conjugated
6         1      in ring
7-13      7      bond stereo 0..5 (NONE, ANY, Z, E, CIS, TRANS); else -> 13
========  =====  ========================================================

This is exactly ``chemprop.featurizers.MultiHotAtomFeaturizer.v2()`` and
``MultiHotBondFeaturizer()`` as used by ``SimpleMoleculeMolGraphFeaturizer``
in Chemprop 2.x; the unit tests compare the two bit for bit when Chemprop is
installed. Edges follow the same order: bond ``k`` gives edges ``2k``
(begin -> end) and ``2k + 1`` (end -> begin).

Speed: instead of building one small vector per atom, :func:`featurize`
collects a few integer codes per atom and per bond for *all* molecules
(one RDKit accessor call per property, rare properties such as chiral tags and
isotopes found with one C++ query per molecule, degrees counted from the bond
list) and writes the one-hot matrix with a single fancy-index assignment.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import time
import types
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from rdkit import Chem, rdBase
from rdkit.Chem import rdqueries

from discovery.chem.graphs import PACKED_FORMAT_VERSION, PackedGraphs

__all__ = [
    "ATOM_FDIM",
    "BOND_FDIM",
    "FEATURIZER_VERSION",
    "atom_features",
    "bond_features",
    "featurize",
    "featurize_cached",
    "features_cache_key",
]

log = logging.getLogger(__name__)

ATOM_FDIM = 72
BOND_FDIM = 14
#: Bump whenever a feature changes; it is part of every feature-cache key.
FEATURIZER_VERSION = "v2-72-14.1"

# ----------------------------------------------------------------- choices
_ATOMIC_NUMS = list(range(1, 37)) + [53]
_DEGREES = list(range(6))
_FORMAL_CHARGES = [-1, -2, 1, 2, 0]
_CHIRAL_TAGS = list(range(4))
_NUM_HS = list(range(5))
_HYBRIDIZATIONS = [
    Chem.HybridizationType.S,
    Chem.HybridizationType.SP,
    Chem.HybridizationType.SP2,
    Chem.HybridizationType.SP2D,
    Chem.HybridizationType.SP3,
    Chem.HybridizationType.SP3D,
    Chem.HybridizationType.SP3D2,
]
_BOND_TYPES = [Chem.BondType.SINGLE, Chem.BondType.DOUBLE, Chem.BondType.TRIPLE, Chem.BondType.AROMATIC]
_STEREOS = list(range(6))

# block offsets in the atom vector
_OFF_Z = 0
_OFF_DEG = _OFF_Z + len(_ATOMIC_NUMS) + 1  # 38
_OFF_CHG = _OFF_DEG + len(_DEGREES) + 1  # 45
_OFF_CHI = _OFF_CHG + len(_FORMAL_CHARGES) + 1  # 51
_OFF_H = _OFF_CHI + len(_CHIRAL_TAGS) + 1  # 56
_OFF_HYB = _OFF_H + len(_NUM_HS) + 1  # 62
_COL_AROM = _OFF_HYB + len(_HYBRIDIZATIONS) + 1  # 70
_COL_MASS = _COL_AROM + 1  # 71
assert _COL_MASS + 1 == ATOM_FDIM

_COL_NULL = 0
_OFF_BT = 1
_COL_CONJ = _OFF_BT + len(_BOND_TYPES)  # 5
_COL_RING = _COL_CONJ + 1  # 6
_OFF_STEREO = _COL_RING + 1  # 7
assert _OFF_STEREO + len(_STEREOS) + 1 == BOND_FDIM

# ----------------------------------------------------------------- lookup tables (code -> column)
_MAX_Z = 256
_LUT_Z = np.full(_MAX_Z, _OFF_Z + len(_ATOMIC_NUMS), dtype=np.int64)
for _i, _z in enumerate(_ATOMIC_NUMS):
    _LUT_Z[_z] = _OFF_Z + _i

_CHG_SHIFT = 16  # charges are clipped to [-16, 16] before lookup (all outside the choices anyway)
_LUT_CHG = np.full(2 * _CHG_SHIFT + 1, _OFF_CHG + len(_FORMAL_CHARGES), dtype=np.int64)
for _i, _c in enumerate(_FORMAL_CHARGES):
    _LUT_CHG[_c + _CHG_SHIFT] = _OFF_CHG + _i

_N_HYB = len(Chem.HybridizationType.values) + 8
_LUT_HYB = np.full(_N_HYB, _OFF_HYB + len(_HYBRIDIZATIONS), dtype=np.int64)
for _i, _h in enumerate(_HYBRIDIZATIONS):
    _LUT_HYB[int(_h)] = _OFF_HYB + _i

_N_BT = len(Chem.BondType.values) + 8
_LUT_BT = np.full(_N_BT, -1, dtype=np.int64)  # -1: no bond-type bit
for _i, _b in enumerate(_BOND_TYPES):
    _LUT_BT[int(_b)] = _OFF_BT + _i

_PT = Chem.GetPeriodicTable()
# average atomic weight per atomic number, as Atom.GetMass() returns it for atoms without isotope
_MASS_BY_Z = np.array([_PT.GetAtomicWeight(z) for z in range(119)], dtype=np.float64)

_Q_CHIRAL = rdqueries.HasChiralTagQueryAtom()
_Q_ISOTOPE = rdqueries.IsotopeGreaterQueryAtom(0)


# ----------------------------------------------------------------- reference (per atom)
def _onehot_index(value: object, choices: Sequence) -> int:
    return choices.index(value) if value in choices else len(choices)


def atom_features(atom: Chem.Atom | None) -> np.ndarray:
    """Feature vector of one atom (reference implementation, slow).

    Parameters
    ----------
    atom : rdkit.Chem.Atom or None
        The atom; ``None`` gives the all-zero vector (as in Chemprop).

    Returns
    -------
    np.ndarray
        ``[ATOM_FDIM]`` float32; see the module docstring for the layout.
    """
    x = np.zeros(ATOM_FDIM, dtype=np.float64)
    if atom is None:
        return x.astype(np.float32)
    x[_OFF_Z + _onehot_index(atom.GetAtomicNum(), _ATOMIC_NUMS)] = 1
    x[_OFF_DEG + _onehot_index(atom.GetTotalDegree(), _DEGREES)] = 1
    x[_OFF_CHG + _onehot_index(atom.GetFormalCharge(), _FORMAL_CHARGES)] = 1
    x[_OFF_CHI + _onehot_index(int(atom.GetChiralTag()), _CHIRAL_TAGS)] = 1
    x[_OFF_H + _onehot_index(int(atom.GetTotalNumHs()), _NUM_HS)] = 1
    x[_OFF_HYB + _onehot_index(atom.GetHybridization(), _HYBRIDIZATIONS)] = 1
    x[_COL_AROM] = int(atom.GetIsAromatic())
    x[_COL_MASS] = 0.01 * atom.GetMass()
    return x.astype(np.float32)


def bond_features(bond: Chem.Bond | None) -> np.ndarray:
    """Feature vector of one bond (reference implementation, slow).

    Parameters
    ----------
    bond : rdkit.Chem.Bond or None
        The bond; ``None`` gives the null-bond vector (only column 0 set).

    Returns
    -------
    np.ndarray
        ``[BOND_FDIM]`` float32; see the module docstring for the layout.
    """
    x = np.zeros(BOND_FDIM, dtype=np.float32)
    if bond is None:
        x[_COL_NULL] = 1
        return x
    bt = bond.GetBondType()
    if bt in _BOND_TYPES:
        x[_OFF_BT + _BOND_TYPES.index(bt)] = 1
    x[_COL_CONJ] = int(bond.GetIsConjugated())
    x[_COL_RING] = int(bond.IsInRing())
    x[_OFF_STEREO + _onehot_index(int(bond.GetStereo()), _STEREOS)] = 1
    return x


# ----------------------------------------------------------------- vectorized
def _collect(mols: Sequence[Chem.Mol]) -> tuple[np.ndarray, ...]:
    """Integer codes of every atom and bond of ``mols`` (the only per-atom Python)."""
    n_mols = len(mols)
    n_atoms = np.empty(n_mols, dtype=np.int64)
    n_bonds = np.empty(n_mols, dtype=np.int64)
    atom_vals: list = []  # flat: Z, charge, Hs, hybridization, aromatic per atom
    bond_vals: list = []  # flat: begin, end, type, conjugated, in ring, stereo per bond
    chiral_pos: list[int] = []
    chiral_tag: list[int] = []
    iso_pos: list[int] = []
    iso_mass: list[float] = []
    a_ext, b_ext = atom_vals.extend, bond_vals.extend
    a_off = 0
    i = -1
    try:
        blocker = rdBase.BlockLogs()  # RDKit's own stderr dump; the error below says it instead
        for i, mol in enumerate(mols):
            if mol is None:
                raise ValueError(f"molecule {i} is None (an unparsed SMILES?); featurize only valid molecules")
            na = mol.GetNumAtoms()
            if na == 0:
                raise ValueError(f"molecule {i} has no atoms; an empty molecule cannot be featurized")
            nb = mol.GetNumBonds()
            n_atoms[i] = na
            n_bonds[i] = nb
            # GetAtomWithIdx/GetBondWithIdx: much faster than the Python-level
            # sequence objects behind mol.GetAtoms()/GetBonds()
            for a in map(mol.GetAtomWithIdx, range(na)):
                a_ext((a.GetAtomicNum(), a.GetFormalCharge(), a.GetTotalNumHs(), a.GetHybridization(), a.GetIsAromatic()))
            for b in map(mol.GetBondWithIdx, range(nb)):
                b_ext((b.GetBeginAtomIdx(), b.GetEndAtomIdx(), b.GetBondType(), b.GetIsConjugated(), b.IsInRing(), b.GetStereo()))
            # rare properties: one C++ query per molecule; index the result instead
            # of iterating it (boost iterators end with a slow C++ exception)
            hits = mol.GetAtomsMatchingQuery(_Q_CHIRAL)
            for j in range(len(hits)):
                a = hits[j]
                chiral_pos.append(a_off + a.GetIdx())
                chiral_tag.append(int(a.GetChiralTag()))
            hits = mol.GetAtomsMatchingQuery(_Q_ISOTOPE)
            for j in range(len(hits)):
                a = hits[j]
                iso_pos.append(a_off + a.GetIdx())
                iso_mass.append(a.GetMass())
            a_off += na
    except RuntimeError as exc:  # RDKit pre-condition violations, e.g. an unsanitized molecule
        first = str(exc).strip().splitlines()
        raise ValueError(
            f"molecule {i}: RDKit cannot compute its features ({' '.join(first[:2])}); "
            "featurize sanitized molecules (Chem.SanitizeMol)"
        ) from exc
    finally:
        del blocker
    atoms = np.fromiter(atom_vals, dtype=np.int64, count=len(atom_vals)).reshape(-1, 5)
    bonds = np.fromiter(bond_vals, dtype=np.int64, count=len(bond_vals)).reshape(-1, 6)
    return (
        n_atoms,
        n_bonds,
        atoms,
        bonds,
        np.asarray(chiral_pos, dtype=np.int64),
        np.asarray(chiral_tag, dtype=np.int64),
        np.asarray(iso_pos, dtype=np.int64),
        np.asarray(iso_mass, dtype=np.float64),
    )


def featurize(mols: Sequence[Chem.Mol]) -> PackedGraphs:
    """Featurize molecules into one :class:`~discovery.chem.graphs.PackedGraphs`.

    Parameters
    ----------
    mols : sequence of rdkit.Chem.Mol
        Valid molecules (hydrogens as they are in the Mol; Chemprop does not
        add them either). ``None`` or zero-atom molecules raise ``ValueError``:
        an invalid input must never become an empty graph.

    Returns
    -------
    PackedGraphs
        ``x [N_atoms, 72]`` float32, ``edge_index [2, 2 * N_bonds]`` local int64,
        ``edge_attr [2 * N_bonds, 14]`` float32, ``atom_ptr``/``edge_ptr [n_mols + 1]``.
        Molecules without bonds get one node per atom and no edges.
    """
    mols = list(mols)
    n_atoms, n_bonds, atoms, bonds, chi_pos, chi_tag, iso_pos, iso_mass = _collect(mols)
    n = atoms.shape[0]

    # ---- atoms
    z = atoms[:, 0]
    chg = atoms[:, 1]
    hs = atoms[:, 2]
    hyb = atoms[:, 3]
    arom = atoms[:, 4]
    # total degree = explicit graph degree (bond count) + total H count
    mol_of_bond = np.repeat(np.arange(len(mols), dtype=np.int64), n_bonds)
    atom_base = np.zeros(len(mols) + 1, dtype=np.int64)
    np.cumsum(n_atoms, out=atom_base[1:])
    bond_base = atom_base[:-1][mol_of_bond]
    degree = np.bincount(bonds[:, 0] + bond_base, minlength=n) + np.bincount(bonds[:, 1] + bond_base, minlength=n)
    degree += hs
    chiral = np.zeros(n, dtype=np.int64)
    chiral[chi_pos] = chi_tag
    mass = _MASS_BY_Z[np.clip(z, 0, _MASS_BY_Z.size - 1)]
    mass[iso_pos] = iso_mass

    cols = np.empty((n, 6), dtype=np.int64)
    cols[:, 0] = _LUT_Z[np.clip(z, 0, _MAX_Z - 1)]
    cols[:, 1] = _OFF_DEG + np.minimum(degree, len(_DEGREES))
    cols[:, 2] = _LUT_CHG[np.clip(chg, -_CHG_SHIFT, _CHG_SHIFT) + _CHG_SHIFT]
    cols[:, 3] = _OFF_CHI + np.minimum(chiral, len(_CHIRAL_TAGS))
    cols[:, 4] = _OFF_H + np.minimum(hs, len(_NUM_HS))
    cols[:, 5] = _LUT_HYB[np.clip(hyb, 0, _N_HYB - 1)]
    x = np.zeros((n, ATOM_FDIM), dtype=np.float32)
    x[np.arange(n)[:, None], cols] = 1.0
    x[:, _COL_AROM] = arom
    x[:, _COL_MASS] = (0.01 * mass).astype(np.float32)

    # ---- bonds: one row per bond, then each row twice (both directions)
    nb = bonds.shape[0]
    battr = np.zeros((nb, BOND_FDIM), dtype=np.float32)
    rows = np.arange(nb)
    bt_col = _LUT_BT[np.clip(bonds[:, 2], 0, _N_BT - 1)]
    known = bt_col >= 0
    battr[rows[known], bt_col[known]] = 1.0
    battr[:, _COL_CONJ] = bonds[:, 3]
    battr[:, _COL_RING] = bonds[:, 4]
    battr[rows, _OFF_STEREO + np.minimum(bonds[:, 5], len(_STEREOS))] = 1.0
    edge_attr = np.repeat(battr, 2, axis=0)
    edge_index = np.empty((2, 2 * nb), dtype=np.int64)
    edge_index[0, 0::2] = bonds[:, 0]
    edge_index[1, 0::2] = bonds[:, 1]
    edge_index[0, 1::2] = bonds[:, 1]
    edge_index[1, 1::2] = bonds[:, 0]

    edge_ptr = np.zeros(len(mols) + 1, dtype=np.int64)
    np.cumsum(2 * n_bonds, out=edge_ptr[1:])
    return PackedGraphs(
        x=torch.from_numpy(x),
        edge_index=torch.from_numpy(edge_index),
        edge_attr=torch.from_numpy(edge_attr),
        atom_ptr=torch.from_numpy(atom_base),
        edge_ptr=torch.from_numpy(edge_ptr),
        featurizer_version=FEATURIZER_VERSION,
        validate=False,
    )


# ----------------------------------------------------------------- cache
def features_cache_key(smiles: Sequence[str]) -> str:
    """sha256 over the SMILES list, :data:`FEATURIZER_VERSION` and the packed file format.

    The SMILES are joined with newlines (a SMILES never contains one), so the
    key depends on their order.
    """
    h = hashlib.sha256()
    h.update(f"discovery.features|{FEATURIZER_VERSION}|packed-v{PACKED_FORMAT_VERSION}|torch-save\n".encode())
    h.update(str(len(smiles)).encode() + b"\n")
    for s in smiles:
        h.update(s.encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


def _default_cache_dir() -> Path:
    from discovery.config import get_settings

    return get_settings().cache_dir / "features"


def featurize_cached(
    smiles: Sequence[str],
    mols: Sequence[Chem.Mol] | None = None,
    cache_dir: str | os.PathLike | None = None,
) -> PackedGraphs:
    """Featurize with an on-disk cache keyed by content.

    Parameters
    ----------
    smiles : sequence of str
        The SMILES of the molecules, in order; they (with the featurizer
        version) form the cache key.
    mols : sequence of rdkit.Chem.Mol, optional
        The parsed molecules matching ``smiles`` one to one (as read by
        :func:`discovery.chem.io.read_molecules`). If omitted, ``smiles`` are
        parsed with ``Chem.MolFromSmiles``; an unparsable one raises ``ValueError``.
    cache_dir : path, optional
        Folder holding the cache files (``<key>.pt``). Default:
        ``Settings.cache_dir / "features"`` (``$DISCOVERY_CACHE/features``).

    Returns
    -------
    PackedGraphs
        Same as :func:`featurize`.

    Notes
    -----
    Files are written atomically. A file that cannot be read, or whose content
    does not match (wrong format, version or molecule count), is ignored,
    rebuilt and overwritten.
    """
    smiles = [str(s) for s in smiles]
    if mols is not None and len(mols) != len(smiles):
        raise ValueError(f"got {len(smiles)} SMILES but {len(mols)} molecules")
    folder = Path(cache_dir) if cache_dir is not None else _default_cache_dir()
    path = folder / f"{features_cache_key(smiles)}.pt"
    if path.exists():
        try:
            graphs = PackedGraphs.load(path)
            if len(graphs) == len(smiles) and graphs.featurizer_version == FEATURIZER_VERSION:
                log.debug("feature cache hit: %s", path)
                return graphs
            log.warning("feature cache file %s does not match its key; rebuilding", path)
        except Exception as exc:  # corrupt or truncated file: rebuild
            log.warning("feature cache file %s is unreadable (%s); rebuilding", path, exc)
    if mols is None:
        mols = []
        for i, s in enumerate(smiles):
            m = Chem.MolFromSmiles(s)
            if m is None:
                raise ValueError(f"SMILES {i} ({s!r}) cannot be parsed; validate inputs with discovery.chem.io first")
            mols.append(m)
    t0 = time.perf_counter()
    if len(mols) > 20000:
        log.info("featurizing %d molecules ...", len(mols))
    graphs = featurize(mols)
    log.info("featurized %d molecules in %.1f s; caching to %s", len(mols), time.perf_counter() - t0, path)
    try:
        graphs.save(path)
    except OSError as exc:  # a read-only cache must not stop the work
        log.warning("could not write feature cache %s: %s", path, exc)
    return graphs


# ``discovery.chem.featurize`` is both this module and the function above. Once
# the module is imported, Python binds the package attribute to the module, so
# ``from discovery.chem import featurize`` may return the module; making the
# module callable keeps ``featurize(mols)`` working either way.
class _CallableModule(types.ModuleType):
    def __call__(self, mols: Sequence[Chem.Mol]) -> PackedGraphs:
        return featurize(mols)


sys.modules[__name__].__class__ = _CallableModule
