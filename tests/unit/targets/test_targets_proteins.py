"""Biopython readers, ProtParam descriptors, DAVIS loading with sequence validation."""

from __future__ import annotations

import pandas as pd
import pytest

from discovery.data.fetcher import fetch
from discovery.errors import InputError
from discovery.targets.proteins import (
    DIPEPTIDES, dipeptide_composition, load_davis, protein_descriptors, read_sequences, validate_sequence,
)


def test_validate_sequence():
    clean, bad = validate_sequence("mk tXa*")
    assert clean == "MKTXA" and bad == []
    assert validate_sequence("MK1T-")[1] == [(3, "1"), (5, "-")]


def test_read_uniprot_and_fasta():
    paths = {p.name: p for p in fetch("uniprot-samples")}
    recs, bad = read_sequences(paths["P04439.txt"])
    assert len(recs) == 1 and not bad and recs[0].id == "P04439" and len(recs[0].sequence) == 365
    recs, bad = read_sequences(paths["protein_lib.fa"])
    assert len(recs) > 1 and not bad


def test_fasta_invalid_letters_reported(tmp_path):
    fa = tmp_path / "x.fa"
    fa.write_text(">ok\nMKTAYIAKQR\n>bad\nMKT9AYI\n")
    recs, bad = read_sequences(fa)
    assert [r.id for r in recs] == ["ok"]
    assert bad[0].record == "bad" and bad[0].position == 4 and bad[0].letter == "9" and bad[0].row == 2
    with pytest.raises(InputError, match="invalid letter"):
        read_sequences(fa, on_error="raise")


def test_protparam_descriptors_known_values():
    d = protein_descriptors("AAAA")
    assert d["length"] == 4 and d["aac_A"] == 1.0 and d["aromaticity"] == 0.0
    assert d["gravy"] == pytest.approx(1.8)  # Kyte-Doolittle hydropathy of alanine
    assert d["molecular_weight"] == pytest.approx(4 * 89.0932 - 3 * 18.0153, abs=0.05)
    d = protein_descriptors("MKWYX", dipeptides=True)
    assert d["n_ambiguous"] == 1 and d["aromaticity"] == pytest.approx(0.5)
    assert sum(d[f"dpc_{k}"] for k in DIPEPTIDES) == pytest.approx(1.0)
    v = dipeptide_composition("ACA")
    assert v[DIPEPTIDES.index("AC")] == 0.5 and v[DIPEPTIDES.index("CA")] == 0.5


def test_davis_loader_real_data():
    df, invalid = load_davis("davis")
    assert len(df) + len(invalid) == 5092
    assert df["protein"].nunique() == 379 and df["smiles"].nunique() == 68
    assert set(df["label"].unique()) == {0, 1}


def test_davis_loader_reports_invalid_letters(tmp_path):
    p = tmp_path / "d.csv"
    pd.DataFrame({"SMILES": ["CCO", "CCN", "CCC", "CCO"], "Target Sequence": ["MKTAY", "MKT#Y", "MKTAY", "MKBJ2"],
                  "Label": [1, 0, 0, 3]}).to_csv(p)
    df, invalid = load_davis(p)
    assert len(df) == 2
    assert invalid["row"].tolist() == [3, 5]
    assert invalid.iloc[0]["value"] == "#" and "position 4" in invalid.iloc[0]["reason"]
    assert invalid.iloc[1]["value"] == "2"
    with pytest.raises(InputError) as err:
        load_davis(p, on_error="raise")
    assert err.value.row == 3 and err.value.column == "Target Sequence"
