"""BC5CDR-style evaluation of mentions and relations.

- Strict mention level: a prediction is correct when start, end and type equal a
  gold mention's (ids ignored). Precision, recall, F1 per type.
- Document-level ids (the BioCreative V normalization measure): per document the
  set of ``(type, id)`` pairs; composite gold ids (``D1|D2``) count each part,
  ``-1`` ids are ignored.
- CID relations: per document the set of ``(chemical id, disease id)`` pairs,
  micro-averaged over documents.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from .documents import Document, Mention


@dataclass
class PRF:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "precision": round(self.precision, 4),
                "recall": round(self.recall, 4), "f1": round(self.f1, 4)}


def _strip(i: str) -> str:
    return i.split(":", 1)[1] if i.startswith("MESH:") else i


def mention_scores(gold_docs: Sequence[Document], predicted: Sequence[Sequence[Mention]],
                   types: Iterable[str] = ("Chemical", "Disease")) -> dict[str, dict]:
    """Strict mention P/R/F1 per type and document-level id P/R/F1 per type.

    Returns
    -------
    dict
        ``{"mention": {type: prf, "all": prf}, "doc_id": {type: prf, "all": prf}}``
    """
    types = tuple(types)
    mention = {t: PRF() for t in (*types, "all")}
    docid = {t: PRF() for t in (*types, "all")}
    for doc, pred in zip(gold_docs, predicted):
        g = {(m.start, m.end, m.type) for m in doc.mentions if m.type in types}
        p = {(m.start, m.end, m.type) for m in pred if m.type in types}
        for t in types:
            gt = {x for x in g if x[2] == t}
            pt = {x for x in p if x[2] == t}
            for key in (t, "all"):
                mention[key].tp += len(gt & pt)
                mention[key].fp += len(pt - gt)
                mention[key].fn += len(gt - pt)
        gi = {(m.type, _strip(i)) for m in doc.mentions if m.type in types and m.id for i in m.id.split("|")}
        pi = {(m.type, _strip(m.id)) for m in pred if m.type in types and m.id}
        for t in types:
            gt = {x for x in gi if x[0] == t}
            pt = {x for x in pi if x[0] == t}
            for key in (t, "all"):
                docid[key].tp += len(gt & pt)
                docid[key].fp += len(pt - gt)
                docid[key].fn += len(gt - pt)
    return {"mention": {k: v.as_dict() for k, v in mention.items()},
            "doc_id": {k: v.as_dict() for k, v in docid.items()}}


def relation_scores(gold_docs: Sequence[Document], predicted: Sequence[Iterable[tuple[str, str]]]) -> dict:
    """Micro P/R/F1 of document-level ``(chemical id, disease id)`` pairs (``MESH:`` prefix ignored)."""
    prf = PRF()
    for doc, pred in zip(gold_docs, predicted):
        g = {(_strip(r.subject), _strip(r.object)) for r in doc.relations if r.type == "CID"}
        p = {(_strip(a), _strip(b)) for a, b in pred}
        prf.tp += len(g & p)
        prf.fp += len(p - g)
        prf.fn += len(g - p)
    return prf.as_dict()


#: Published figures the report puts next to ours (BC5CDR test set).
ANCHORS = {
    "ner_goal": {"Chemical": 0.85, "Disease": 0.80},
    "ner_naive_train_dictionary": {"Chemical": 0.79, "Disease": 0.75},
    "ner_scispacy_en_ner_bc5cdr_md_overall": 0.84,
    "ner_tmchem_chemical_normalization_f1": 0.91,
    "ner_dnorm_disease_normalization_f1": 0.81,
    "cid_goal": 0.45,
    "cid_best_2015_challenge": 0.57,
    "throughput_goal_abstracts_per_s_per_core": 2000,
}


def evaluate_bc5cdr(model, split: str = "test", limit: int | None = None, relation_extractor=None,
                    docs: Sequence[Document] | None = None) -> dict:
    """NER (strict mention, document-level ids) and CID scores of ``model`` on a BC5CDR split.

    Parameters
    ----------
    model : LiteratureModel
    split : {"train", "dev", "test"}
    limit : int, optional
        Only the first ``limit`` documents (CI subset).
    relation_extractor : object with ``extract(doc, mentions)``, optional
        Default: the model's rule extractor.

    Returns
    -------
    dict
        ``{"split", "n_docs", "ner": {...}, "cid": {...}, "throughput": {...}}``; throughput in
        abstracts per second on one core (this process is single-threaded).
    """
    import time

    from .model import _bc5cdr

    docs = list(docs) if docs is not None else _bc5cdr(split)
    if limit:
        docs = docs[:limit]
    c0, t0 = time.process_time(), time.perf_counter()
    pred = [model.mentions(d) for d in docs]
    c1, t1 = time.process_time(), time.perf_counter()
    ex = relation_extractor or model.cid
    rel = []
    for d, p in zip(docs, pred):
        rel.append([(e.subject_id, e.object_id) for e in ex.extract(d, p) if e.predicate == "induces"])
    c2, t2 = time.process_time(), time.perf_counter()
    ner = mention_scores(docs, pred)
    return {
        "split": split, "n_docs": len(docs), "ner": ner, "cid": relation_scores(docs, rel),
        "extractor": getattr(ex, "name", "rules"),
        "throughput": {"ner_abstracts_per_s": round(len(docs) / (t1 - t0), 1),
                       "ner_plus_cid_abstracts_per_s": round(len(docs) / (t2 - t0), 1),
                       "cid_abstracts_per_s": round(len(docs) / (t2 - t1), 1) if t2 > t1 else None,
                       # CPU seconds of this (single-threaded) process: per-core speed, less
                       # sensitive to other jobs sharing the machine than wall time
                       "ner_abstracts_per_cpu_s": round(len(docs) / max(c1 - c0, 1e-9), 1),
                       "ner_plus_cid_abstracts_per_cpu_s": round(len(docs) / max(c2 - c0, 1e-9), 1)},
        "anchors": ANCHORS,
    }
