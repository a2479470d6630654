"""Protein sequences with Biopython: FASTA / UniProt readers, validation, ProtParam descriptors, DAVIS.

Sequence validation: the 20 standard amino acids are valid; the IUPAC ambiguity and rare
codes ``B Z J X U O`` are accepted but counted (``n_ambiguous``) and left out of the
ProtParam descriptors; a trailing ``*`` (stop) is stripped; any other character (digits,
``-``, lowercase letters are upper-cased first) makes the sequence invalid, and it is
reported with file, record/row, position and letter (``on_error="report"``) or raises
:class:`~discovery.errors.InputError` (``on_error="raise"``).
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import Literal, Sequence

import numpy as np

from ..errors import AllRowsInvalidError, InputError

STANDARD = "ACDEFGHIKLMNPQRSTVWY"
AMBIGUOUS = "BZJXUO"
DIPEPTIDES = ["".join(p) for p in product(STANDARD, repeat=2)]
PHYSCHEM = ("length", "molecular_weight", "isoelectric_point", "gravy", "instability_index", "aromaticity",
            "n_ambiguous")


@dataclass(frozen=True)
class ProteinRecord:
    """A validated protein sequence (upper case, no stop)."""

    id: str
    sequence: str
    description: str = ""
    source: str = ""


@dataclass(frozen=True)
class InvalidSequence:
    """A rejected sequence: where it is and what is wrong."""

    file: str
    record: str
    row: int | None
    position: int | None
    letter: str | None
    reason: str


def validate_sequence(seq: str) -> tuple[str, list[tuple[int, str]]]:
    """Clean a sequence and list invalid letters.

    Returns
    -------
    clean : str
        Upper-cased, whitespace and a trailing ``*`` removed.
    bad : list of (1-based position, letter)
        Characters that are not amino-acid codes.
    """
    s = "".join(str(seq).split()).upper()
    if s.endswith("*"):
        s = s[:-1]
    ok = set(STANDARD + AMBIGUOUS)
    return s, [(i + 1, c) for i, c in enumerate(s) if c not in ok]


def _detect(path: Path) -> str:
    with open(path, encoding="utf-8", errors="replace") as fh:
        head = fh.read(200).lstrip()
    if head.startswith(">"):
        return "fasta"
    if head.startswith("ID "):
        return "swiss"
    raise InputError("not a FASTA or UniProt flat file", file=str(path), row=1, value=head[:40],
                     hint="pass --format fasta or swiss")


def read_sequences(path: str | os.PathLike, *, fmt: Literal["auto", "fasta", "swiss"] = "auto",
                   on_error: str = "report") -> tuple[list[ProteinRecord], list[InvalidSequence]]:
    """Read protein sequences from FASTA or UniProt/SwissProt flat files with Biopython.

    Returns
    -------
    records : list of ProteinRecord
    invalid : list of InvalidSequence
        Records skipped (``on_error="report"``).
    """
    from Bio import SeqIO

    p = Path(path)
    if not p.is_file():
        raise InputError("no such file", file=str(p))
    kind = _detect(p) if fmt == "auto" else fmt
    recs, bad = [], []
    try:
        it = list(SeqIO.parse(str(p), "fasta" if kind == "fasta" else "swiss"))
    except Exception as err:  # Biopython raises ValueError/AssertionError on broken records
        raise InputError(f"cannot parse as {kind}: {err}", file=str(p)) from None
    for k, rec in enumerate(it, start=1):
        clean, wrong = validate_sequence(str(rec.seq))
        reason = None
        if not clean:
            reason, pos, letter = "empty sequence", None, None
        elif wrong:
            pos, letter = wrong[0]
            reason = f"{len(wrong)} invalid letter(s), first {letter!r} at position {pos}"
        if reason:
            if on_error == "raise":
                raise InputError(reason, file=str(p), row=k, column="sequence", value=rec.id)
            bad.append(InvalidSequence(str(p), rec.id, k, pos, letter, reason))
            continue
        recs.append(ProteinRecord(rec.id, clean, rec.description, str(p)))
    return recs, bad


def protein_descriptors(seq: str, *, composition: bool = True, dipeptides: bool = False) -> dict[str, float]:
    """ProtParam descriptors of one (validated) sequence.

    Returns
    -------
    dict
        ``length`` (residues), ``molecular_weight`` (Da), ``isoelectric_point`` (pH units),
        ``gravy`` (Kyte-Doolittle mean hydropathy), ``instability_index``, ``aromaticity``
        (fraction F+W+Y), ``n_ambiguous``; ``aac_<A>`` amino-acid fractions (20);
        ``dpc_<AB>`` dipeptide fractions (400) when asked. Computed on the standard residues only.
    """
    from Bio.SeqUtils.ProtParam import ProteinAnalysis

    std = "".join(c for c in seq if c in STANDARD)
    if not std:
        raise InputError("sequence has no standard amino acid", value=seq[:30])
    pa = ProteinAnalysis(std)
    out = {
        "length": float(len(seq)), "molecular_weight": float(pa.molecular_weight()),
        "isoelectric_point": float(pa.isoelectric_point()), "gravy": float(pa.gravy()),
        "instability_index": float(pa.instability_index()) if len(std) > 1 else 0.0,
        "aromaticity": float(pa.aromaticity()), "n_ambiguous": float(len(seq) - len(std)),
    }
    if composition:
        counts = pa.count_amino_acids()
        out.update({f"aac_{a}": counts.get(a, 0) / len(std) for a in STANDARD})
    if dipeptides:
        out.update({f"dpc_{d}": v for d, v in zip(DIPEPTIDES, dipeptide_composition(std))})
    return out


def dipeptide_composition(seq: str) -> np.ndarray:
    """(400,) frequencies of overlapping standard dipeptides, in :data:`DIPEPTIDES` order."""
    idx = {a: i for i, a in enumerate(STANDARD)}
    v = np.zeros(400)
    for a, b in zip(seq, seq[1:]):
        if a in idx and b in idx:
            v[idx[a] * 20 + idx[b]] += 1
    return v / max(v.sum(), 1.0)


def descriptor_table(records: Sequence[ProteinRecord], *, dipeptides: bool = False):
    """DataFrame: ``id`` plus :func:`protein_descriptors` columns, one row per record."""
    import pandas as pd

    return pd.DataFrame([{"id": r.id, **protein_descriptors(r.sequence, dipeptides=dipeptides)} for r in records])


def protein_feature_matrix(sequences: Sequence[str], *, dipeptides: bool = True) -> np.ndarray:
    """(n, F) float32 node/protein features: physico-chemical (7) + AAC (20) [+ DPC (400)]."""
    rows = []
    for s in sequences:
        d = protein_descriptors(s, dipeptides=dipeptides)
        rows.append(list(d.values()))
    return np.asarray(rows, dtype=np.float32)


# ---------------------------------------------------------------------- DAVIS


DAVIS_COLUMNS = ("SMILES", "Target Sequence", "Label")


def load_davis(source: str | os.PathLike | Sequence[str | os.PathLike] = "davis", *, on_error: str = "report"):
    """Load DAVIS drug-target pairs with sequence validation.

    Parameters
    ----------
    source : str or path(s)
        ``"davis"`` (registered: MolTrans train.csv + val.csv, pooled) or CSV paths with
        columns ``SMILES``, ``Target Sequence``, ``Label``.

    Returns
    -------
    table : DataFrame
        ``smiles``, ``sequence``, ``label`` (0/1), ``protein`` (P<n> id per distinct sequence),
        ``file``, ``row`` (1-based, header = 1).
    invalid : DataFrame
        Rejected rows: file, row, column, value, reason.

    Raises
    ------
    InputError
        A required column is missing, or a row is invalid and ``on_error="raise"``.
    """
    import pandas as pd

    if isinstance(source, (str, os.PathLike)) and not Path(source).exists():
        from ..data.fetcher import fetch

        paths = fetch(str(source))
    else:
        paths = [Path(source)] if isinstance(source, (str, os.PathLike)) else [Path(s) for s in source]
    rows, bad = [], []
    for path in paths:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in DAVIS_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise InputError(f"missing columns {missing}", file=str(path), row=1, value=reader.fieldnames)
            for k, r in enumerate(reader, start=2):
                seq, wrong = validate_sequence(r["Target Sequence"])
                reason = col = val = None
                if not seq:
                    reason, col, val = "empty sequence", "Target Sequence", ""
                elif wrong:
                    pos, letter = wrong[0]
                    reason = f"invalid amino-acid letter {letter!r} at position {pos} ({len(wrong)} invalid in total)"
                    col, val = "Target Sequence", letter
                elif r["Label"].strip() not in ("0", "1", "0.0", "1.0"):
                    reason, col, val = "label must be 0 or 1", "Label", r["Label"]
                elif not r["SMILES"].strip():
                    reason, col, val = "empty SMILES", "SMILES", ""
                if reason:
                    if on_error == "raise":
                        raise InputError(reason, file=str(path), row=k, column=col, value=val)
                    bad.append({"file": str(path), "row": k, "column": col, "value": val, "reason": reason})
                    continue
                rows.append({"smiles": r["SMILES"].strip(), "sequence": seq, "label": int(float(r["Label"])),
                             "file": str(path), "row": k})
    if not rows:
        raise AllRowsInvalidError(f"no valid row; {len(bad)} rejected", file=str(paths[0]))
    df = pd.DataFrame(rows)
    ids = {s: f"P{i}" for i, s in enumerate(dict.fromkeys(df["sequence"]))}
    df["protein"] = df["sequence"].map(ids)
    return df, pd.DataFrame(bad, columns=["file", "row", "column", "value", "reason"])
