"""Knowledge-graph readers: Hetionet SIF, Neo4j TSVs, triple tables; skip-and-report; HeteroData."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from discovery.errors import AllRowsInvalidError, InputError
from discovery.targets.kg import (
    METAEDGES, edge_label, load_kg, parse_edge_type, read_hetionet_sif, read_neo4j_tsv, read_triples, write_problems,
)


def test_tiny_sif_counts(tiny_kg):
    s = tiny_kg.summary()
    assert s["n_edges"] == 240
    assert len(s["edges"]) == 24 and set(s["edges"].values()) == {10}
    assert s["nodes"]["Disease"] == 137 and s["n_nodes"] == 47031
    assert s["n_problems"] == 0
    # every Hetionet metaedge maps onto its node types
    for ab, et in METAEDGES.items():
        assert edge_label(et) in s["edges"], ab


def test_tiny_first_edge_resolves(tiny_kg):
    et = parse_edge_type("GpBP")
    gi = tiny_kg.index("Gene")["2625"]
    bi = tiny_kg.index("Biological Process")["GO:2000696"]
    assert tiny_kg.has_edge(et, gi, bi)


def test_heterodata_reverse_relations(tiny_kg):
    data = tiny_kg.to_heterodata()
    et = ("Disease", "associates", "Gene")
    fwd = data[et].edge_index
    rev = data[("Gene", "rev_associates", "Disease")].edge_index
    assert fwd.shape == (2, 10) and bool((rev.flip(0) == fwd).all())
    assert data["Gene"].num_nodes == 20945 and data["Gene"].node_ids[0] == tiny_kg.node_ids["Gene"][0]
    assert len(data.edge_types) == 48


def test_malformed_and_unknown_reported(tmp_path):
    nodes = tmp_path / "nodes.tsv"
    nodes.write_text("id\tname\tkind\nGene::1\tA1BG\tGene\nGene::2\tA2M\tGene\nDisease::DOID:1\tx\tDisease\n")
    sif = tmp_path / "e.sif.gz"
    with gzip.open(sif, "wt") as fh:
        fh.write("source\tmetaedge\ttarget\n"
                 "Disease::DOID:1\tDaG\tGene::1\n"          # ok (line 2)
                 "Disease::DOID:1\tDaG\n"                   # 2 fields (line 3)
                 "Disease::DOID:1\tDaG\tGene::999\n"        # unknown node (line 4)
                 "Gene::1\tDaG\tGene::2\n"                  # wrong types for DaG (line 5)
                 "Gene::1\tGiG\tGene::2\n")                 # ok (line 6)
    kg = read_hetionet_sif(sif, nodes=nodes)
    assert kg.num_edges() == 2
    lines = {p.line: p.reason for p in kg.problems}
    assert set(lines) == {3, 4, 5}
    assert "expected 3" in lines[3] and "unknown node Gene::999" in lines[4] and "joins Disease to Gene" in lines[5]
    assert all(p.file == str(sif) for p in kg.problems)
    out = write_problems(kg, tmp_path / "problems.tsv")
    assert len(pd.read_csv(out, sep="\t")) == 3
    with pytest.raises(InputError) as err:
        read_hetionet_sif(sif, nodes=nodes, on_error="raise")
    assert err.value.row == 3 and str(sif) in str(err.value)


def test_all_invalid_raises(tmp_path):
    sif = tmp_path / "bad.sif"
    sif.write_text("source\tmetaedge\ttarget\nfoo\tbar\n")
    with pytest.raises(AllRowsInvalidError):
        read_hetionet_sif(sif)


def test_neo4j_reader(tmp_path):
    d = tmp_path / "edges"
    d.mkdir()
    (d / "Disease_Associates_Gene.tsv").write_text(":START_ID(Disease)\t:END_ID(Gene)\nDOID:1\t1\nDOID:1\t2\nDOID:2\n")
    (d / "Compound_Resembles_Compund.tsv").write_text(":START_ID(Compound)\t:END_ID(Compound)\nDB1\tDB2\n")
    kg = read_neo4j_tsv(d)
    assert kg.num_edges(("Disease", "associates", "Gene")) == 2
    assert kg.num_edges(("Compound", "resembles", "Compound")) == 1   # types from header, not the misspelled name
    assert [(p.line, "expected 2" in p.reason) for p in kg.problems] == [(4, True)]
    (d / "Bad_Header.tsv").write_text("a\tb\n1\t2\n")
    with pytest.raises(InputError, match="START_ID"):
        read_neo4j_tsv(d)


def test_triples_tsv_and_parquet_join_onto_graph(tmp_path, tiny_kg):
    df = pd.DataFrame({
        "head": ["Disease::DOID:1612", "DOID:1612", "DOID:1612"],
        "relation": ["associates", "associates", "associates"],
        "tail": ["Gene::2099", "7157", "999999999"],
        "head_type": ["", "Disease", "Disease"], "tail_type": ["", "Gene", "Gene"],
        "source": ["literature", "literature", "literature"], "score": ["0.9", "0.4", "0.1"],
    })
    tsv = tmp_path / "lit.tsv"
    df.to_csv(tsv, sep="\t", index=False)
    base = load_kg("hetionet-tiny")
    n0 = base.num_edges(("Disease", "associates", "Gene"))
    kg = read_triples(tsv, kg=base)
    et = ("Disease", "associates", "Gene")
    assert kg.num_edges(et) == n0 + 2
    assert [p.line for p in kg.problems] == [4] and "unknown node Gene::999999999" in kg.problems[0].reason
    attrs = kg.edge_attrs[et]
    assert sorted(float(v) for v in attrs["score"] if v is not None) == [0.4, 0.9]
    pq = tmp_path / "lit.parquet"
    df.iloc[:2].to_parquet(pq)
    kg2 = read_triples(pq)
    assert kg2.num_edges() == 2 and set(kg2.node_types) == {"Disease", "Gene"}


def test_triples_missing_columns(tmp_path):
    p = tmp_path / "t.tsv"
    p.write_text("a\tb\n1\t2\n")
    with pytest.raises(InputError, match="lacks columns"):
        read_triples(p)


def test_find_node_by_name_and_id(tiny_kg):
    assert (tiny_kg.find_node("breast cancer", "Disease") == tiny_kg.find_node("DOID:1612")
            == tiny_kg.find_node("Disease::DOID:1612") == ("Disease", tiny_kg.index("Disease")["DOID:1612"]))
    with pytest.raises(InputError, match="matches 2 nodes"):   # a disease and a side effect share the name
        tiny_kg.find_node("breast cancer")
    with pytest.raises(InputError, match="did you mean"):
        tiny_kg.find_node("breast cancr", "Disease")


def test_hetionet_16_counts():
    kg = load_kg("hetionet-16")
    s = kg.summary()
    assert s["n_edges"] == 765796 and len(s["edges"]) == 16
    assert s["nodes"] == {"Anatomy": 402, "Compound": 1552, "Disease": 137, "Gene": 20945}
    assert s["edges"]["Compound-treats-Disease"] == 755 and s["edges"]["Disease-associates-Gene"] == 12623
