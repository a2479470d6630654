"""Molecule pictures and the applicability-domain check used in reports (RDKit)."""

from __future__ import annotations

import html
import re
from typing import Sequence

import numpy as np

#: Morgan fingerprint settings of the applicability-domain rule.
AD_RADIUS = 2
AD_NBITS = 2048


def _mol(smiles: str):
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")
    try:
        return Chem.MolFromSmiles(smiles) if smiles else None
    finally:
        RDLogger.EnableLog("rdApp.*")


def mol_svg(smiles: str, width: int = 220, height: int = 170) -> str | None:
    """2-D depiction of a molecule as inline SVG (RDKit ``rdMolDraw2D``).

    Parameters
    ----------
    smiles : str
    width, height : int
        Pixels.

    Returns
    -------
    str or None
        SVG markup without XML prolog, or ``None`` when RDKit cannot parse
        ``smiles``.
    """
    from rdkit.Chem.Draw import rdMolDraw2D

    mol = _mol(smiles)
    if mol is None:
        return None
    drawer = rdMolDraw2D.MolDraw2DSVG(width, height)
    opts = drawer.drawOptions()
    opts.clearBackground = False
    opts.padding = 0.08
    rdMolDraw2D.PrepareAndDrawMolecule(drawer, mol)
    drawer.FinishDrawing()
    svg = drawer.GetDrawingText()
    svg = re.sub(r"<\?xml[^>]*\?>", "", svg)
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    title = f"<title>{html.escape(smiles)}</title>"
    svg = re.sub(r"(<svg\b[^>]*>)", lambda m: m.group(1) + title, svg, count=1)
    svg = re.sub(r"<svg\b", '<svg role="img" class="mol"', svg, count=1)
    return svg.strip()


def fingerprint_matrix(smiles: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Morgan bit fingerprints (radius 2, 2048 bits), packed 8 bits per byte.

    Parameters
    ----------
    smiles : sequence of str, length n

    Returns
    -------
    bits : ndarray of uint8, shape (n, 2048 / 8)
        Row ``i`` is molecule ``i``'s fingerprint (zeros when it does not parse).
    ok : ndarray of bool, shape (n,)
        Whether RDKit parsed the SMILES.
    """
    from rdkit.Chem import rdFingerprintGenerator

    gen = rdFingerprintGenerator.GetMorganGenerator(radius=AD_RADIUS, fpSize=AD_NBITS)
    out = np.zeros((len(smiles), AD_NBITS // 8), dtype=np.uint8)
    ok = np.zeros(len(smiles), dtype=bool)
    for i, s in enumerate(smiles):
        m = _mol(s)
        if m is not None:
            out[i] = np.packbits(gen.GetFingerprintAsNumPy(m).astype(bool))
            ok[i] = True
    return out, ok


class TrainingSetIndex:
    """Training-set fingerprints, computed once, for applicability-domain checks.

    Morgan fingerprints, radius 2, 2048 bits (ECFP4-like bit vectors). The
    shared-bit counts come from a float32 matrix product of the 0/1 bit
    matrices (exact: counts are integers <= 2048), so similarities equal
    RDKit's ``TanimotoSimilarity`` at BLAS speed.

    Parameters
    ----------
    train : sequence of str, length m
        Training-set SMILES; unparsable ones are ignored.
    chunk : int
        Training molecules per block (bounds memory to ``chunk × 2048`` floats).
    """

    def __init__(self, train: Sequence[str], *, chunk: int = 4096) -> None:
        bits, ok = fingerprint_matrix(train)
        self.bits = bits[ok]
        self.chunk = chunk

    def __len__(self) -> int:
        return len(self.bits)

    def max_similarity(self, query: Sequence[str]) -> np.ndarray:
        """Maximum Tanimoto similarity of each query molecule to the training set.

        Parameters
        ----------
        query : sequence of str, length n

        Returns
        -------
        ndarray, shape (n,)
            In [0, 1]; ``nan`` for a query RDKit cannot parse or when no
            training molecule parses.
        """
        out = np.full(len(query), np.nan)
        if len(self.bits) == 0 or len(query) == 0:
            return out
        qbits, qok = fingerprint_matrix(query)
        if not qok.any():
            return out
        q = np.unpackbits(qbits[qok], axis=1).astype(np.float32)  # (nq, 2048)
        qcount = q.sum(axis=1)
        best = np.zeros(len(q), dtype=np.float64)
        for start in range(0, len(self.bits), self.chunk):
            t = np.unpackbits(self.bits[start:start + self.chunk], axis=1).astype(np.float32)  # (c, 2048)
            common = q @ t.T  # (nq, c) shared on-bits
            union = qcount[:, None] + t.sum(axis=1)[None, :] - common
            sim = np.divide(common, union, out=np.zeros_like(common), where=union > 0)
            np.maximum(best, sim.max(axis=1), out=best)
        out[qok] = best
        return out


def max_train_similarity(query: Sequence[str], train: Sequence[str]) -> np.ndarray:
    """Maximum Tanimoto similarity of each query molecule to a training set.

    Shorthand for ``TrainingSetIndex(train).max_similarity(query)``.

    Parameters
    ----------
    query : sequence of str, length n
    train : sequence of str, length m

    Returns
    -------
    ndarray, shape (n,)
        In [0, 1]; ``nan`` where the query does not parse or no training molecule does.
    """
    return TrainingSetIndex(train).max_similarity(query)
