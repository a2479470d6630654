"""OpenAI-compatible chat client with structured output, cache, retries and a privacy guard.

Examples
--------
>>> from discovery.llm import ChatClient, LLMConfig
>>> client = ChatClient(LLMConfig(base_url="http://127.0.0.1:8080/v1", model="qwen2.5-7b",
...                               dialect="llamacpp"))                        # doctest: +SKIP
>>> print(client.policy_line())                                              # doctest: +SKIP
>>> res = client.complete_json([{"role": "user", "content": "..."}], schema)  # doctest: +SKIP
>>> res.ok, res.data, res.usage                                              # doctest: +SKIP

Behaviour
---------
- **Cache**: responses that parse and validate are stored on disk under
  ``<cache_dir>/<sha256[:2]>/<sha256>.json``, keyed by the sha256 of (dialect,
  model, messages, schema, temperature, max_tokens, seed); a hit sends nothing.
- **Retries**: transport errors (refused or dropped connections), timeouts,
  HTTP 408/409/429/5xx, and replies that are not valid JSON under the schema
  are retried up to ``max_retries`` times with exponential backoff
  (``backoff * 2**attempt`` seconds). HTTP 4xx other than those fail at once.
  After the last try the result is ``ok=False`` with the error; nothing raises,
  so a batch records the failure per item and goes on.
- **Concurrency**: :meth:`ChatClient.map_json` runs at most ``concurrency``
  requests at a time (threads) and returns results in input order.
- **Tokens**: prompt and completion tokens as the server reports them are
  summed in :attr:`ChatClient.usage` (cache hits add nothing).
- **Privacy**: every request is checked by :class:`~discovery.llm.privacy.PrivacyPolicy`
  first; private text never reaches a remote endpoint unless ``allow_remote``.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

from ..errors import ConfigError
from .privacy import PrivacyPolicy
from .structured import DIALECTS, parse_json, parse_response, request_body

RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class LLMConfig:
    """Endpoint and client settings.

    Attributes
    ----------
    base_url : str
        ``http://host:port/v1`` for OpenAI-compatible servers; ``http://host:11434`` for Ollama.
    model : str
        Model name the server knows (any string for single-model servers).
    dialect : {"openai", "llamacpp", "ollama"}
    api_key : str, optional
        Sent as ``Authorization: Bearer``; never written to caches or manifests.
    timeout_s : float
        Per-request timeout (connect + read), seconds.
    max_retries : int
    backoff_s : float
        First retry delay, doubled each time.
    concurrency : int
        Parallel requests in :meth:`ChatClient.map_json`.
    cache_dir : str, optional
        Default ``$DISCOVERY_CACHE/llm``; ``""`` disables the cache.
    temperature, max_tokens, seed
        Generation settings (temperature 0 and a fixed seed for reproducibility).
    local_hosts, allow_remote
        The privacy policy (:class:`~discovery.llm.privacy.PrivacyPolicy`).
    """

    base_url: str
    model: str = "default"
    dialect: str = "openai"
    api_key: str | None = None
    timeout_s: float = 60.0
    max_retries: int = 3
    backoff_s: float = 0.5
    concurrency: int = 4
    cache_dir: str | None = None
    temperature: float = 0.0
    max_tokens: int = 512
    seed: int | None = 0
    local_hosts: tuple[str, ...] = ()
    allow_remote: bool = False

    @classmethod
    def from_env(cls, **overrides: Any) -> "LLMConfig":
        """From ``DISCOVERY_LLM_URL``, ``_MODEL``, ``_DIALECT``, ``_API_KEY``, ``_LOCAL_HOSTS``,
        ``_ALLOW_REMOTE``, ``_CONCURRENCY``, ``_TIMEOUT``; keyword overrides win (None ignored)."""
        env = os.environ
        url = overrides.pop("base_url", None) or env.get("DISCOVERY_LLM_URL")
        if not url:
            raise ConfigError("no LLM endpoint configured",
                              hint="pass --llm-url or set DISCOVERY_LLM_URL (e.g. http://127.0.0.1:8080/v1)")
        pol = PrivacyPolicy.from_env()
        values: dict[str, Any] = dict(
            base_url=url, model=env.get("DISCOVERY_LLM_MODEL", "default"),
            dialect=env.get("DISCOVERY_LLM_DIALECT", "openai"), api_key=env.get("DISCOVERY_LLM_API_KEY") or None,
            local_hosts=pol.local_hosts, allow_remote=pol.allow_remote,
            concurrency=int(env.get("DISCOVERY_LLM_CONCURRENCY", "4")),
            timeout_s=float(env.get("DISCOVERY_LLM_TIMEOUT", "60")))
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


@dataclass
class Usage:
    """Token and request accounting of a client."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cache_hits: int = 0
    retries: int = 0
    failures: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass
class ChatResult:
    """Outcome of one structured request (never raised; inspect ``ok``)."""

    ok: bool
    data: Any = None
    text: str = ""
    error: str | None = None
    usage: dict[str, int] = field(default_factory=dict)
    cached: bool = False
    attempts: int = 0
    model: str | None = None


class ChatClient:
    """Chat client for one endpoint (thread-safe)."""

    def __init__(self, config: LLMConfig, transport: Any = None) -> None:
        import httpx

        if config.dialect not in DIALECTS:
            raise ConfigError(f"unknown LLM dialect {config.dialect!r}", value=config.dialect,
                              hint=f"one of {list(DIALECTS)}")
        self.config = config
        self.policy = PrivacyPolicy(tuple(config.local_hosts), config.allow_remote)
        headers = {"Content-Type": "application/json"}
        if config.api_key:
            headers["Authorization"] = f"Bearer {config.api_key}"
        self._http = httpx.Client(base_url=config.base_url.rstrip("/"), headers=headers,
                                  timeout=httpx.Timeout(config.timeout_s), transport=transport,
                                  limits=httpx.Limits(max_connections=max(1, config.concurrency)))
        self.usage = Usage()
        self._lock = threading.Lock()
        if config.cache_dir is None:
            from ..config import get_settings

            self.cache_dir: Path | None = get_settings().cache_dir / "llm"
        else:
            self.cache_dir = Path(config.cache_dir) if config.cache_dir else None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "ChatClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def policy_line(self) -> str:
        """The effective privacy policy for this endpoint, one line."""
        return self.policy.describe(self.config.base_url)

    # ------------------------------------------------------------------ cache
    def cache_key(self, messages: Sequence[dict[str, str]], schema: dict | None, model: str | None = None) -> str:
        c = self.config
        blob = json.dumps({"dialect": c.dialect, "model": model or c.model, "messages": list(messages),
                           "schema": schema, "temperature": c.temperature, "max_tokens": c.max_tokens,
                           "seed": c.seed}, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def _cache_get(self, key: str) -> dict | None:
        if self.cache_dir is None:
            return None
        p = self.cache_dir / key[:2] / f"{key}.json"
        try:
            return json.loads(p.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None

    def _cache_put(self, key: str, value: dict) -> None:
        if self.cache_dir is None:
            return
        from ..fsutil import atomic_write_text

        p = self.cache_dir / key[:2] / f"{key}.json"
        p.parent.mkdir(parents=True, exist_ok=True)
        try:
            atomic_write_text(p, json.dumps(value, ensure_ascii=False))
        except OSError:
            pass

    # ------------------------------------------------------------------ requests
    def complete_json(self, messages: Sequence[dict[str, str]], schema: dict[str, Any] | None, *,
                      private: bool = True, model: str | None = None, use_cache: bool = True) -> ChatResult:
        """One chat request whose answer must be JSON valid under ``schema``.

        Parameters
        ----------
        messages : list of {"role", "content"}
        schema : dict or None
            JSON schema of the answer (None: any JSON).
        private : bool
            The messages carry private text (default True: the safe side). Raises
            :class:`~discovery.llm.privacy.PrivacyError` for a remote endpoint unless allowed.
        """
        import httpx

        c = self.config
        self.policy.check(c.base_url, private)
        key = self.cache_key(messages, schema, model)
        if use_cache:
            hit = self._cache_get(key)
            if hit is not None:
                with self._lock:
                    self.usage.cache_hits += 1
                return ChatResult(True, hit["data"], hit["text"], None, {}, True, 0, hit.get("model"))
        path, body = request_body(c.dialect, model=model or c.model, messages=list(messages), schema=schema,
                                  temperature=c.temperature, max_tokens=c.max_tokens, seed=c.seed)
        error = None
        text = ""
        attempts = 0
        for attempt in range(c.max_retries + 1):
            attempts = attempt + 1
            if attempt:
                with self._lock:
                    self.usage.retries += 1
                time.sleep(c.backoff_s * 2 ** (attempt - 1))
            try:
                resp = self._http.post(path, json=body)
            except httpx.TimeoutException as err:
                error = f"timeout after {c.timeout_s}s ({type(err).__name__})"
                continue
            except httpx.TransportError as err:
                error = f"connection error: {type(err).__name__}: {err}"
                continue
            with self._lock:
                self.usage.requests += 1
            if resp.status_code != 200:
                error = f"HTTP {resp.status_code}: {resp.text[:200]}"
                if resp.status_code in RETRY_STATUS:
                    continue
                break
            try:
                payload = resp.json()
                text, usage, served = parse_response(c.dialect, payload)
            except (ValueError, KeyError, TypeError) as err:
                error = f"unreadable response: {err}"
                continue
            with self._lock:
                self.usage.prompt_tokens += usage["prompt_tokens"]
                self.usage.completion_tokens += usage["completion_tokens"]
            try:
                data = parse_json(text, schema)
            except ValueError as err:
                error = f"{err}; reply began {text[:80]!r}"
                continue
            if use_cache:
                self._cache_put(key, {"data": data, "text": text, "model": served})
            return ChatResult(True, data, text, None, usage, False, attempts, served)
        with self._lock:
            self.usage.failures += 1
        return ChatResult(False, None, text, error, {}, False, attempts, None)

    def map_json(self, requests: Sequence[tuple[Sequence[dict[str, str]], dict | None]], *, private: bool = True,
                 model: str | None = None) -> list[ChatResult]:
        """Many :meth:`complete_json` calls, ``concurrency`` at a time; results in input order.

        The privacy check runs for the batch before any request is sent.
        """
        self.policy.check(self.config.base_url, private)
        if not requests:
            return []
        with ThreadPoolExecutor(max_workers=max(1, self.config.concurrency)) as pool:
            futures = [pool.submit(self.complete_json, m, s, private=private, model=model) for m, s in requests]
            return [f.result() for f in futures]
