"""LLM relation extractor with a scripted endpoint: verbatim evidence kept, invented evidence dropped and counted."""

from __future__ import annotations

import json

import httpx

from discovery.literature.documents import Document, Mention
from discovery.literature.llm_extract import SCHEMA, LLMRelationExtractor, locate_evidence
from discovery.llm import ChatClient, LLMConfig

TITLE = "Famotidine-associated delirium."
ABSTRACT = "Six patients developed delirium after famotidine.  The delirium cleared after withdrawal."


def _doc():
    d = Document(pmid="8701013", title=TITLE, abstract=ABSTRACT, source="t.pubtator")
    t = d.text
    ms = [Mention(0, 10, "Famotidine", "Chemical", "MESH:D015738"),
          Mention(22, 30, "delirium", "Disease", "MESH:D003693")]
    i = t.index("famotidine")
    ms.append(Mention(i, i + 10, "famotidine", "Chemical", "MESH:D015738"))
    return d, ms


def _client(content, tmp_path, status=200):
    def handler(req):
        body = json.loads(req.content)
        assert body["response_format"]["schema"] == SCHEMA
        if status != 200:
            return httpx.Response(status, text="boom")
        return httpx.Response(200, json={"choices": [{"message": {"content": json.dumps(content)}}],
                                         "usage": {"prompt_tokens": 100, "completion_tokens": 20}})

    return ChatClient(LLMConfig(base_url="http://127.0.0.1:9/v1", dialect="llamacpp", cache_dir=str(tmp_path),
                                backoff_s=0, max_retries=1), transport=httpx.MockTransport(handler))


def test_locate_evidence_exact_and_whitespace():
    text = "A b.  C  d e."
    assert locate_evidence(text, "A b.") == (0, 4)
    assert locate_evidence(text, "C d e.") == (6, 13)
    assert locate_evidence(text, "C d f.") is None


def test_verbatim_evidence_kept_invented_dropped(tmp_path):
    d, ms = _doc()
    answer = {"relations": [
        {"chemical": "famotidine", "disease": "delirium",
         "evidence": "Six patients developed delirium after famotidine. The delirium cleared after withdrawal."},
        {"chemical": "famotidine", "disease": "delirium", "evidence": "Famotidine is known to cause delirium."},
        {"chemical": "aspirinol", "disease": "delirium", "evidence": "Famotidine-associated delirium."},
    ]}
    ex = LLMRelationExtractor(client=_client(answer, tmp_path))
    rows = ex.extract(d, ms)
    assert len(rows) == 1
    r = rows[0]
    assert (r.subject_id, r.object_id, r.extractor) == ("MESH:D015738", "MESH:D003693", "llm")
    assert d.text[r.sentence_start:r.sentence_end] == r.sentence  # quoted from the document itself
    st = ex.stats()
    assert st["proposed"] == 3 and st["kept"] == 1 and st["dropped_unverified"] == 1 and st["dropped_unmapped"] == 1
    assert st["usage"]["prompt_tokens"] == 100


def test_failed_requests_are_recorded_per_document(tmp_path):
    d, ms = _doc()
    ex = LLMRelationExtractor(client=_client(None, tmp_path, status=500))
    assert ex.extract(d, ms) == []
    st = ex.stats()
    assert st["requests_failed"] == 1 and st["problems"][0]["pmid"] == "8701013"
    assert "HTTP 500" in st["problems"][0]["reason"]


def test_llm_summary_keeps_only_bullets_citing_retrieved_pmids(tmp_path):
    from discovery.literature.pipeline import evidence_frame
    from discovery.literature.relations import Evidence
    from discovery.literature.summarize import summarize_entity

    rows = [Evidence("HGNC:1100", "BRCA1", "Gene", "co_mentioned", "MESH:D001943", "breast cancer", "Disease", p,
                     f"BRCA1 and breast cancer ({p}).", 0, 20, 0, 5, 10, 23, "co-mention", 0.5) for p in ("11", "22")]
    answer = {"bullets": [{"text": "BRCA1 is linked to breast cancer.", "pmids": ["11", "22"]},
                          {"text": "BRCA1 cures everything.", "pmids": ["99"]},
                          {"text": "Half grounded.", "pmids": ["11", "98"]}]}
    seen = {}

    def handler(req):
        seen["body"] = json.loads(req.content)
        return httpx.Response(200, json={"choices": [{"message": {"content": json.dumps(answer)}}]})

    c = ChatClient(LLMConfig(base_url="http://127.0.0.1:9/v1", cache_dir="", backoff_s=0),
                   transport=httpx.MockTransport(handler))
    s = summarize_entity(evidence_frame(rows), "HGNC:1100", llm=c)
    assert s.method.startswith("LLM") and s.dropped == 2
    assert s.bullets == [{"text": "BRCA1 is linked to breast cancer.", "pmids": ["11", "22"]}]
    prompt = seen["body"]["messages"][1]["content"]
    assert "[PMID:11] BRCA1 and breast cancer (11)." in prompt  # grounded only in retrieved sentences
