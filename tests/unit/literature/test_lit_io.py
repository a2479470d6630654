"""Corpus readers on the mirror's real PubMed XML / MEDLINE / PubTator files and on hand-made bad input."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from discovery.errors import InputError
from discovery.literature.documents import ReadReport
from discovery.literature.io import detect_format, read_documents, read_medline, read_pubmed_xml, read_pubtator
from discovery.literature.vocab import BC5CDR_FILES, data_file


def samples() -> Path:
    from discovery.data.fetcher import fetch

    return Path(fetch("pubmed-samples")[0]).parent


def test_pubmed_xml_fields():
    docs = list(read_pubmed_xml(samples() / "pubmed1.xml"))
    assert [x.pmid for x in docs] == ["12091962", "9997"]
    assert docs[1].year == 1976 and docs[1].abstract
    d = docs[0]
    assert d.pmid == "12091962"
    assert d.title == "The treatment of AIDS behind the walls of correctional facilities."
    assert d.year == 1990
    assert d.journal == "Social justice (San Francisco, Calif.)"
    assert "D000163|Acquired Immunodeficiency Syndrome" in d.mesh_terms
    assert d.publication_types == ["Journal Article", "Review"]
    assert d.abstract == ""


def test_pubmed_xml_gz_streams_same_records(tmp_path):
    src = samples() / "pubmed4.xml"
    gz = tmp_path / "pubmed4.xml.gz"
    with open(src, "rb") as fi, gzip.open(gz, "wb") as fo:
        shutil.copyfileobj(fi, fo)
    plain = [(d.pmid, d.title, d.abstract) for d in read_pubmed_xml(src)]
    packed = [(d.pmid, d.title, d.abstract) for d in read_pubmed_xml(gz)]
    assert plain == packed and len(plain) == 1 and plain[0][2]


def test_labelled_abstract_sections_are_kept():
    d = next(d for f in sorted(samples().glob("*.xml")) for d in read_pubmed_xml(f) if d.pmid == "27797938")
    assert d.abstract.startswith("OBJECTIVE:") and "DESIGN:" in d.abstract


def test_malformed_xml_names_file_and_position_and_run_continues(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text('<?xml version="1.0"?>\n<PubmedArticleSet>\n<PubmedArticle><MedlineCitation><PMID>7</PMID>'
                   "<Article><ArticleTitle>Fine record.</ArticleTitle></Article></MedlineCitation></PubmedArticle>\n"
                   "<PubmedArticle><MedlineCitation><PMID>8</PMID><Article>\n<Broken</Article>\n")
    report = ReadReport()
    docs = list(read_documents([bad, samples() / "pubmed2.xml"], report=report))
    assert [d.pmid for d in docs] == ["7", "11748933", "11700088"]
    assert report.skipped == 1
    prob = report.problems[0]
    assert prob.file == str(bad) and prob.position.startswith("line 5, column")
    with pytest.raises(InputError, match="bad.xml"):
        list(read_documents([bad], on_error="raise"))


def test_delete_citations_are_collected(tmp_path):
    f = tmp_path / "update.xml"
    f.write_text("<PubmedArticleSet><DeleteCitation><PMID Version='1'>111</PMID><PMID Version='1'>222</PMID>"
                 "</DeleteCitation></PubmedArticleSet>")
    report = ReadReport()
    assert list(read_pubmed_xml(f, report=report)) == []
    assert report.deleted == ["111", "222"]


def test_medline_records():
    docs = list(read_medline(samples() / "medline_pubmed_result2.txt"))
    assert docs[0].pmid == "16403221"
    assert docs[0].title.startswith("A high level interface to SCOP and ASTRAL")
    assert docs[0].year == 2006
    assert docs[0].abstract.startswith("BACKGROUND: Benchmarking algorithms")


def test_pubtator_offsets_and_relations():
    docs = list(read_pubtator(data_file(BC5CDR_FILES["test"])))
    assert len(docs) == 500
    d = docs[0]
    assert d.pmid == "8701013"
    m = d.mentions[0]
    assert (m.start, m.end, m.text, m.type, m.id) == (0, 10, "Famotidine", "Chemical", "MESH:D015738")
    assert all(d.text[m.start:m.end] == m.text for d in docs for m in d.mentions)
    assert [(r.type, r.subject, r.object) for r in d.relations] == [("CID", "MESH:D015738", "MESH:D003693")]


def test_pubtator_bad_records_are_reported(tmp_path):
    f = tmp_path / "bad.pubtator"
    f.write_bytes(b"1|t|Aspirin and ulcers.\n1|a|Text.\n1\t0\t7\tAspirin\tChemical\tD001241\n1\t0\t3\tXYZ\tChemical\tD1\n\n"
                  b"2|t|Caf\xe9 bad bytes\n2|a|x\n\n3|t|\n3|a|\n\n")
    report = ReadReport()
    docs = list(read_pubtator(f, report=report))
    assert [d.pmid for d in docs] == ["1"] and len(docs[0].mentions) == 1
    reasons = " | ".join(p.reason for p in report.problems)
    assert "not valid UTF-8" in reasons and "cover 'Asp'" in reasons and "no title and no abstract" in reasons
    assert report.skipped == 3


def test_huge_document_is_skipped_and_counted(tmp_path, monkeypatch):
    import discovery.literature.io as lio

    monkeypatch.setattr(lio, "MAX_DOC_CHARS", 50)
    f = tmp_path / "big.pubtator"
    f.write_text("5|t|Title\n5|a|" + "word " * 40 + "\n\n6|t|Short one\n6|a|ok\n")
    report = ReadReport()
    assert [d.pmid for d in read_pubtator(f, report=report)] == ["6"]
    assert "limit 50" in report.problems[0].reason


def test_detect_format(tmp_path):
    assert detect_format(samples() / "pubmed1.xml") == "pubmed-xml"
    assert detect_format(samples() / "medline_pubmed_result1.txt") == "medline"
    assert detect_format(data_file(BC5CDR_FILES["dev"])) == "pubtator"
    odd = tmp_path / "notes.txt"
    odd.write_text("hello world\n")
    with pytest.raises(InputError, match="unknown literature format"):
        detect_format(odd)


def test_medline_non_utf8_record_is_reported_and_others_read(tmp_path):
    f = tmp_path / "bad.medline"
    f.write_bytes(b"PMID- 2\nTI  - Bad \xe9 title\nAB  - x\n\nPMID- 3\nTI  - Three.\n")
    report = ReadReport()
    assert [d.pmid for d in read_medline(f, report=report)] == ["3"]
    assert report.problems[0].pmid == "2" and "not valid UTF-8" in report.problems[0].reason
