"""Cited summaries of what the literature says about one entity.

Without an LLM the summary is *extractive*: evidence rows about the entity are
grouped by partner entity and predicate, ranked by the number of distinct
PMIDs and the best score, and each bullet quotes the strongest evidence
sentence with its PMIDs. With an LLM client the bullets are written by the
model from the retrieved evidence sentences only, and every bullet must cite
PMIDs among those retrieved (bullets citing anything else are dropped and
counted).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError


@dataclass
class Summary:
    entity: str
    name: str
    bullets: list[dict[str, Any]] = field(default_factory=list)
    method: str = "extractive"
    n_evidence: int = 0
    dropped: int = 0

    def markdown(self) -> str:
        lines = [f"## {self.name} ({self.entity})", "",
                 f"_{self.method} summary of {self.n_evidence} evidence sentences_", ""]
        for b in self.bullets:
            cites = ", ".join(f"PMID:{p}" for p in b["pmids"])
            lines.append(f"- {b['text']} [{cites}]")
        if not self.bullets:
            lines.append("- No evidence found in the corpus.")
        return "\n".join(lines) + "\n"

    def as_dict(self) -> dict[str, Any]:
        return {"entity": self.entity, "name": self.name, "method": self.method, "n_evidence": self.n_evidence,
                "dropped": self.dropped, "bullets": self.bullets}


def _select(evidence, entity: str):
    df = evidence
    hit = df[(df["subject_id"] == entity) | (df["object_id"] == entity)]
    return hit


def summarize_entity(evidence, entity: str, *, max_bullets: int = 8, llm=None, model: str | None = None) -> Summary:
    """Summary of the evidence about ``entity`` (an id such as ``HGNC:1100`` or ``MESH:D003693``).

    Parameters
    ----------
    evidence : DataFrame or path
        Evidence table (:func:`~discovery.literature.pipeline.load_evidence`).
    llm : discovery.llm.ChatClient, optional
        Write the bullets with this client, grounded in the retrieved sentences only.
    """
    import pandas as pd

    from .pipeline import load_evidence

    df = evidence if isinstance(evidence, pd.DataFrame) else load_evidence(evidence)
    if not re.match(r"^[A-Za-z]+:\S+$", entity):
        raise InputError("entity must be a prefixed id", value=entity, hint="e.g. HGNC:1100, MESH:D003693")
    hit = _select(df, entity)
    if hit.empty:
        return Summary(entity, entity, [], "extractive", 0)
    as_subj = hit["subject_id"] == entity
    name = (hit.loc[as_subj, "subject_name"].mode().iloc[0] if as_subj.any()
            else hit.loc[~as_subj, "object_name"].mode().iloc[0])
    rows = hit.assign(partner=hit["object_id"].where(as_subj, hit["subject_id"]),
                      partner_name=hit["object_name"].where(as_subj, hit["subject_name"]),
                      partner_type=hit["object_type"].where(as_subj, hit["subject_type"]))
    groups = []
    for (partner, predicate), g in rows.groupby(["partner", "predicate"], sort=False):
        pmids = sorted(set(g["pmid"]), key=lambda x: (len(x), x))
        best = g.sort_values(["score", "pmid"], ascending=[False, True]).iloc[0]
        groups.append((len(pmids), float(g["score"].max()), partner, predicate, best, pmids, g))
    # asserted relations before bare co-mentions, then by number of abstracts and score
    groups.sort(key=lambda t: (t[3] == "co_mentioned", -t[0], -t[1], t[2]))
    groups = groups[:max_bullets]
    if llm is None:
        bullets = []
        for n, score, partner, predicate, best, pmids, _g in groups:
            verb = {"induces": "is reported to induce" if best["subject_id"] == entity else "is reported as induced by",
                    "co_mentioned": "is mentioned with"}.get(predicate, predicate)
            bullets.append({"text": f"{name} {verb} {best['partner_name']} ({best['partner_type']}, {partner}) "
                                    f"in {n} abstract{'s' if n != 1 else ''}: \"{best['sentence']}\"",
                            "pmids": pmids[:10], "partner": partner, "predicate": predicate,
                            "score": round(score, 3)})
        return Summary(entity, name, bullets, "extractive", len(hit))
    return _llm_summary(llm, entity, name, groups, len(hit), model)


def _llm_summary(llm, entity, name, groups, n_evidence, model) -> Summary:
    sentences = []
    allowed: set[str] = set()
    for n, score, partner, predicate, best, pmids, g in groups:
        for _, r in g.sort_values("score", ascending=False).head(3).iterrows():
            sentences.append(f"[PMID:{r['pmid']}] {r['sentence']}")
            allowed.add(str(r["pmid"]))
    schema = {"type": "object", "properties": {"bullets": {"type": "array", "maxItems": 8, "items": {
        "type": "object", "properties": {"text": {"type": "string"},
                                         "pmids": {"type": "array", "items": {"type": "string", "pattern": "^[0-9]{1,9}$"}}},
        "required": ["text", "pmids"]}}}, "required": ["bullets"]}
    messages = [
        {"role": "system", "content": "You summarise biomedical evidence. Use only the sentences given. "
                                      "Every bullet cites the PMIDs of the sentences it uses."},
        {"role": "user", "content": f"Entity: {name} ({entity})\nEvidence sentences:\n" + "\n".join(sentences)
                                    + "\nWrite up to 8 short bullets as JSON."},
    ]
    res = llm.complete_json(messages, schema, model=model, private=False)
    bullets, dropped = [], 0
    for b in (res.data or {}).get("bullets", []) if res.ok else []:
        pm = [p for p in b.get("pmids", []) if p in allowed]
        if not pm or len(pm) != len(b.get("pmids", [])):
            dropped += 1
            continue
        bullets.append({"text": b.get("text", "").strip(), "pmids": pm})
    return Summary(entity, name, bullets, f"LLM ({res.model})", n_evidence, dropped)


def write_summary(summary: Summary, out) -> None:
    """Write ``summary.md``, ``summary.json`` and ``manifest.json`` (kind ``literature.summary``)."""
    import json
    from pathlib import Path

    from ..fsutil import atomic_dir
    from ..provenance import build_manifest, write_manifest

    with atomic_dir(Path(out)) as tmp:
        (tmp / "summary.md").write_text(summary.markdown())
        (tmp / "summary.json").write_text(json.dumps(summary.as_dict(), indent=2))
        write_manifest(tmp, build_manifest(kind="literature.summary", config={"entity": summary.entity,
                                                                              "method": summary.method},
                                           extra={"summary": summary.as_dict()}))
