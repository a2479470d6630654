"""Readers for PubMed XML, MEDLINE text and PubTator files.

All readers stream: PubMed XML is parsed with ``xml.etree.ElementTree.iterparse``
and each article element is cleared after use, so a 30,000-record baseline file
(gzipped or not) is read in constant memory. Problems follow the project's
``on_error`` policy: ``"report"`` (default) skips the record or the rest of a
broken file, adds a :class:`~discovery.literature.documents.Problem` naming the
file and position (line/column for XML) to the :class:`ReadReport`, and goes
on; ``"raise"`` raises :class:`~discovery.errors.InputError` instead.

Examples
--------
>>> from discovery.literature.io import read_documents
>>> report = ReadReport()                                        # doctest: +SKIP
>>> docs = list(read_documents(["pubmed24n0001.xml.gz"], report=report))  # doctest: +SKIP
>>> report.summary()                                             # doctest: +SKIP
{'files': 1, 'documents': 30000, 'deleted': 0, 'empty_abstracts': 312, 'skipped': 0}
"""

from __future__ import annotations

import gzip
import io
import os
import re
from pathlib import Path
from typing import IO, Iterable, Iterator, Literal

from ..errors import InputError
from .documents import Document, Mention, Problem, ReadReport, Relation

OnError = Literal["report", "raise"]

#: Documents longer than this (characters of title + abstract) are skipped and reported.
MAX_DOC_CHARS = 200_000

_PUBTATOR_HEAD = re.compile(rb"^\d+\|[ta]\|")


def _open_binary(path: Path) -> IO[bytes]:
    if path.suffix == ".gz":
        return gzip.open(path, "rb")
    return open(path, "rb")


def detect_format(path: str | os.PathLike) -> str:
    """Guess a file's format: ``"pubmed-xml"``, ``"medline"`` or ``"pubtator"``.

    Raises
    ------
    InputError
        When the first non-empty line matches none of the formats.
    """
    p = Path(path)
    name = p.name.lower()
    if name.endswith((".xml", ".xml.gz")):
        return "pubmed-xml"
    try:
        with _open_binary(p) as fh:
            head = b""
            for line in fh:
                if line.strip():
                    head = line.lstrip()
                    break
    except OSError as err:
        raise InputError(f"cannot read: {err}", file=str(p)) from err
    if head.startswith(b"<?xml") or head.startswith(b"<PubmedArticleSet") or head.startswith(b"<!DOCTYPE"):
        return "pubmed-xml"
    if head.startswith(b"PMID-"):
        return "medline"
    if _PUBTATOR_HEAD.match(head):
        return "pubtator"
    raise InputError(
        "unknown literature format", file=str(p), value=head[:40].decode("utf-8", "replace"),
        hint="give PubMed XML (.xml/.xml.gz), MEDLINE text (starting 'PMID-') or PubTator ('PMID|t|title')",
    )


def _problem(report: ReadReport | None, on_error: OnError, problem: Problem) -> None:
    if on_error == "raise":
        raise InputError(problem.reason, file=problem.file, value=problem.pmid, hint=f"at {problem.position}")
    if report is not None:
        report.problems.append(problem)


def _finish(doc: Document, report: ReadReport | None, on_error: OnError, position: str) -> Document | None:
    """Checks shared by all readers: size limit and empty-abstract count."""
    if len(doc.title) + len(doc.abstract) > MAX_DOC_CHARS:
        _problem(report, on_error, Problem(doc.source, position,
                                           f"document has {len(doc.title) + len(doc.abstract)} characters "
                                           f"(limit {MAX_DOC_CHARS})", doc.pmid))
        return None
    if not doc.title.strip() and not doc.abstract.strip():
        _problem(report, on_error, Problem(doc.source, position, "no title and no abstract text", doc.pmid))
        return None
    if report is not None:
        report.documents += 1
        if not doc.abstract.strip():
            report.empty_abstracts += 1
    return doc


# ----------------------------------------------------------------------------- PubMed XML

def _text(el) -> str:
    if el is None:
        return ""
    return re.sub(r"\s+", " ", "".join(el.itertext())).strip()


def _year(article) -> int | None:
    for path in (".//JournalIssue/PubDate/Year", ".//ArticleDate/Year", ".//PubDate/Year"):
        el = article.find(path)
        if el is not None and el.text and el.text.strip()[:4].isdigit():
            return int(el.text.strip()[:4])
    el = article.find(".//PubDate/MedlineDate")
    if el is not None and el.text:
        m = re.search(r"\d{4}", el.text)
        if m:
            return int(m.group())
    return None


def _parse_article(el, source: str) -> Document:
    """One ``PubmedArticle`` or ``PubmedBookArticle`` element -> Document."""
    pmid_el = el.find(".//PMID")
    pmid = (pmid_el.text or "").strip() if pmid_el is not None else ""
    title_el = el.find(".//ArticleTitle")
    if title_el is None:
        title_el = el.find(".//BookTitle")
    parts = []
    for ab in el.findall(".//Abstract/AbstractText"):
        t = _text(ab)
        if not t:
            continue
        label = ab.get("Label")
        parts.append(f"{label}: {t}" if label else t)
    journal = _text(el.find(".//Journal/Title"))
    mesh = []
    for h in el.findall(".//MeshHeadingList/MeshHeading/DescriptorName"):
        mesh.append(f"{h.get('UI', '')}|{_text(h)}")
    ptypes = [_text(p) for p in el.findall(".//PublicationTypeList/PublicationType")]
    return Document(pmid=pmid, title=_text(title_el), abstract=" ".join(parts), year=_year(el),
                    journal=journal, mesh_terms=mesh, publication_types=ptypes, source=source)


def read_pubmed_xml(
    path: str | os.PathLike, *, report: ReadReport | None = None, on_error: OnError = "report"
) -> Iterator[Document]:
    """Stream the articles of a PubMed XML file (baseline/update/efetch; ``.gz`` too).

    ``DeleteCitation`` PMIDs of update files are appended to ``report.deleted``.
    A malformed file yields the records before the fault and then reports
    ``file, line L, column C`` (or raises with ``on_error="raise"``).

    Yields
    ------
    Document
    """
    import xml.etree.ElementTree as ET

    p = Path(path)
    source = str(p)
    if report is not None:
        report.files += 1
    n = 0
    try:
        with _open_binary(p) as fh:
            context = ET.iterparse(fh, events=("start", "end"))
            root = None
            for event, el in context:
                if root is None and event == "start":
                    root = el
                if event != "end":
                    continue
                tag = el.tag
                if tag in ("PubmedArticle", "PubmedBookArticle"):
                    n += 1
                    try:
                        doc = _parse_article(el, source)
                    except Exception as err:  # defensive: one odd record never stops a file
                        _problem(report, on_error, Problem(source, f"record {n}", f"unreadable record: {err}"))
                        doc = None
                    if doc is not None:
                        if not doc.pmid:
                            _problem(report, on_error, Problem(source, f"record {n}", "record has no PMID"))
                        else:
                            out = _finish(doc, report, on_error, f"record {n}")
                            if out is not None:
                                yield out
                    el.clear()
                    if root is not None:
                        root.clear()
                elif tag == "DeleteCitation":
                    ids = [(x.text or "").strip() for x in el.findall("PMID")]
                    if report is not None:
                        report.deleted.extend(i for i in ids if i)
                    el.clear()
    except ET.ParseError as err:
        line, col = err.position
        _problem(report, on_error, Problem(source, f"line {line}, column {col}",
                                           f"malformed XML after {n} records: {err.msg if hasattr(err, 'msg') else err}"))
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        _problem(report, on_error, Problem(source, f"after record {n}", f"cannot read file: {err}"))


# ----------------------------------------------------------------------------- MEDLINE

def read_medline(
    path: str | os.PathLike, *, report: ReadReport | None = None, on_error: OnError = "report"
) -> Iterator[Document]:
    """Stream MEDLINE-format records (``PMID-`` tagged text) with :func:`Bio.Medline.parse`."""
    from Bio import Medline

    p = Path(path)
    source = str(p)
    if report is not None:
        report.files += 1
    try:
        with _open_binary(p) as fh:
            raw = fh.read()
    except (OSError, EOFError) as err:
        _problem(report, on_error, Problem(source, "file", f"cannot read file: {err}"))
        return
    # undecodable bytes become surrogates, so the records around a bad one are still read;
    # a record with such bytes in its text is reported below
    text = raw.decode("utf-8", errors="surrogateescape")
    for i, rec in enumerate(Medline.parse(io.StringIO(text)), start=1):
        pmid = str(rec.get("PMID", "")).strip()
        fields = [rec.get("TI", ""), rec.get("AB", ""), rec.get("JT", "")]
        if any(_has_surrogates(str(f)) for f in fields):
            _problem(report, on_error, Problem(source, f"record {i}", "text is not valid UTF-8", pmid or None))
            continue
        if not pmid:
            _problem(report, on_error, Problem(source, f"record {i}", "record has no PMID"))
            continue
        dp = str(rec.get("DP", ""))
        m = re.search(r"\d{4}", dp)
        mesh = [f"|{h.lstrip('*').split('/')[0]}" for h in rec.get("MH", [])]
        doc = Document(pmid=pmid, title=str(rec.get("TI", "")), abstract=str(rec.get("AB", "")),
                       year=int(m.group()) if m else None, journal=str(rec.get("JT", rec.get("TA", ""))),
                       mesh_terms=mesh, publication_types=list(rec.get("PT", [])), source=source)
        out = _finish(doc, report, on_error, f"record {i}")
        if out is not None:
            yield out


def _has_surrogates(s: str) -> bool:
    try:
        s.encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True


# ----------------------------------------------------------------------------- PubTator

def _prefix_ids(raw: str) -> str | None:
    raw = raw.strip()
    if not raw or raw == "-1":
        return None
    parts = []
    for part in raw.split("|"):
        part = part.strip()
        if not part or part == "-1":
            continue
        parts.append(part if ":" in part else f"MESH:{part}")
    return "|".join(parts) or None


def read_pubtator(
    path: str | os.PathLike, *, report: ReadReport | None = None, on_error: OnError = "report"
) -> Iterator[Document]:
    """Stream PubTator documents with their mentions and relations.

    Mention lines are ``pmid<TAB>start<TAB>end<TAB>text<TAB>type<TAB>id``; relation lines
    ``pmid<TAB>CID<TAB>chemical<TAB>disease``. MeSH ids get the ``MESH:`` prefix;
    composite ids (``D1|D2``) are kept joined by ``|``. A mention whose offsets do
    not cover its text is a record problem.
    """
    p = Path(path)
    source = str(p)
    if report is not None:
        report.files += 1
    try:
        fh = _open_binary(p)
    except OSError as err:
        _problem(report, on_error, Problem(source, "file", f"cannot read file: {err}"))
        return
    with fh:
        block: list[tuple[int, bytes]] = []
        for lineno, line in enumerate(fh, start=1):
            if line.strip():
                block.append((lineno, line.rstrip(b"\r\n")))
                continue
            if block:
                doc = _pubtator_block(block, source, report, on_error)
                block = []
                if doc is not None:
                    yield doc
        if block:
            doc = _pubtator_block(block, source, report, on_error)
            if doc is not None:
                yield doc


def _pubtator_block(block, source, report, on_error) -> Document | None:
    first = block[0][0]
    try:
        lines = [(n, b.decode("utf-8")) for n, b in block]
    except UnicodeDecodeError as err:
        _problem(report, on_error, Problem(source, f"line {first}", f"text is not valid UTF-8: {err}"))
        return None
    doc: Document | None = None
    title = abstract = ""
    pmid = ""
    ann: list[tuple[int, list[str]]] = []
    for n, line in lines:
        m = re.match(r"^(\d+)\|([ta])\|(.*)$", line)
        if m:
            pmid = m.group(1)
            if m.group(2) == "t":
                title = m.group(3)
            else:
                abstract = m.group(3)
            continue
        ann.append((n, line.split("\t")))
    if not pmid:
        _problem(report, on_error, Problem(source, f"line {first}", "block has no 'PMID|t|' title line"))
        return None
    doc = Document(pmid=pmid, title=title, abstract=abstract, source=source)
    text = doc.text
    for n, cols in ann:
        if len(cols) >= 4 and cols[1] == "CID" or (len(cols) == 4 and not cols[1].isdigit()):
            doc.relations.append(Relation(cols[1], _prefix_ids(cols[2]) or cols[2], _prefix_ids(cols[3]) or cols[3]))
            continue
        if len(cols) < 5 or not cols[1].isdigit() or not cols[2].isdigit():
            _problem(report, on_error, Problem(source, f"line {n}", f"unreadable annotation line {cols!r}", pmid))
            continue
        s, e = int(cols[1]), int(cols[2])
        if text[s:e] != cols[3]:
            _problem(report, on_error, Problem(source, f"line {n}",
                                               f"offsets {s}-{e} cover {text[s:e]!r}, not {cols[3]!r}", pmid))
            continue
        doc.mentions.append(Mention(s, e, cols[3], cols[4], _prefix_ids(cols[5]) if len(cols) > 5 else None, "gold"))
    return _finish(doc, report, on_error, f"line {first}")


# ----------------------------------------------------------------------------- dispatch

READERS = {"pubmed-xml": read_pubmed_xml, "medline": read_medline, "pubtator": read_pubtator}


def read_documents(
    paths: Iterable[str | os.PathLike], *, report: ReadReport | None = None, on_error: OnError = "report",
    format: str | None = None,
) -> Iterator[Document]:
    """Stream documents from many files, each in its detected (or the given) format.

    A file that cannot be opened or recognised is reported and the next file is read.
    """
    for path in paths:
        p = Path(path)
        if not p.exists():
            _problem(report, on_error, Problem(str(p), "file", "file does not exist"))
            continue
        try:
            fmt = format or detect_format(p)
        except InputError as err:
            if on_error == "raise":
                raise
            _problem(report, on_error, Problem(str(p), "file", err.message))
            continue
        if fmt not in READERS:
            raise InputError(f"unknown format {fmt!r}", value=fmt, hint=f"one of {sorted(READERS)}")
        yield from READERS[fmt](p, report=report, on_error=on_error)
