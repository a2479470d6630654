"""Helpers of workflows/rules/literature.smk: shards per input file, argument strings, report inputs."""

from __future__ import annotations

from discovery.literature import _workflow as wf


def test_shards_from_registry_names_relpaths_and_globs(tmp_path):
    (tmp_path / "pubmed25n0001.xml.gz").write_bytes(b"")
    (tmp_path / "pubmed25n0002.xml.gz").write_bytes(b"")
    sec = {"inputs": ["pubmed-samples", "literature/pubmed-samples/pubmed4.xml", str(tmp_path / "pubmed25n*.xml.gz")]}
    sh = wf.shards(sec)
    # the registry dataset expands to its 9 readable files (README-like files would be skipped)
    assert "pubmed1" in sh and "medline_pubmed_result2" in sh
    assert sh["pubmed25n0001"].endswith("pubmed25n0001.xml.gz") and "pubmed25n0002" in sh
    assert list(sh).count("pubmed4") == 1  # same file twice is one shard
    assert len(sh) == 11


def test_argument_strings_and_report_inputs():
    sec = {"extractor": "llm", "llm": {"url": "http://127.0.0.1:8080/v1", "dialect": "llamacpp",
                                       "local_hosts": ["gpu01"], "allow_remote": True},
           "summarize": ["HGNC:1100"], "evaluate": {"split": "dev", "limit": 50}}
    assert wf.llm_args(sec) == ("--extractor llm --llm-url http://127.0.0.1:8080/v1 --llm-dialect llamacpp "
                                "--local-host gpu01 --allow-remote")
    assert wf.evaluate_args(sec) == "--split dev --limit 50"
    assert wf.entities(sec) == {"HGNC_1100": "HGNC:1100"}
    assert wf.report_inputs(sec, "out/literature") == [
        "out/literature/evidence/manifest.json", "out/literature/evaluate/manifest.json",
        "out/literature/summary/HGNC_1100/manifest.json"]
    assert wf.resource({}, "extract", "mem_mb") == 3000
    assert wf.resource({"resources": {"extract": {"mem_mb": 999}}}, "extract", "mem_mb") == 999
