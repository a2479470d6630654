"""JSON-schema structured output in the dialects real servers speak.

========== ================================ ===========================================
dialect    endpoint                          request field
========== ================================ ===========================================
openai     ``POST {base}/chat/completions``  ``response_format: {type: json_schema,
                                             json_schema: {name, schema, strict}}``
           (OpenAI, vLLM, SGLang, LM Studio)
llamacpp   ``POST {base}/chat/completions``  ``response_format: {type: json_object,
                                             schema}`` (llama.cpp server,
                                             llama-cpp-python server)
ollama     ``POST {base}/api/chat``          ``format: <schema>`` (Ollama native API)
========== ================================ ===========================================
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import ConfigError

DIALECTS = ("openai", "llamacpp", "ollama")


def request_body(dialect: str, *, model: str, messages: list[dict[str, str]], schema: dict[str, Any] | None,
                 temperature: float = 0.0, max_tokens: int = 512, seed: int | None = 0,
                 schema_name: str = "result") -> tuple[str, dict[str, Any]]:
    """Path (relative to the base URL) and JSON body of one chat request."""
    if dialect not in DIALECTS:
        raise ConfigError(f"unknown LLM dialect {dialect!r}", value=dialect, hint=f"one of {list(DIALECTS)}")
    if dialect == "ollama":
        body: dict[str, Any] = {"model": model, "messages": messages, "stream": False,
                                "options": {"temperature": temperature, "num_predict": max_tokens}}
        if seed is not None:
            body["options"]["seed"] = seed
        if schema is not None:
            body["format"] = schema
        return "/api/chat", body
    body = {"model": model, "messages": messages, "temperature": temperature, "max_tokens": max_tokens}
    if seed is not None:
        body["seed"] = seed
    if schema is not None:
        if dialect == "openai":
            body["response_format"] = {"type": "json_schema",
                                       "json_schema": {"name": schema_name, "schema": schema, "strict": True}}
        else:
            body["response_format"] = {"type": "json_object", "schema": schema}
    return "/chat/completions", body


def parse_response(dialect: str, payload: dict[str, Any]) -> tuple[str, dict[str, int], str | None]:
    """Message text, token usage ``{prompt_tokens, completion_tokens}`` and model name of a response."""
    if dialect == "ollama":
        text = (payload.get("message") or {}).get("content", "")
        usage = {"prompt_tokens": int(payload.get("prompt_eval_count") or 0),
                 "completion_tokens": int(payload.get("eval_count") or 0)}
        return text, usage, payload.get("model")
    choices = payload.get("choices") or []
    if not choices:
        raise ValueError("response has no choices")
    text = (choices[0].get("message") or {}).get("content") or ""
    u = payload.get("usage") or {}
    usage = {"prompt_tokens": int(u.get("prompt_tokens") or 0), "completion_tokens": int(u.get("completion_tokens") or 0)}
    return text, usage, payload.get("model")


def parse_json(text: str, schema: dict[str, Any] | None) -> Any:
    """Decode ``text`` as JSON (a fenced ```json block is accepted) and validate it against ``schema``.

    Raises
    ------
    ValueError
        Not JSON, or not valid under the schema (the message says where).
    """
    s = text.strip()
    if s.startswith("```"):
        s = s.strip("`")
        if s.lower().startswith("json"):
            s = s[4:]
    try:
        data = json.loads(s)
    except json.JSONDecodeError as err:
        raise ValueError(f"invalid JSON at char {err.pos}: {err.msg}") from err
    if schema is not None:
        import jsonschema

        try:
            jsonschema.validate(data, schema)
        except jsonschema.ValidationError as err:
            where = "/".join(str(p) for p in err.absolute_path) or "<root>"
            raise ValueError(f"schema violation at {where}: {err.message}") from err
    return data
