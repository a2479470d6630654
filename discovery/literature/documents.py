"""Plain records shared by the literature package.

A :class:`Document` is one abstract (title + abstract text) with its
bibliographic fields; offsets of mentions and evidence sentences are character
offsets into :attr:`Document.text`, which is ``title + " " + abstract`` exactly
as PubTator concatenates them, so BC5CDR offsets line up without conversion.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Mention:
    """An entity mention.

    Attributes
    ----------
    start, end : int
        Character offsets into the document text (end exclusive).
    text : str
        The covered text, ``doc.text[start:end]``.
    type : str
        ``"Chemical"``, ``"Disease"`` or ``"Gene"``.
    id : str or None
        Normalized id with namespace prefix (``MESH:D015738``, ``DRUGBANK:DB00001``,
        ``HGNC:1100``); ``None`` when the source gives none (``-1`` in PubTator).
    source : str
        What produced the mention (``gold``, ``dict``, ``abbrev``).
    """

    start: int
    end: int
    text: str
    type: str
    id: str | None = None
    source: str = "dict"


@dataclass
class Relation:
    """A document-level relation between two normalized ids (e.g. BC5CDR ``CID``)."""

    type: str
    subject: str
    object: str


@dataclass
class Document:
    """One PubMed record.

    Attributes
    ----------
    pmid : str
        PubMed id (string, as in the XML).
    title, abstract : str
        Title and abstract text (abstract sections joined with a space; labelled
        sections keep their label as ``"LABEL: text"``).
    year : int or None
        Publication year (journal issue date, or the first year in ``MedlineDate``).
    journal : str
        Journal title.
    mesh_terms : list of str
        MeSH descriptor headings as ``"D000001|Calcimycin"`` (id and label).
    publication_types : list of str
        E.g. ``["Journal Article", "Review"]``.
    source : str
        File the record was read from.
    mentions, relations : list
        Annotations when the source carries them (PubTator); empty otherwise.
    """

    pmid: str
    title: str = ""
    abstract: str = ""
    year: int | None = None
    journal: str = ""
    mesh_terms: list[str] = field(default_factory=list)
    publication_types: list[str] = field(default_factory=list)
    source: str = ""
    mentions: list[Mention] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)

    @property
    def text(self) -> str:
        """``title + " " + abstract`` (the PubTator offset convention)."""
        if not self.abstract:
            return self.title
        return f"{self.title} {self.abstract}"

    def record(self) -> dict[str, Any]:
        """Row for the corpus store (no annotations)."""
        return {
            "pmid": self.pmid,
            "title": self.title,
            "abstract": self.abstract,
            "year": self.year,
            "journal": self.journal,
            "mesh_terms": list(self.mesh_terms),
            "publication_types": list(self.publication_types),
            "source": self.source,
        }


@dataclass
class Problem:
    """A record or file that could not be used, with where and why."""

    file: str
    position: str
    reason: str
    pmid: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "position": self.position, "pmid": self.pmid, "reason": self.reason}


@dataclass
class ReadReport:
    """Counts and problems of one read (every skipped item is listed)."""

    files: int = 0
    documents: int = 0
    deleted: list[str] = field(default_factory=list)
    empty_abstracts: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return len(self.problems)

    def summary(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "documents": self.documents,
            "deleted": len(self.deleted),
            "empty_abstracts": self.empty_abstracts,
            "skipped": self.skipped,
        }
