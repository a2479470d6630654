"""LLM parser of eligibility text through :mod:`discovery.llm` (JSON-schema structured output).

The text is split into items by the rule-based splitter (so every span is
exact), the numbered items go to the model in one request, and the model
answers with facts under :data:`SCHEMA`. Each fact must quote the words it
came from verbatim; a fact whose quote is not a substring of its item is
discarded (no invented spans) and the item stays in ``needs_review`` unless
another fact of it survives. Diagnoses and drugs the model names are mapped
to concept ids through the vocabulary (exact name or synonym first, then
contains), when one is given.

Privacy: eligibility criteria are protocol text, not patient data, so
requests are sent with ``private=False`` by default; the client's privacy
guard still checks every request (pass ``private=True`` to keep the text on
local endpoints only).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from .parser import VARIABLES, ParsedCriterion, ParsedEligibility, ParsedItem, split_items, split_sections

if TYPE_CHECKING:  # pragma: no cover
    from ..llm import ChatClient
    from .vocab import Vocabulary

log = logging.getLogger(__name__)

_VARS = sorted(v.name for v in VARIABLES) + ["other"]
_NUM = {"type": ["number", "null"]}
_BOOL = {"type": ["boolean", "null"]}
_STR = {"type": ["string", "null"]}

#: JSON schema of the model's answer (strict-mode compatible: every key required, nulls allowed).
SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["facts"],
    "properties": {"facts": {"type": "array", "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["item", "kind", "quote", "variable", "lower", "lower_inclusive", "upper", "upper_inclusive",
                     "unit", "sex", "concept_text", "within_days", "history"],
        "properties": {
            "item": {"type": "integer", "minimum": 1},
            "kind": {"type": "string", "enum": ["age", "sex", "numeric", "condition", "drug", "procedure"]},
            "quote": {"type": "string"},
            "variable": {"type": ["string", "null"], "enum": [*_VARS, None]},
            "lower": _NUM, "lower_inclusive": _BOOL, "upper": _NUM, "upper_inclusive": _BOOL,
            "unit": _STR,
            "sex": {"type": ["string", "null"], "enum": ["male", "female", None]},
            "concept_text": _STR,
            "within_days": {"type": ["integer", "null"]},
            "history": {"type": "boolean"},
        },
    }}},
}

SYSTEM = ("You extract structured eligibility criteria from clinical-trial protocol text. For each numbered item, list "
          "the facts it states: age bounds (kind age), sex restriction (kind sex), numeric thresholds of lab tests or "
          "vital signs (kind numeric, with variable from the allowed list, bounds as written, inclusive flags and unit), "
          "and diagnoses, drugs or procedures (kind condition/drug/procedure, with concept_text = the name as written). "
          "within_days: a time window such as 'within the last 6 months' in days. history: true for 'history of'. "
          "quote: the exact words of the item the fact comes from, copied verbatim. Give bounds as written, even in "
          "exclusion items. Items with nothing structured get no facts.")


def _prompt(items: list[ParsedItem]) -> str:
    lines = [f"{i}. [{it.section}] {it.text}" for i, it in enumerate(items, 1)]
    return "Items:\n" + "\n".join(lines)


def _concepts(vocab: "Vocabulary | None", text: str | None, kind: str) -> list[int] | None:
    if vocab is None or not text:
        return None
    domain = {"condition": "Condition", "drug": "Drug", "procedure": "Procedure"}[kind]
    for exact in (True, False):
        hits = vocab.search(text, domain=domain, exact=exact, limit=5)
        if len(hits):
            return [int(hits.iloc[0]["concept_id"])]
    return None


def parse_eligibility_llm(text: str, *, vocab: "Vocabulary | None" = None, trial_id: str | None = None,
                          client: "ChatClient | None" = None, private: bool = False) -> ParsedEligibility:
    """Parse an eligibility block with an LLM (see the module docstring).

    Parameters
    ----------
    client : ChatClient, optional
        Default: ``ChatClient(LLMConfig.from_env())`` (``DISCOVERY_LLM_URL`` ...).
    private : bool
        Treat the text as private (only local endpoints may receive it).

    Raises
    ------
    ConfigError
        No endpoint configured; :class:`~discovery.llm.PrivacyError` when the guard refuses.
    InputError
        The request failed after the client's retries (the error is named).
    """
    from ..errors import InputError

    if client is None:
        from ..llm import ChatClient, LLMConfig

        client = ChatClient(LLMConfig.from_env(max_tokens=2048))
    items: list[ParsedItem] = []
    for sec, s, e in split_sections(text):
        for a, b in split_items(text, s, e):
            items.append(ParsedItem(sec if sec != "unknown" else "inclusion", a, b, text[a:b]))
    if not items:
        return ParsedEligibility(text, items, trial_id)
    res = client.complete_json([{"role": "system", "content": SYSTEM}, {"role": "user", "content": _prompt(items)}],
                               SCHEMA, private=private)
    if not res.ok:
        raise InputError(f"LLM criteria parsing failed: {res.error}", hint="check the endpoint, or use --parser rules")
    dropped = 0
    for f in res.data["facts"]:
        k = f["item"] - 1
        if not 0 <= k < len(items):
            dropped += 1
            continue
        it = items[k]
        pos = it.text.find(f["quote"]) if f["quote"] else -1
        if pos < 0:
            dropped += 1  # quote not in the item: not trusted
            continue
        start = it.start + pos
        end = start + len(f["quote"])
        kind = f["kind"]
        if kind in ("condition", "drug", "procedure"):
            c = ParsedCriterion("concept", start, end, f["quote"], variable=f["concept_text"], domain=kind,
                                concept_ids=_concepts(vocab, f["concept_text"], kind))
        elif kind == "sex":
            c = ParsedCriterion("sex", start, end, f["quote"], sex=[f["sex"]] if f["sex"] else ["male", "female"])
        else:
            var = "age" if kind == "age" else f["variable"]
            if var in (None, "other") or (f["lower"] is None and f["upper"] is None):
                dropped += 1
                continue
            c = ParsedCriterion("age" if kind == "age" else "numeric", start, end, f["quote"], variable=var,
                                lower=f["lower"], lower_incl=f["lower_inclusive"] if f["lower"] is not None else None,
                                upper=f["upper"], upper_incl=f["upper_inclusive"] if f["upper"] is not None else None,
                                unit="year" if kind == "age" else (f["unit"] or None))
        if kind not in ("age", "sex"):
            c.window_days = f["within_days"]
            c.history = bool(f["history"]) and not f["within_days"]
        it.criteria.append(c)
    if dropped:
        log.warning("LLM parser: %d fact(s) dropped (quote not found in the item, or unusable)", dropped)
    return ParsedEligibility(text, items, trial_id)
