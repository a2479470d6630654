"""Rule-based relation extraction with sentence evidence.

Chemical-induced disease (CID) at document level, as BioCreative V CDR scores it:
every (chemical id, disease id) pair of a document is described by rule
features (sentence co-occurrence, "X-induced Y" patterns, causal and
therapeutic trigger words, negation, title position, mention frequency, and a
prior from pairs annotated in the training corpus); a logistic score over the
features (weights fitted on annotated documents, :meth:`CIDRuleExtractor.fit`)
gives each pair a probability, and pairs above ``threshold`` are relations.
Gene-disease and chemical-gene pairs are reported as sentence co-mentions
(``co_mentioned``) scored by trigger words.

Every relation carries an evidence sentence quoted verbatim from the document
with its character offsets (:class:`Evidence`).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from ..errors import ModelFormatError
from .documents import Document, Mention
from .sentences import split_sentences

CAUSAL = re.compile(r"\b(?:induc\w*|caus\w*|associated|provok\w*|produc\w*|elicit\w*|develop\w*|"
                    r"due to|following|after|secondary to|toxicity|side[- ]effects?|adverse|complication\w*|"
                    r"resulted in|led to|precipitat\w*|related|attributed|exacerbat\w*|aggravat\w*|risk)\b", re.I)
THERAPY = re.compile(r"\b(?:treat\w*|therap\w*|prevent\w*|protect\w*|attenuat\w*|revers\w*|ameliorat\w*|"
                     r"reduc\w*|inhibit\w*|improv\w*|manag\w*|efficacy|effective|relie\w*|alleviat\w*|"
                     r"antagoni\w*|suppress\w*)\b", re.I)
NEGATION = re.compile(r"\b(?:no|not|without|neither|nor|absence|absent|failed to|unlikely|none)\b", re.I)
INDUCED = re.compile(r"[\s-]*(?:\w+[\s-]+){0,2}?(?:induced|associated|related|evoked|provoked|caused)\b", re.I)

FEATURES = (
    "bias", "cooc_any", "cooc_log", "induced_pattern", "causal_cooc", "therapy_cooc", "negated_cooc",
    "chem_title", "dis_title", "both_title", "chem_top", "dis_top", "chem_log", "dis_log",
    "known_pair", "min_dist_log", "chem_only_mesh", "dis_hypernym",
)


@dataclass
class Evidence:
    """One row of the evidence table (see :data:`EVIDENCE_COLUMNS`)."""

    subject_id: str
    subject_name: str
    subject_type: str
    predicate: str
    object_id: str
    object_name: str
    object_type: str
    pmid: str
    sentence: str
    sentence_start: int
    sentence_end: int
    subject_start: int
    subject_end: int
    object_start: int
    object_end: int
    extractor: str
    score: float


EVIDENCE_COLUMNS = tuple(Evidence.__dataclass_fields__)


def _first_id(m: Mention) -> str | None:
    return m.id.split("|")[0] if m.id else None


@dataclass
class _Pair:
    chem: str
    dis: str
    feats: dict[str, float] = field(default_factory=dict)
    best: tuple[float, int, int, Mention, Mention] | None = None  # (rank, sent_start, sent_end, chem m, dis m)


def _sentence_of(spans: list[tuple[int, int]], pos: int) -> int:
    lo, hi = 0, len(spans) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if spans[mid][0] <= pos:
            lo = mid
        else:
            hi = mid - 1
    return lo


class CIDRuleExtractor:
    """Scored rules for chemical-induced disease relations.

    Parameters
    ----------
    weights : dict, optional
        Feature -> weight of the logistic score; default: hand-set weights (used
        until :meth:`fit` is called).
    threshold : float
        Probability above which a pair is reported.
    known_pairs : set of (str, str), optional
        ``(chemical id, disease id)`` pairs known from annotated documents (a prior).
    """

    name = "rules"

    DEFAULT_WEIGHTS = {"bias": -3.0, "cooc_any": 1.5, "induced_pattern": 2.0, "causal_cooc": 1.0,
                       "therapy_cooc": -1.0, "negated_cooc": -0.5, "chem_title": 1.0, "dis_title": 0.8,
                       "both_title": 0.8, "chem_top": 0.8, "dis_top": 0.3, "known_pair": 1.5}

    def __init__(self, weights: dict[str, float] | None = None, threshold: float = 0.5,
                 known_pairs: set[tuple[str, str]] | None = None, at_least_one: bool = False,
                 trees: dict[str, list[str]] | None = None) -> None:
        self.weights = dict(self.DEFAULT_WEIGHTS if weights is None else weights)
        self.threshold = threshold
        #: report the best pair of a document even below the threshold (BC5CDR abstracts were
        #: selected to contain a CID relation; off for general literature)
        self.at_least_one = at_least_one
        #: MeSH tree numbers of disease ids: a disease that is an ancestor of another disease of the
        #: same document gets the ``dis_hypernym`` feature (BC5CDR annotates the most specific one)
        self.trees = dict(trees or {})
        self.known_pairs = set(known_pairs or ())

    # ------------------------------------------------------------------ features
    def candidates(self, doc: Document, mentions: Sequence[Mention],
                   spans: list[tuple[int, int]] | None = None) -> list[_Pair]:
        """Feature dicts of every (chemical id, disease id) pair of a document."""
        text = doc.text
        if spans is None:
            spans = split_sentences(text, len(doc.title) if doc.abstract else None)
        flags: dict[int, tuple[bool, bool, bool]] = {}
        title_end = len(doc.title)
        chems: dict[str, list[Mention]] = defaultdict(list)
        dises: dict[str, list[Mention]] = defaultdict(list)
        for m in mentions:
            i = _first_id(m)
            if not i:
                continue
            if m.type == "Chemical":
                chems[i].append(m)
            elif m.type == "Disease":
                dises[i].append(m)
        if not chems or not dises:
            return []
        sent_of = {id(m): _sentence_of(spans, m.start) for ms in (*chems.values(), *dises.values()) for m in ms}
        hyper = self._hypernyms(list(dises))
        top_c = max(len(v) for v in chems.values())
        top_d = max(len(v) for v in dises.values())
        out = []
        for c, cms in chems.items():
            for d, dms in dises.items():
                p = _Pair(c, d)
                f = dict.fromkeys(FEATURES, 0.0)
                f["bias"] = 1.0
                cooc = 0
                min_dist = 10_000
                for cm in cms:
                    for dm in dms:
                        sc, sd = sent_of[id(cm)], sent_of[id(dm)]
                        min_dist = min(min_dist, abs(sc - sd))
                        if sc != sd:
                            continue
                        cooc += 1
                        s0, s1 = spans[sc]
                        fl = flags.get(sc)
                        if fl is None:  # trigger words of a sentence, looked up once per document
                            sent = text[s0:s1]
                            fl = flags[sc] = (CAUSAL.search(sent) is not None, THERAPY.search(sent) is not None,
                                              NEGATION.search(sent) is not None)
                        rank = 1.0
                        if cm.end <= dm.start and dm.start - cm.end < 60 and INDUCED.match(text, cm.end, dm.start + 1):
                            f["induced_pattern"] = 1.0
                            rank += 3
                        if fl[0]:
                            f["causal_cooc"] = 1.0
                            rank += 1
                        if fl[1]:
                            f["therapy_cooc"] = 1.0
                            rank -= 0.5
                        if fl[2]:
                            f["negated_cooc"] = 1.0
                            rank -= 0.5
                        if p.best is None or rank > p.best[0]:
                            p.best = (rank, s0, s1, cm, dm)
                f["cooc_any"] = float(cooc > 0)
                f["cooc_log"] = math.log1p(cooc)
                f["chem_title"] = float(any(m.start < title_end for m in cms))
                f["dis_title"] = float(any(m.start < title_end for m in dms))
                f["both_title"] = f["chem_title"] * f["dis_title"]
                f["chem_top"] = float(len(cms) == top_c)
                f["dis_top"] = float(len(dms) == top_d)
                f["chem_log"] = math.log1p(len(cms))
                f["dis_log"] = math.log1p(len(dms))
                f["known_pair"] = float((c, d) in self.known_pairs)
                f["min_dist_log"] = math.log1p(min_dist)
                f["chem_only_mesh"] = float(c.startswith("MESH:"))
                f["dis_hypernym"] = float(d in hyper)
                p.feats = f
                if p.best is None:
                    # no shared sentence: the first chemical and disease mentions, the sentence of the
                    # disease as evidence (document-level relation)
                    cm, dm = cms[0], dms[0]
                    s0, s1 = spans[sent_of[id(dm)]]
                    p.best = (0.0, s0, s1, cm, dm)
                out.append(p)
        return out

    def _hypernyms(self, ids: list[str]) -> set[str]:
        """Ids among ``ids`` whose tree number is a proper prefix of another id's tree number."""
        if not self.trees or len(ids) < 2:
            return set()
        out = set()
        for a in ids:
            ta = self.trees.get(a)
            if not ta:
                continue
            for b in ids:
                if a == b:
                    continue
                tb = self.trees.get(b)
                if tb and any(y.startswith(x + ".") for x in ta for y in tb):
                    out.add(a)
                    break
        return out

    def score(self, pair: _Pair) -> float:
        z = sum(self.weights.get(k, 0.0) * v for k, v in pair.feats.items())
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    # ------------------------------------------------------------------ fit
    def fit(self, docs: Sequence[Document], mentions: Sequence[Sequence[Mention]], *, l2: float = 1.0,
            epochs: int = 2000, lr: float = 1.0, use_known_pairs: bool = True) -> "CIDRuleExtractor":
        """Fit the feature weights by L2-regularised logistic regression on annotated documents.

        ``mentions`` are the *predicted* mentions of each document, so the weights are
        fitted end to end. With ``use_known_pairs`` the gold CID pairs of ``docs``
        become the prior; to avoid fitting the prior's weight on its own labels, each
        document's prior comes from the *other* documents (leave-one-document-out).
        """
        gold_counts: Counter = Counter()
        per_doc = []
        for d in docs:
            g = {(r.subject.split("|")[0], r.object.split("|")[0]) for r in d.relations if r.type == "CID"}
            per_doc.append(g)
            gold_counts.update(g)
        X, y = [], []
        for d, ms, g in zip(docs, mentions, per_doc):
            self.known_pairs = {k for k, v in gold_counts.items() if v - (k in g) > 0} if use_known_pairs else set()
            for p in self.candidates(d, ms):
                X.append([p.feats[k] for k in FEATURES])
                y.append(float((p.chem, p.dis) in g))
        self.known_pairs = set(gold_counts) if use_known_pairs else set()
        if not X:
            return self
        Xa = np.asarray(X, dtype=np.float64)
        ya = np.asarray(y, dtype=np.float64)
        w = np.zeros(Xa.shape[1])
        n = len(ya)
        for _ in range(epochs):  # full-batch gradient descent; deterministic
            z = np.clip(Xa @ w, -30, 30)
            pr = 1 / (1 + np.exp(-z))
            grad = Xa.T @ (pr - ya) / n + l2 * w / n
            w -= lr * grad
        self.weights = {k: float(v) for k, v in zip(FEATURES, w)}
        return self

    def tune_threshold(self, docs: Sequence[Document], mentions: Sequence[Sequence[Mention]]) -> float:
        """Pick the threshold that maximises CID F1 on ``docs`` (e.g. a development set)."""
        from .evaluate import relation_scores

        scored = [[(p, self.score(p)) for p in self.candidates(d, ms)] for d, ms in zip(docs, mentions)]
        best = (self.threshold, -1.0)
        for t in np.arange(0.1, 0.9, 0.025):
            pred = []
            for ps in scored:
                top = max((s for _, s in ps), default=None)
                pred.append([(p.chem, p.dis) for p, s in ps if s >= t or (self.at_least_one and s == top)])
            f = relation_scores(docs, pred)["f1"]
            if f > best[1]:
                best = (float(round(t, 3)), f)
        self.threshold = best[0]
        return best[0]

    # ------------------------------------------------------------------ extract
    def extract(self, doc: Document, mentions: Sequence[Mention],
                spans: list[tuple[int, int]] | None = None) -> list[Evidence]:
        """CID relations of one document, each with its evidence sentence."""
        text = doc.text
        out = []
        cands = [(p, self.score(p)) for p in self.candidates(doc, mentions, spans)]
        top = max((s for _, s in cands), default=None)
        for p, s in cands:
            if s < self.threshold and not (self.at_least_one and s == top):
                continue
            _, s0, s1, cm, dm = p.best
            out.append(Evidence(p.chem, cm.text, "Chemical", "induces", p.dis, dm.text, "Disease", doc.pmid,
                                text[s0:s1], s0, s1, cm.start, cm.end, dm.start, dm.end, self.name, round(s, 4)))
        return out

    def pairs(self, doc: Document, mentions: Sequence[Mention]) -> list[tuple[str, str]]:
        return [(e.subject_id, e.object_id) for e in self.extract(doc, mentions)]

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict:
        return {"format_version": 1, "weights": self.weights, "threshold": self.threshold,
                "at_least_one": self.at_least_one, "trees": self.trees,
                "known_pairs": sorted(list(p) for p in self.known_pairs)}

    @classmethod
    def from_dict(cls, d: dict) -> "CIDRuleExtractor":
        if d.get("format_version") != 1:
            raise ModelFormatError(f"relation model format {d.get('format_version')} (this version reads 1)")
        return cls(d["weights"], d["threshold"], {tuple(p) for p in d["known_pairs"]}, d.get("at_least_one", False),
                   d.get("trees"))


def co_mentions(doc: Document, mentions: Sequence[Mention],
                pairs: Iterable[tuple[str, str]] = (("Gene", "Disease"), ("Chemical", "Gene")),
                spans: list[tuple[int, int]] | None = None) -> list[Evidence]:
    """Sentence-level co-mentions of the given type pairs (one row per id pair and sentence).

    Score: 0.5 for a bare co-mention, +0.25 with a causal or therapeutic trigger word
    in the sentence, -0.25 with a negation.
    """
    text = doc.text
    wanted = {t for p in pairs for t in p}
    if len({m.type for m in mentions if m.id and m.type in wanted}) < 2:
        return []
    if spans is None:
        spans = split_sentences(text, len(doc.title) if doc.abstract else None)
    by_sent: dict[int, list[Mention]] = defaultdict(list)
    for m in mentions:
        if m.id and m.type in wanted:
            by_sent[_sentence_of(spans, m.start)].append(m)
    out: list[Evidence] = []
    for si, ms in sorted(by_sent.items()):
        if len({m.type for m in ms}) < 2:
            continue
        s0, s1 = spans[si]
        sent = text[s0:s1]
        base = 0.5 + (0.25 if (CAUSAL.search(sent) or THERAPY.search(sent)) else 0.0) - (
            0.25 if NEGATION.search(sent) else 0.0)
        seen: set[tuple[str, str]] = set()
        for ta, tb in pairs:
            for a in ms:
                if a.type != ta:
                    continue
                for b in ms:
                    if b.type != tb or b is a:
                        continue
                    ia, ib = _first_id(a), _first_id(b)
                    if ia == ib or (ia, ib) in seen:
                        continue
                    seen.add((ia, ib))
                    out.append(Evidence(ia, a.text, ta, "co_mentioned", ib, b.text, tb, doc.pmid, sent, s0, s1,
                                        a.start, a.end, b.start, b.end, "co-mention", round(base, 4)))
    return out
