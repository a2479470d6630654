"""``discovery literature`` through a real subprocess: ingest, extract, summarize, evaluate, edges, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]


def run(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    e = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run([sys.executable, "-m", "discovery", "literature", *args], cwd=cwd, env=e,
                          capture_output=True, text=True, timeout=600)


def _samples() -> list[str]:
    from discovery.data.fetcher import fetch

    return [str(p) for p in fetch("pubmed-samples")]


def _bc5cdr_subset(tmp: Path, n: int = 25) -> Path:
    from discovery.literature.vocab import BC5CDR_FILES, data_file

    blocks = data_file(BC5CDR_FILES["test"]).read_text(encoding="utf-8").split("\n\n")[:n]
    out = tmp / "cdr25.pubtator"
    out.write_text("\n\n".join(blocks) + "\n\n", encoding="utf-8")
    return out


def test_help_lists_actions(tmp_path):
    r = run("--help", cwd=tmp_path)
    assert r.returncode == 0
    for action in ("ingest", "extract", "evaluate", "summarize", "build-model", "edges"):
        assert action in r.stdout


def test_ingest_is_idempotent_and_reports_malformed_files(tmp_path):
    bad = tmp_path / "broken.xml"
    bad.write_text("<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID>\n<oops></PubmedArticleSet>")
    args = [*_samples(), str(bad), "--db", str(tmp_path / "c.duckdb")]
    r = run("ingest", *args, "--out", str(tmp_path / "ingest"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert s["documents"] == 14 and s["rows_in_store"] == 14 and s["skipped"] == 1
    assert "broken.xml (line 2, column" in r.stderr
    man = json.loads((tmp_path / "ingest" / "manifest.json").read_text())
    assert man["kind"] == "literature.ingest"
    probs = pd.read_csv(tmp_path / "ingest" / "problems.tsv", sep="\t")
    assert probs.loc[0, "file"] == str(bad)
    r2 = run("ingest", *args, cwd=tmp_path)
    assert json.loads(r2.stdout)["rows_in_store"] == 14


def test_on_error_raise_exits_2_naming_the_file(tmp_path):
    bad = tmp_path / "broken.xml"
    bad.write_text("<PubmedArticleSet><PubmedArticle>")
    r = run("ingest", str(bad), "--db", str(tmp_path / "c.duckdb"), "--on-error", "raise", cwd=tmp_path)
    assert r.returncode == 2 and "broken.xml" in r.stderr and "malformed XML" in r.stderr


@pytest.mark.slow
def test_extract_summarize_edges_evaluate(tmp_path):
    corpus = _bc5cdr_subset(tmp_path)
    r = run("extract", str(corpus), "--out", str(tmp_path / "ex"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert s["documents_processed"] == 25 and s["relations_by_predicate"]["induces"] > 10
    ev = pd.read_parquet(tmp_path / "ex" / "evidence.parquet")
    text = {}
    from discovery.literature.io import read_pubtator

    for d in read_pubtator(corpus):
        text[d.pmid] = d.text
    for _, row in ev.iterrows():  # every evidence sentence is verbatim in its document
        assert text[row.pmid][row.sentence_start:row.sentence_end] == row.sentence
    assert json.loads((tmp_path / "ex" / "manifest.json").read_text())["kind"] == "literature.extract"

    # famotidine (MESH:D015738) -> delirium is in the first abstract
    r = run("summarize", "--evidence", str(tmp_path / "ex"), "--entity", "MESH:D015738",
            "--out", str(tmp_path / "sum"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "delirium" in r.stdout and "PMID:8701013" in r.stdout
    assert (tmp_path / "sum" / "summary.md").read_text().startswith("## Famotidine")

    r = run("edges", "--evidence", str(tmp_path / "ex"), "--out", str(tmp_path / "edges.parquet"), cwd=tmp_path)
    assert r.returncode == 0
    edges = pd.read_parquet(tmp_path / "edges.parquet")
    assert {"source", "target", "relation", "pmids"} <= set(edges.columns)

    r = run("evaluate", "--split", "test", "--limit", "40", "--out", str(tmp_path / "eval"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "NER Chemical" in r.stdout and "CID (rules)" in r.stdout
    m = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert m["n_docs"] == 40 and m["ner"]["mention"]["Chemical"]["f1"] > 0.8


def test_summarize_rejects_unprefixed_entity(tmp_path):
    from discovery.literature.pipeline import evidence_frame

    evidence_frame([]).to_parquet(tmp_path / "e.parquet")
    r = run("summarize", "--evidence", str(tmp_path / "e.parquet"), "--entity", "BRCA1", cwd=tmp_path)
    assert r.returncode == 2 and "prefixed id" in r.stderr


def test_llm_extract_records_unreachable_endpoint_per_document(tmp_path):
    # no server needed: the privacy policy line is printed, and an unreachable endpoint is recorded per document
    corpus = _bc5cdr_subset(tmp_path, 2)
    r = run("extract", str(corpus), "--out", str(tmp_path / "ex"), "--extractor", "llm",
            "--llm-url", "http://127.0.0.1:9/v1", "--llm-timeout", "2", cwd=tmp_path,
            env={"DISCOVERY_LLM_URL": ""})
    assert r.returncode == 0, r.stderr
    assert "is LOCAL (loopback)" in r.stderr
    s = json.loads(r.stdout)
    assert s["extraction_failures"] == 0 and s["extractor_stats"]["requests_failed"] == 2
    probs = pd.read_csv(tmp_path / "ex" / "problems.tsv", sep="\t")
    assert len(probs) == 2 and probs["reason"].str.contains("connection error").all()
