"""The report's literature sections from real result folders (evaluation, evidence, summary)."""

from __future__ import annotations

import json

from discovery.literature.documents import Document, Mention
from discovery.literature.pipeline import evidence_frame
from discovery.literature.relations import co_mentions
from discovery.literature.summarize import summarize_entity, write_summary


def test_report_sections_show_scores_anchors_and_pmids(tmp_path):
    from discovery.fsutil import atomic_dir
    from discovery.literature.evaluate import ANCHORS
    from discovery.provenance import build_manifest, write_manifest
    from discovery.reports import build_report

    prf = lambda p, r, f: {"tp": 1, "fp": 0, "fn": 0, "precision": p, "recall": r, "f1": f}  # noqa: E731
    metrics = {"split": "test", "n_docs": 500, "extractor": "rules",
               "ner": {"mention": {"Chemical": prf(0.914, 0.878, 0.895), "Disease": prf(0.869, 0.835, 0.852)},
                       "doc_id": {"Chemical": prf(0.84, 0.86, 0.852), "Disease": prf(0.875, 0.852, 0.863)}},
               "cid": prf(0.407, 0.514, 0.454), "throughput": {"ner_abstracts_per_cpu_s": 2262.0},
               "anchors": ANCHORS}
    with atomic_dir(tmp_path / "eval") as d:
        (d / "metrics.json").write_text(json.dumps(metrics))
        write_manifest(d, build_manifest(kind="literature.evaluate", extra={"metrics": metrics}))
    doc = Document(pmid="27797938", title="TERT variants and pancreatic cancer risk.")
    ms = [Mention(0, 4, "TERT", "Gene", "HGNC:11730"), Mention(18, 35, "pancreatic cancer", "Disease", "MESH:D010190")]
    ev = evidence_frame(co_mentions(doc, ms))
    with atomic_dir(tmp_path / "extract") as d:
        ev.to_parquet(d / "evidence.parquet", index=False)
        (d / "summary.json").write_text(json.dumps({"documents_processed": 1, "mentions": 2, "evidence_rows": 1,
                                                    "relations_by_predicate": {"co_mentioned": 1}}))
        write_manifest(d, build_manifest(kind="literature.extract"))
    write_summary(summarize_entity(ev, "HGNC:11730"), tmp_path / "summary")

    rep = build_report([tmp_path / "eval", tmp_path / "extract", tmp_path / "summary"])
    html = rep.html
    titles = [s.title for s in rep.sections]
    assert titles == ["Literature mining: BC5CDR evaluation", "Literature mining: evidence",
                      "Literature mining: cited summaries"]
    assert "0.895" in html and "0.852" in html and "0.454" in html  # ours
    assert "0.570 (best 2015 system)" in html and "0.790" in html  # anchors
    assert "PMID:27797938" in html and "TERT (HGNC:11730)" in html
    assert "Schwartz" in html and "BioCreative V" in html  # methods references
    assert "http://" not in html.split("<body", 1)[1].split("References", 1)[0].replace("http://www.w3.org", "")
