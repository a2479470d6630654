"""LLM criteria parser against a scripted OpenAI-compatible endpoint (offline)."""

from __future__ import annotations

import json

import httpx
import pytest

from discovery.cohorts import load_cdm
from discovery.cohorts.llm_parser import SCHEMA, parse_eligibility_llm
from discovery.cohorts.parser import to_trial_criteria
from discovery.llm import ChatClient, LLMConfig, PrivacyError

from cohorts_fixture import MIRROR_OMOP

TEXT = """Inclusion Criteria:
  - Adults aged 18 to 75 years
  - HbA1c >= 7% within the last 3 months
Exclusion Criteria:
  - History of type 2 diabetes mellitus
  - Informed consent not given
"""

FACTS = {"facts": [
    {"item": 1, "kind": "age", "quote": "aged 18 to 75 years", "variable": None, "lower": 18, "lower_inclusive": True,
     "upper": 75, "upper_inclusive": True, "unit": "year", "sex": None, "concept_text": None, "within_days": None, "history": False},
    {"item": 2, "kind": "numeric", "quote": "HbA1c >= 7%", "variable": "a1c", "lower": 7, "lower_inclusive": True,
     "upper": None, "upper_inclusive": None, "unit": "%", "sex": None, "concept_text": None, "within_days": 90, "history": False},
    {"item": 3, "kind": "condition", "quote": "type 2 diabetes mellitus", "variable": None, "lower": None,
     "lower_inclusive": None, "upper": None, "upper_inclusive": None, "unit": None, "sex": None,
     "concept_text": "type 2 diabetes mellitus", "within_days": None, "history": True},
    # an invented quote: must be dropped, item 4 stays for manual review
    {"item": 4, "kind": "condition", "quote": "dementia", "variable": None, "lower": None, "lower_inclusive": None,
     "upper": None, "upper_inclusive": None, "unit": None, "sex": None, "concept_text": "dementia", "within_days": None,
     "history": False},
]}


def _client(tmp_path, handler, url="http://127.0.0.1:9/v1"):
    cfg = LLMConfig(base_url=url, model="m", cache_dir=str(tmp_path / "c"), backoff_s=0.0, max_retries=0)
    return ChatClient(cfg, transport=httpx.MockTransport(handler))


def test_llm_parser_spans_vocab_and_review(tmp_path):
    seen = {}

    def handler(req):
        body = json.loads(req.content)
        seen["body"] = body
        return httpx.Response(200, json={"model": "m", "choices": [{"message": {"content": json.dumps(FACTS)}}],
                                         "usage": {"prompt_tokens": 1, "completion_tokens": 1}})

    vocab = load_cdm(MIRROR_OMOP / "Synthea27Nj_5.4.zip").vocab
    p = parse_eligibility_llm(TEXT, vocab=vocab, client=_client(tmp_path, handler))
    assert seen["body"]["response_format"]["json_schema"]["schema"] == SCHEMA
    assert "4. [exclusion] Informed consent not given" in seen["body"]["messages"][1]["content"]
    for it in p.items:
        for c in it.criteria:
            assert TEXT[c.start:c.end] == c.text
    age = p.items[0].criteria[0]
    assert (age.lower, age.upper, age.lower_incl) == (18, 75, True)
    assert p.items[1].criteria[0].window_days == 90
    dm = p.items[2].criteria[0]
    assert dm.concept_ids == [201826] and dm.history
    assert [i.text for i in p.needs_review] == ["Informed consent not given"]
    tc = to_trial_criteria(p)
    assert [r.type for r in tc.inclusion] == ["age", "measurement"] and tc.exclusion[0].type == "condition"


def test_llm_parser_privacy_and_failures(tmp_path):
    def handler(req):
        return httpx.Response(500, text="boom")

    with pytest.raises(PrivacyError):
        parse_eligibility_llm(TEXT, client=_client(tmp_path, handler, url="http://llm.example.com/v1"), private=True)
    from discovery.errors import InputError

    with pytest.raises(InputError, match="LLM criteria parsing failed: HTTP 500"):
        parse_eligibility_llm(TEXT, client=_client(tmp_path, handler))
