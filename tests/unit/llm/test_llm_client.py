"""Chat client against scripted HTTP transports: dialects, cache, retries, timeouts, tokens, concurrency."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

from discovery.llm import ChatClient, LLMConfig, PrivacyError
from discovery.llm.structured import request_body

SCHEMA = {"type": "object", "properties": {"answer": {"type": "string", "pattern": "^[a-z]+$"}},
          "required": ["answer"], "additionalProperties": False}
MSG = [{"role": "user", "content": "say hi"}]


def openai_reply(content: str, prompt=7, completion=3) -> httpx.Response:
    return httpx.Response(200, json={"model": "m", "choices": [{"message": {"role": "assistant", "content": content}}],
                                     "usage": {"prompt_tokens": prompt, "completion_tokens": completion}})


def client(handler, tmp_path, base_url="http://127.0.0.1:9/v1", **kw) -> ChatClient:
    cfg = LLMConfig(base_url=base_url, model="m", cache_dir=str(tmp_path / "cache"),
                    backoff_s=0.0, **kw)
    return ChatClient(cfg, transport=httpx.MockTransport(handler))


@pytest.mark.parametrize("dialect", ["openai", "llamacpp", "ollama"])
def test_dialect_request_bodies(dialect):
    path, body = request_body(dialect, model="m", messages=MSG, schema=SCHEMA)
    if dialect == "openai":
        assert path == "/chat/completions"
        assert body["response_format"] == {"type": "json_schema",
                                           "json_schema": {"name": "result", "schema": SCHEMA, "strict": True}}
    elif dialect == "llamacpp":
        assert body["response_format"] == {"type": "json_object", "schema": SCHEMA}
    else:
        assert path == "/api/chat" and body["format"] == SCHEMA and body["stream"] is False


def test_ollama_roundtrip_and_token_accounting(tmp_path):
    seen = {}

    def handler(req):
        seen["path"] = req.url.path
        seen["body"] = json.loads(req.content)
        return httpx.Response(200, json={"model": "llama3", "message": {"role": "assistant", "content": '{"answer": "hi"}'},
                                         "prompt_eval_count": 11, "eval_count": 5})

    c = client(handler, tmp_path, base_url="http://127.0.0.1:11434", dialect="ollama")
    res = c.complete_json(MSG, SCHEMA)
    assert res.ok and res.data == {"answer": "hi"} and seen["path"] == "/api/chat"
    assert seen["body"]["format"] == SCHEMA
    assert c.usage.prompt_tokens == 11 and c.usage.completion_tokens == 5


def test_cache_hit_sends_nothing(tmp_path):
    calls = []

    def handler(req):
        calls.append(1)
        return openai_reply('{"answer": "hi"}')

    c = client(handler, tmp_path)
    a = c.complete_json(MSG, SCHEMA)
    b = c.complete_json(MSG, SCHEMA)
    assert a.ok and b.ok and b.cached and not a.cached and len(calls) == 1
    assert c.usage.cache_hits == 1 and c.usage.requests == 1 and c.usage.prompt_tokens == 7
    # another model name is another key
    c.complete_json(MSG, SCHEMA, model="other")
    assert len(calls) == 2
    # a fresh client on the same cache folder hits too
    c2 = client(handler, tmp_path)
    assert c2.complete_json(MSG, SCHEMA).cached and len(calls) == 2


def test_retries_5xx_and_invalid_json_then_succeeds(tmp_path):
    replies = [httpx.Response(503, text="busy"), openai_reply("not json"), openai_reply('{"answer": "OK!"}'),
               openai_reply('{"answer": "ok"}')]

    def handler(req):
        return replies.pop(0)

    c = client(handler, tmp_path, max_retries=3)
    res = c.complete_json(MSG, SCHEMA)
    assert res.ok and res.data == {"answer": "ok"} and res.attempts == 4 and c.usage.retries == 3


def test_gives_up_and_records_error(tmp_path):
    c = client(lambda req: openai_reply('{"answer": 5}'), tmp_path, max_retries=2)
    res = c.complete_json(MSG, SCHEMA)
    assert not res.ok and res.attempts == 3 and "schema violation at answer" in res.error
    assert c.usage.failures == 1


def test_client_error_is_not_retried(tmp_path):
    calls = []

    def handler(req):
        calls.append(1)
        return httpx.Response(400, text="bad request: unknown field")

    res = client(handler, tmp_path, max_retries=3).complete_json(MSG, SCHEMA)
    assert not res.ok and len(calls) == 1 and res.error.startswith("HTTP 400")


def test_timeouts_and_dropped_connections_are_retried(tmp_path):
    n = {"i": 0}

    def handler(req):
        n["i"] += 1
        if n["i"] == 1:
            raise httpx.ReadTimeout("slow", request=req)
        if n["i"] == 2:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=req)
        return openai_reply('{"answer": "yes"}')

    res = client(handler, tmp_path).complete_json(MSG, SCHEMA)
    assert res.ok and res.attempts == 3


def test_concurrency_is_bounded_and_order_kept(tmp_path):
    lock = threading.Lock()
    state = {"now": 0, "max": 0}

    def handler(req):
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        time.sleep(0.05)
        word = json.loads(req.content)["messages"][0]["content"].split()[-1]
        with lock:
            state["now"] -= 1
        return openai_reply(json.dumps({"answer": word}))

    c = client(handler, tmp_path, concurrency=3)
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
    res = c.map_json([([{"role": "user", "content": f"say {w}"}], SCHEMA) for w in words])
    assert [r.data["answer"] for r in res] == words
    assert 2 <= state["max"] <= 3


def test_privacy_blocks_before_any_request(tmp_path):
    calls = []

    def handler(req):
        calls.append(1)
        return openai_reply('{"answer": "hi"}')

    cfg = LLMConfig(base_url="https://llm.example.com/v1", cache_dir="", backoff_s=0)
    c = ChatClient(cfg, transport=httpx.MockTransport(handler))
    with pytest.raises(PrivacyError):
        c.complete_json(MSG, SCHEMA)  # private by default
    with pytest.raises(PrivacyError):
        c.map_json([(MSG, SCHEMA)], private=True)
    assert calls == []
    assert c.complete_json(MSG, SCHEMA, private=False).ok and len(calls) == 1


def test_from_env_requires_an_endpoint(monkeypatch):
    from discovery.errors import ConfigError

    monkeypatch.delenv("DISCOVERY_LLM_URL", raising=False)
    with pytest.raises(ConfigError, match="no LLM endpoint"):
        LLMConfig.from_env()
    monkeypatch.setenv("DISCOVERY_LLM_URL", "http://127.0.0.1:8080/v1")
    monkeypatch.setenv("DISCOVERY_LLM_DIALECT", "llamacpp")
    cfg = LLMConfig.from_env(model="qwen", concurrency=None)
    assert cfg.dialect == "llamacpp" and cfg.model == "qwen" and cfg.concurrency == 4
