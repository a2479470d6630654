"""Rule relations, co-mentions, evidence table, edges and summaries on hand-made documents."""

from __future__ import annotations

import pandas as pd

from discovery.literature.documents import Document, Mention
from discovery.literature.pipeline import evidence_frame, evidence_to_edges
from discovery.literature.relations import EVIDENCE_COLUMNS, CIDRuleExtractor, co_mentions
from discovery.literature.sentences import split_sentences
from discovery.literature.summarize import summarize_entity


def _doc(pmid: str, title: str, abstract: str, marks: list[tuple[str, str, str]]) -> tuple[Document, list[Mention]]:
    d = Document(pmid=pmid, title=title, abstract=abstract)
    text = d.text
    ms = []
    for surface, typ, mid in marks:
        start = 0
        while True:
            i = text.find(surface, start)
            if i < 0:
                break
            ms.append(Mention(i, i + len(surface), surface, typ, mid))
            start = i + len(surface)
    ms.sort(key=lambda m: m.start)
    return d, ms


def test_sentence_split_keeps_abbreviations():
    t = "Title here. It was given i.v. to 5 rats, e.g. Wistar. Dr. Smith saw 3 cases."
    assert [t[s:e] for s, e in split_sentences(t, 11)] == [
        "Title here.", "It was given i.v. to 5 rats, e.g. Wistar.", "Dr. Smith saw 3 cases."]


def test_induced_pattern_beats_therapy_and_evidence_is_verbatim():
    d, ms = _doc("1", "Cisplatin-induced nephrotoxicity in rats.",
                 "Cisplatin caused nephrotoxicity. Magnesium did not prevent hypertension in controls.",
                 [("Cisplatin", "Chemical", "MESH:D002945"), ("nephrotoxicity", "Disease", "MESH:D007674"),
                  ("Magnesium", "Chemical", "MESH:D008274"), ("hypertension", "Disease", "MESH:D006973")])
    ex = CIDRuleExtractor(threshold=0.5)
    rows = ex.extract(d, ms)
    pairs = {(e.subject_id, e.object_id) for e in rows}
    assert ("MESH:D002945", "MESH:D007674") in pairs
    assert ("MESH:D008274", "MESH:D006973") not in pairs
    for e in rows:
        assert d.text[e.sentence_start:e.sentence_end] == e.sentence
        assert d.text[e.subject_start:e.subject_end] == e.subject_name
        assert e.sentence == "Cisplatin-induced nephrotoxicity in rats."  # the induced pattern ranks first


def test_fit_learns_that_cooccurrence_with_trigger_matters():
    docs, ments = [], []
    for i in range(30):
        d, ms = _doc(str(i), f"Drug{i}x-induced rash.", "Other text about aspirinx and headachex.",
                     [(f"Drug{i}x", "Chemical", f"MESH:C{i}"), ("rash", "Disease", "MESH:D005076"),
                      ("aspirinx", "Chemical", "MESH:D001241"), ("headachex", "Disease", "MESH:D006261")])
        from discovery.literature.documents import Relation

        d.relations = [Relation("CID", f"MESH:C{i}", "MESH:D005076")]
        docs.append(d)
        ments.append(ms)
    ex = CIDRuleExtractor().fit(docs, ments, use_known_pairs=False)
    assert ex.weights["induced_pattern"] > 0.5
    assert ex.weights["chem_title"] > 0
    d, ms = _doc("x", "Zx-induced rash.", "Other text about aspirinx and headachex.",
                 [("Zx", "Chemical", "MESH:C999"), ("rash", "Disease", "MESH:D005076"),
                  ("aspirinx", "Chemical", "MESH:D001241"), ("headachex", "Disease", "MESH:D006261")])
    ex.threshold = 0.5
    assert ex.pairs(d, ms) == [("MESH:C999", "MESH:D005076")]


def test_co_mentions_and_edges_and_summary():
    d1, m1 = _doc("100", "BRCA1 mutations in breast cancer.", "BRCA1 loss causes ovarian cancer.",
                  [("BRCA1", "Gene", "HGNC:1100"), ("breast cancer", "Disease", "MESH:D001943"),
                   ("ovarian cancer", "Disease", "MESH:D010051")])
    d2, m2 = _doc("200", "Olaparib targets BRCA1 deficient breast cancer.", "",
                  [("Olaparib", "Chemical", "MESH:C531550"), ("BRCA1", "Gene", "HGNC:1100"),
                   ("breast cancer", "Disease", "MESH:D001943")])
    rows = co_mentions(d1, m1) + co_mentions(d2, m2)
    got = {(e.subject_id, e.object_id, e.pmid) for e in rows}
    assert got == {("HGNC:1100", "MESH:D001943", "100"), ("HGNC:1100", "MESH:D010051", "100"),
                   ("HGNC:1100", "MESH:D001943", "200"), ("MESH:C531550", "HGNC:1100", "200")}
    df = evidence_frame(rows)
    assert tuple(df.columns) == EVIDENCE_COLUMNS and df["sentence_start"].dtype == "int64"
    edges = evidence_to_edges(df)
    e = edges[(edges.source == "HGNC:1100") & (edges.target == "MESH:D001943")].iloc[0]
    assert e.n_pmids == 2 and e.pmids == "100;200" and e.origin == "literature"
    s = summarize_entity(df, "HGNC:1100")
    assert s.method == "extractive" and s.name == "BRCA1"
    assert s.bullets[0]["partner"] == "MESH:D001943" and s.bullets[0]["pmids"] == ["100", "200"]
    md = s.markdown()
    assert "PMID:100" in md and "PMID:200" in md and "(HGNC:1100)" in md
    assert summarize_entity(df, "HGNC:9999").bullets == []


def test_evidence_frame_empty_has_schema():
    df = evidence_frame([])
    assert list(df.columns) == list(EVIDENCE_COLUMNS) and len(df) == 0
    assert evidence_to_edges(df).empty
