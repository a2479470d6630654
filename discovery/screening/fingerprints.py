"""Morgan (ECFP-like) fingerprints packed into ``uint64`` words.

Fingerprints come from RDKit's generator API
(``rdFingerprintGenerator.GetMorganGenerator``) and are stored as packed bit
matrices: bit ``i`` of a fingerprint lives in word ``i // 64`` at bit position
``i % 64`` (little-endian bit order, as ``np.packbits(..., bitorder="little")``
viewed as ``uint64`` on a little-endian machine). A fingerprint of ``nbits``
bits takes ``nbits / 64`` words; ``nbits`` must be a multiple of 64.

Tanimoto similarity of two bit sets ``A`` and ``B`` is
``|A & B| / (|A| + |B| - |A & B|)``, computed in double precision exactly as
RDKit's ``DataStructs.TanimotoSimilarity`` does. **Two empty fingerprints have
Tanimoto 0.0** (the union is empty; RDKit returns 0.0 and so does every
function of this package): an empty fingerprint carries no evidence that two
molecules are alike.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any, Sequence

import numpy as np

from discovery.errors import ConfigError

__all__ = [
    "EMPTY_TANIMOTO",
    "FingerprintSpec",
    "fingerprint_mols",
    "fingerprint_smiles",
    "popcount",
    "tanimoto_exact",
    "unpack_bits",
]

#: Tanimoto similarity of two empty fingerprints (0/0), as RDKit defines it.
EMPTY_TANIMOTO = 0.0


@dataclass(frozen=True)
class FingerprintSpec:
    """Which fingerprint to compute.

    Parameters
    ----------
    kind : {"morgan"}
        Fingerprint family (Morgan / ECFP; the only one so far).
    radius : int, default 2
        Morgan radius (2 = ECFP4).
    nbits : int, default 2048
        Folded size in bits; a multiple of 64 (1024 and 2048 are usual).
    chirality : bool, default False
        Include chirality in the atom invariants.
    """

    kind: str = "morgan"
    radius: int = 2
    nbits: int = 2048
    chirality: bool = False

    def __post_init__(self) -> None:
        if self.kind != "morgan":
            raise ConfigError(f"unknown fingerprint kind {self.kind!r}; supported: morgan")
        if int(self.radius) < 0 or int(self.radius) > 8:
            raise ConfigError(f"Morgan radius must be between 0 and 8, got {self.radius}")
        if int(self.nbits) < 64 or int(self.nbits) % 64:
            raise ConfigError(f"fingerprint size must be a positive multiple of 64 bits, got {self.nbits}")

    @property
    def n_words(self) -> int:
        """Number of ``uint64`` words per fingerprint."""
        return int(self.nbits) // 64

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "FingerprintSpec":
        return cls(**{k: d[k] for k in ("kind", "radius", "nbits", "chirality") if k in d})

    def generator(self) -> Any:
        """The RDKit fingerprint generator of this spec."""
        from rdkit.Chem import rdFingerprintGenerator

        return rdFingerprintGenerator.GetMorganGenerator(
            radius=int(self.radius), fpSize=int(self.nbits), includeChirality=bool(self.chirality)
        )

    def rdkit_bitvect(self, mol: Any) -> Any:
        """RDKit ``ExplicitBitVect`` of one molecule (for comparisons with RDKit)."""
        return self.generator().GetFingerprint(mol)


def fingerprint_mols(mols: Sequence[Any], spec: FingerprintSpec | None = None) -> np.ndarray:
    """Packed fingerprints of parsed molecules.

    Parameters
    ----------
    mols : sequence of rdkit.Chem.Mol
        ``[n]`` molecules (none may be ``None``).
    spec : FingerprintSpec, optional
        Default ``FingerprintSpec()`` (Morgan radius 2, 2048 bits).

    Returns
    -------
    np.ndarray
        ``[n, nbits / 64]`` ``uint64``.
    """
    spec = spec or FingerprintSpec()
    gen = spec.generator()
    n = len(mols)
    bits = np.empty((n, spec.nbits), dtype=np.uint8)
    for i, m in enumerate(mols):
        bits[i] = gen.GetFingerprintAsNumPy(m)
    return pack_bits(bits)


def pack_bits(bits: np.ndarray) -> np.ndarray:
    """``[n, nbits]`` 0/1 array -> ``[n, nbits/64]`` ``uint64`` (bit i -> word i//64, bit i%64)."""
    bits = np.ascontiguousarray(bits, dtype=np.uint8)
    packed = np.packbits(bits, axis=1, bitorder="little")
    return np.ascontiguousarray(packed).view("<u8").astype(np.uint64, copy=False)


def unpack_bits(packed: np.ndarray, nbits: int | None = None) -> np.ndarray:
    """``[n, W]`` ``uint64`` -> ``[n, 64 W]`` ``uint8`` 0/1 (inverse of the packing)."""
    p = np.ascontiguousarray(packed, dtype="<u8")
    out = np.unpackbits(p.view(np.uint8).reshape(p.shape[0], -1), axis=1, bitorder="little")
    return out if nbits is None else out[:, :nbits]


def popcount(packed: np.ndarray) -> np.ndarray:
    """Bits set per row of a packed matrix: ``[n, W]`` uint64 -> ``[n]`` int32."""
    return np.bitwise_count(np.asarray(packed)).sum(axis=-1, dtype=np.int32)


def tanimoto_exact(query: np.ndarray, library: np.ndarray, query_pc: np.ndarray | None = None,
                   library_pc: np.ndarray | None = None) -> np.ndarray:
    """Exact Tanimoto of one packed query against packed rows, in float64 (NumPy).

    Parameters
    ----------
    query : np.ndarray
        ``[W]`` uint64.
    library : np.ndarray
        ``[n, W]`` uint64.

    Returns
    -------
    np.ndarray
        ``[n]`` float64, ``a / (b + c - a)`` with 0/0 -> :data:`EMPTY_TANIMOTO`,
        bit-identical to RDKit's ``BulkTanimotoSimilarity``.
    """
    qpc = int(popcount(query[None])[0]) if query_pc is None else int(query_pc)
    lpc = popcount(library) if library_pc is None else np.asarray(library_pc)
    inter = np.bitwise_count(library & query[None, :]).sum(axis=-1, dtype=np.int64)
    return ratio(inter, qpc + lpc.astype(np.int64) - inter)


def ratio(inter: np.ndarray, union: np.ndarray) -> np.ndarray:
    """``inter / union`` in float64 with 0/0 -> :data:`EMPTY_TANIMOTO`."""
    inter = np.asarray(inter, dtype=np.float64)
    union = np.asarray(union, dtype=np.float64)
    out = np.full(np.broadcast(inter, union).shape, EMPTY_TANIMOTO, dtype=np.float64)
    np.divide(inter, union, out=out, where=union > 0)
    return out


# ----------------------------------------------------------------------------- SMILES in chunks (workers)
def _fp_chunk(args: tuple[list[str], dict[str, Any]]) -> tuple[np.ndarray, np.ndarray, list[str | None]]:
    """Worker: parse and fingerprint a chunk of SMILES.

    Returns ``(packed [n_valid, W] uint64, valid mask [n] bool, reasons [n])``.
    """
    from discovery.chem.io import parse_smiles

    smiles, spec_d = args
    spec = FingerprintSpec.from_dict(spec_d)
    gen = spec.generator()
    bits = np.empty((len(smiles), spec.nbits), dtype=np.uint8)
    ok = np.zeros(len(smiles), dtype=bool)
    reasons: list[str | None] = []
    j = 0
    for i, s in enumerate(smiles):
        mol, why = parse_smiles(s)
        reasons.append(why)
        if mol is None:
            continue
        bits[j] = gen.GetFingerprintAsNumPy(mol)
        ok[i] = True
        j += 1
    return pack_bits(bits[:j]), ok, reasons


def fingerprint_smiles(
    smiles: Sequence[str],
    spec: FingerprintSpec | None = None,
    *,
    on_error: str = "report",
) -> tuple[np.ndarray, np.ndarray, list[str | None]]:
    """Parse and fingerprint SMILES (in this process).

    Parameters
    ----------
    smiles : sequence of str
        ``[n]`` SMILES.
    spec : FingerprintSpec, optional
    on_error : {"report", "raise"}
        ``raise``: an invalid SMILES raises :class:`~discovery.errors.InputError`
        naming its position and value; ``report``: it is skipped and its reason returned.

    Returns
    -------
    packed : np.ndarray
        ``[n_valid, W]`` uint64, in input order of the valid SMILES.
    valid : np.ndarray
        ``[n]`` bool.
    reasons : list of (str or None)
        ``[n]`` RDKit's reason for each invalid SMILES, None for valid ones.
    """
    from discovery.errors import InputError

    spec = spec or FingerprintSpec()
    packed, ok, reasons = _fp_chunk((list(smiles), spec.to_dict()))
    if on_error == "raise" and not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise InputError(f"invalid SMILES: {reasons[i]}", row=i + 1, value=smiles[i],
                         hint="fix or remove it, or use on_error='report'")
    return packed, ok, reasons


def default_jobs() -> int:
    """Worker processes used by default: the CPUs available to this process (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover
        return max(1, os.cpu_count() or 1)
