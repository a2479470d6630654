"""Relation extraction with an LLM, every relation grounded in a verbatim evidence sentence.

The model sees the abstract and the chemicals and diseases the dictionary NER
found (so names map back to ids), and answers JSON under :data:`SCHEMA`:
``{"relations": [{"chemical", "disease", "evidence"}]}``. A relation is kept only when

1. its ``evidence`` occurs verbatim in the document text (whitespace runs may
   differ); otherwise it is dropped and counted as ``dropped_unverified``;
2. its chemical and disease names map to ids (a recognised mention with that
   text, case-insensitive, or a dictionary hit on the name); otherwise it is
   dropped and counted as ``dropped_unmapped``.

Requests that fail after the client's retries (timeouts, 5xx, invalid JSON)
are recorded per document in ``stats()["problems"]``; the batch goes on.
Abstracts are public text, so requests go out with ``private=False`` unless
the extractor is built with ``private=True``.
"""

from __future__ import annotations

import re
import threading
from typing import Any, Sequence

from .documents import Document, Mention
from .relations import Evidence

#: String fields are pattern-constrained: the answer stays valid, short JSON even from weak models.
_NAME = {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9 ,()'+-]{0,79}$"}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "relations": {
            "type": "array",
            "maxItems": 8,
            "items": {
                "type": "object",
                "properties": {
                    "chemical": _NAME,
                    "disease": _NAME,
                    "evidence": {"type": "string", "pattern": "^[^\"\\\\\\n]{1,400}$"},
                },
                "required": ["chemical", "disease", "evidence"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["relations"],
    "additionalProperties": False,
}

SYSTEM = ("You extract chemical-induced disease relations from biomedical abstracts. A relation means the text "
          "states or implies that the chemical causes the disease. For each relation copy ONE sentence from the "
          "abstract, verbatim, as evidence. Answer JSON only.")


def _norm_ws(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


def locate_evidence(text: str, evidence: str) -> tuple[int, int] | None:
    """Offsets of ``evidence`` in ``text`` (exact, else up to whitespace runs), or None."""
    ev = evidence.strip()
    if not ev:
        return None
    i = text.find(ev)
    if i >= 0:
        return i, i + len(ev)
    pattern = r"\s+".join(re.escape(w) for w in ev.split())
    m = re.search(pattern, text)
    return (m.start(), m.end()) if m else None


class LLMRelationExtractor:
    """CID extraction through :class:`discovery.llm.ChatClient`.

    Parameters
    ----------
    client : ChatClient, optional
        Default: built from ``DISCOVERY_LLM_*`` (:meth:`LLMConfig.from_env`) and the options.
    ner : DictionaryNER, optional
        Maps names without a matching mention to ids.
    private : bool
        Mark the abstracts private (blocked for remote endpoints unless allowed).
    """

    name = "llm"

    def __init__(self, client=None, ner=None, private: bool = False, schema: dict[str, Any] | None = None,
                 **client_options: Any) -> None:
        if client is None:
            from ..llm import ChatClient, LLMConfig

            client = ChatClient(LLMConfig.from_env(**client_options))
        self.client = client
        self.ner = ner
        self.private = private
        #: answer schema (default :data:`SCHEMA`; a stricter one may bound weak models further)
        self.schema = schema or SCHEMA
        self._lock = threading.Lock()
        self.counts = {"documents": 0, "requests_failed": 0, "proposed": 0, "kept": 0,
                       "dropped_unverified": 0, "dropped_unmapped": 0}
        self.problems: list[dict[str, Any]] = []

    def messages(self, doc: Document, mentions: Sequence[Mention]) -> list[dict[str, str]]:
        chems = sorted({m.text for m in mentions if m.type == "Chemical"})
        dis = sorted({m.text for m in mentions if m.type == "Disease"})
        user = (f"Abstract (PMID {doc.pmid}):\n{doc.text}\n\n"
                f"Chemicals found: {', '.join(chems) or 'none'}\nDiseases found: {', '.join(dis) or 'none'}\n"
                "List the chemical-induced disease relations.")
        return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]

    def _map(self, name: str, type_: str, mentions: Sequence[Mention]) -> tuple[str, Mention | None] | None:
        low = name.strip().lower()
        for m in mentions:
            if m.type == type_ and m.id and m.text.lower() == low:
                return m.id.split("|")[0], m
        if self.ner is not None:
            for m in self.ner.find(name):
                if m.type == type_ and m.id and m.end - m.start >= len(name.strip()) - 1:
                    return m.id.split("|")[0], None
        return None

    def extract(self, doc: Document, mentions: Sequence[Mention]) -> list[Evidence]:
        res = self.client.complete_json(self.messages(doc, mentions), self.schema, private=self.private)
        return self._from_result(doc, mentions, res)

    def extract_many(self, docs: Sequence[Document], mentions: Sequence[Sequence[Mention]]) -> list[list[Evidence]]:
        """Extract for many documents with the client's bounded concurrency (results in order)."""
        reqs = [(self.messages(d, m), self.schema) for d, m in zip(docs, mentions)]
        results = self.client.map_json(reqs, private=self.private)
        return [self._from_result(d, m, r) for d, m, r in zip(docs, mentions, results)]

    def _from_result(self, doc: Document, mentions: Sequence[Mention], res) -> list[Evidence]:
        text = doc.text
        out: list[Evidence] = []
        with self._lock:
            self.counts["documents"] += 1
            if not res.ok:
                self.counts["requests_failed"] += 1
                self.problems.append({"file": doc.source, "position": f"pmid {doc.pmid}", "pmid": doc.pmid,
                                      "reason": f"LLM request failed after {res.attempts} attempts: {res.error}"})
                return out
        seen = set()
        for r in res.data.get("relations", []):
            with self._lock:
                self.counts["proposed"] += 1
            span = locate_evidence(text, r["evidence"])
            if span is None:
                with self._lock:
                    self.counts["dropped_unverified"] += 1
                continue
            c = self._map(r["chemical"], "Chemical", mentions)
            d = self._map(r["disease"], "Disease", mentions)
            if c is None or d is None:
                with self._lock:
                    self.counts["dropped_unmapped"] += 1
                continue
            if (c[0], d[0]) in seen:
                continue
            seen.add((c[0], d[0]))
            s0, s1 = span
            cm, dm = c[1], d[1]
            out.append(Evidence(c[0], r["chemical"], "Chemical", "induces", d[0], r["disease"], "Disease", doc.pmid,
                                text[s0:s1], s0, s1, cm.start if cm else -1, cm.end if cm else -1,
                                dm.start if dm else -1, dm.end if dm else -1, "llm", 1.0))
            with self._lock:
                self.counts["kept"] += 1
        return out

    def stats(self) -> dict[str, Any]:
        return {**self.counts, "usage": self.client.usage.as_dict(), "problems": list(self.problems),
                "model": self.client.config.model, "endpoint": self.client.config.base_url}
