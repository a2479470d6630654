"""`discovery targets ...` end to end on the tiny Hetionet sample (edges-10.sif), with exit codes."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from discovery.cli import main as cli_main


@pytest.fixture
def run(monkeypatch, capsys):
    """Call ``discovery targets ...`` in-process (only this group registered); returns (code, stdout, stderr)."""
    monkeypatch.setattr(cli_main, "COMMANDS", {"targets": cli_main.COMMANDS["targets"]})
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover
        pass

    def _run(*argv: str) -> tuple[int, str, str]:
        try:
            code = cli_main.main(["targets", *argv])
        except SystemExit as exc:
            code = exc.code
        out, err = capsys.readouterr()
        return code, out, err

    return _run


def test_summary_tiny(run, tmp_path):
    code, out, _ = run("summary", "--kg", "hetionet-tiny", "--out", str(tmp_path / "s"))
    assert code == 0 and "240 edges" in out
    s = json.loads((tmp_path / "s" / "summary.json").read_text())
    assert s["n_edges"] == 240 and s["edges"]["Compound-treats-Disease"] == 10
    assert json.loads((tmp_path / "s" / "manifest.json").read_text())["kind"] == "targets.summary"


def test_malformed_file_reported_and_raise_exit_2(run, tmp_path):
    sif = tmp_path / "bad.sif"
    sif.write_text("source\tmetaedge\ttarget\nDisease::DOID:1\tDaG\tGene::1\nDisease::DOID:1\tDaG\n")
    code, out, err = run("summary", "--kg", str(sif), "--out", str(tmp_path / "s"))
    assert code == 0 and "1 skipped" in out
    probs = pd.read_csv(tmp_path / "s" / "problems.tsv", sep="\t")
    assert probs["line"].tolist() == [3] and probs["file"].iloc[0] == str(sif)
    code, out, err = run("summary", "--kg", str(sif), "--on-error", "raise")
    assert code == 2 and "row 3" in err and str(sif) in err


def test_rank_and_repurpose_tiny_end_to_end(run, tmp_path):
    code, out, err = run("rank", "--kg", "hetionet-tiny", "--disease", "DOID:1826", "--top", "10",
                         "--model", "degree", "--out", str(tmp_path / "r"))
    assert code == 0, err
    res = json.loads((tmp_path / "r" / "ranking.json").read_text())
    assert res["query"]["id"] == "DOID:1826" and res["relation"] == "Disease-associates-Gene"
    assert len(res["results"]) == 10 and res["n_candidates"] == 20945
    assert res["n_known"] == 1
    # degree prior: the 10 genes with a DaG edge (degree 1) rank first; only DOID:1826's own edge is known
    assert {r["id"]: r["known"] for r in res["results"] if r["known"]} == {"1524": True}
    assert json.loads((tmp_path / "r" / "manifest.json").read_text())["kind"] == "targets.rank"
    tsv = pd.read_csv(tmp_path / "r" / "ranking.tsv", sep="\t")
    assert tsv["rank"].tolist() == list(range(1, 11))
    code, out, err = run("repurpose", "--kg", "hetionet-tiny", "--disease", "multiple sclerosis", "--top", "3",
                         "--hide-known", "--json")
    assert code == 0, err
    js = json.loads(out)
    assert js["query"]["id"] == "DOID:2377" and len(js["results"]) == 3
    assert not any(r["known"] for r in js["results"]) and js["results"][0]["type"] == "Compound"


def test_rank_unknown_disease_exit_2(run):
    code, out, err = run("rank", "--kg", "hetionet-tiny", "--disease", "breast cancr", "--top", "3")
    assert code == 2 and "did you mean" in err


def test_evaluate_tiny_cli(run, tmp_path):
    code, out, err = run("evaluate", "--kg", "hetionet-5k", "--relation", "CtD", "--model", "degree",
                         "--seeds", "0", "1", "2", "--out", str(tmp_path / "e"))
    assert code == 0, err
    m = json.loads((tmp_path / "e" / "metrics.json").read_text())
    d = m["summary"]["CtD"]["degree"]
    assert d["mrr"]["n"] == 3 and 0 < d["mrr"]["mean"] < 1 and d["auroc"]["sd"] >= 0
    assert json.loads((tmp_path / "e" / "manifest.json").read_text())["kind"] == "targets.evaluate"


def test_proteins_cli(run, tmp_path):
    fa = tmp_path / "p.fa"
    fa.write_text(">a\nMKTAYIAKQRQISFVKSHFSRQ\n>b\nMKT1\n")
    code, out, err = run("proteins", "--input", str(fa), "--dipeptides", "--out", str(tmp_path / "d.csv"))
    assert code == 0
    df = pd.read_csv(tmp_path / "d.csv")
    assert df["id"].tolist() == ["a"] and df.shape[1] == 1 + 7 + 20 + 400
    bad = pd.read_csv(tmp_path / "d.invalid.csv", dtype=str)
    assert bad["record"].tolist() == ["b"] and bad["letter"].tolist() == ["1"]


@pytest.mark.slow
def test_dta_cli_small(run, tmp_path):
    code, out, err = run("dta", "--max-rows", "800", "--epochs", "3", "--seeds", "0", "--out", str(tmp_path / "d"))
    assert code == 0, err
    m = json.loads((tmp_path / "d" / "metrics.json").read_text())
    assert set(m["summary"]) == {"ours (D-MPNN + composition)", "gradient boosting (Morgan + composition)"}
    for v in m["summary"].values():
        assert 0.5 < v["roc_auc"]["mean"] <= 1.0


def test_rank_triple_table_kg_with_literature_evidence_and_weights(run, tmp_path):
    """A generic triple table as the graph, a literature evidence table joined as a source, source weights."""
    from discovery.targets.synthetic import planted_graph

    kg = planted_graph()
    rows = []
    for et, e in kg.edges.items():
        for a, b in e.T:
            rows.append({"head": kg.node_ids[et[0]][a], "head_type": et[0], "relation": et[1],
                         "tail": kg.node_ids[et[2]][b], "tail_type": et[2]})
    graph = tmp_path / "kg.tsv"
    pd.DataFrame(rows).to_csv(graph, sep="\t", index=False)
    code, out, err = run("rank", "--kg", str(graph), "--disease", "DOID:0", "--top", "3", "--json", "--no-curated")
    assert code == 0, err
    top = json.loads(out)["results"]
    gene = top[0]["id"]
    lit = tmp_path / "lit.tsv"
    pd.DataFrame({"head": ["DOID:0"], "relation": ["associates"], "tail": [gene], "source": ["literature"],
                  "score": [0.8]}).to_csv(lit, sep="\t", index=False)
    code, out, err = run("rank", "--kg", str(graph), "--disease", "DOID:0", "--top", "3", "--json", "--no-curated",
                         "--evidence", str(lit), "--weights", "model=1,literature=0.5")
    assert code == 0, err
    res = json.loads(out)
    r0 = res["results"][0]
    assert r0["id"] == gene and r0["sources"]["literature"] == 0.8 and res["weights"]["literature"] == 0.5
    from discovery.targets.evidence import harmonic_sum

    assert r0["combined_evidence"] == pytest.approx(
        harmonic_sum(r0["sources"], {"model": 1.0, "literature": 0.5}, n_sources=2))
    code, out, err = run("rank", "--kg", str(graph), "--disease", "DOID:0", "--weights", "literature")
    assert code == 2 and "NAME=NUMBER" in err


@pytest.mark.slow
def test_evaluate_rgcn_mini_batch_cli(run, tmp_path):
    """R-GCN trained on LinkNeighborLoader mini-batches through --hparams, scored by the same harness."""
    hp = {"rgcn": {"batching": "neighbor", "num_neighbors": [5, 3], "batch_size": 4096, "hidden": 16,
                   "epochs": 2, "eval_every": 1, "accelerator": "cpu"}}
    code, out, err = run("evaluate", "--kg", "hetionet-tiny", "--relation", "DaG", "--model", "rgcn",
                         "--seeds", "0", "--hparams", json.dumps(hp), "--out", str(tmp_path / "e"))
    assert code == 0, err
    m = json.loads((tmp_path / "e" / "metrics.json").read_text())
    r = m["summary"]["DaG"]["rgcn"]
    assert r["mrr"]["n"] == 1 and 0 < r["mrr"]["mean"] < 1 and 0 < r["auroc"]["mean"] < 1
    assert "batching" in json.dumps(json.loads((tmp_path / "e" / "manifest.json").read_text()))
