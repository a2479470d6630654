"""Local-first LLM access: an OpenAI-compatible chat client with JSON-schema structured output.

Public API: :class:`LLMConfig`, :class:`ChatClient`, :class:`ChatResult`, :class:`Usage`,
:class:`PrivacyPolicy`, :class:`PrivacyError`, :data:`DIALECTS`. ``httpx`` is imported only
when a client is created.
"""

from __future__ import annotations

from .client import ChatClient, ChatResult, LLMConfig, Usage
from .privacy import PrivacyError, PrivacyPolicy
from .structured import DIALECTS

__all__ = ["ChatClient", "ChatResult", "LLMConfig", "Usage", "PrivacyPolicy", "PrivacyError", "DIALECTS"]
