"""Literature mining: corpus readers and store, dictionary NER, relations with evidence, summaries.

Offline by default (no model needed); an LLM relation extractor runs through :mod:`discovery.llm`.

Public API (imported lazily)::

    from discovery import literature as lit
    docs = list(lit.read_documents(["pubmed25n0001.xml.gz"]))     # PubMed XML / MEDLINE / PubTator
    with lit.CorpusStore("corpus.duckdb") as store: store.upsert(docs)
    model = lit.default_model()                                   # BC5CDR-trained, cached
    mentions = model.mentions(docs[0]); evidence = model.extract(docs[0], mentions)
    lit.evaluate_bc5cdr(model, "test")                            # NER / CID scores, throughput
    lit.summarize_entity(lit.evidence_frame(evidence), "HGNC:1100")
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Document": "documents", "Mention": "documents", "Relation": "documents", "ReadReport": "documents",
    "Problem": "documents",
    "read_documents": "io", "read_pubmed_xml": "io", "read_medline": "io", "read_pubtator": "io",
    "detect_format": "io",
    "CorpusStore": "store",
    "DictionaryNER": "ner", "NERConfig": "ner",
    "find_abbreviations": "abbreviations",
    "CIDRuleExtractor": "relations", "Evidence": "relations", "co_mentions": "relations",
    "EVIDENCE_COLUMNS": "relations",
    "LiteratureModel": "model", "build_model": "model", "default_model": "model",
    "evaluate_bc5cdr": "evaluate", "mention_scores": "evaluate", "relation_scores": "evaluate",
    "ingest": "pipeline", "extract": "pipeline", "merge": "pipeline", "evidence_frame": "pipeline",
    "evidence_to_edges": "pipeline", "load_evidence": "pipeline", "EXTRACTORS": "pipeline",
    "summarize_entity": "summarize", "write_summary": "summarize",
    "LLMRelationExtractor": "llm_extract",
    "load_vocabularies": "vocab",
    "EntrezClient": "entrez",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'discovery.literature' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_EXPORTS))
