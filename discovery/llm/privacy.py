"""Privacy guard: which endpoints are local, and what may be sent where.

An endpoint is *local* when its host is a loopback address (``localhost``,
``127.0.0.0/8``, ``::1``) or matches one of the hosts the user lists
(exact host names, ``*.suffix`` wildcards, or IP networks such as
``10.1.0.0/16``). Everything else is *remote*. Text marked private (cohort
data, unpublished notes) is never sent to a remote endpoint unless
``allow_remote=True`` is set explicitly; :meth:`PrivacyPolicy.check` raises
:class:`PrivacyError` before any byte leaves the process.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..errors import ConfigError


class PrivacyError(ConfigError):
    """Private text would be sent to a remote endpoint."""


def _host(url: str) -> str:
    parts = urlsplit(url if "://" in url else f"http://{url}")
    return (parts.hostname or "").lower()


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IP addresses."""
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class PrivacyPolicy:
    """Where text may go.

    Parameters
    ----------
    local_hosts : tuple of str
        Extra hosts treated as local: names (``gpu01.lab``), wildcards (``*.lab.internal``)
        or networks (``10.0.0.0/8``).
    allow_remote : bool
        Permit private text to reach remote endpoints (default False).
    """

    local_hosts: tuple[str, ...] = field(default_factory=tuple)
    allow_remote: bool = False

    @classmethod
    def from_env(cls) -> "PrivacyPolicy":
        """From ``DISCOVERY_LLM_LOCAL_HOSTS`` (comma-separated) and ``DISCOVERY_LLM_ALLOW_REMOTE`` (1/true)."""
        hosts = tuple(h.strip() for h in os.environ.get("DISCOVERY_LLM_LOCAL_HOSTS", "").split(",") if h.strip())
        allow = os.environ.get("DISCOVERY_LLM_ALLOW_REMOTE", "0").lower() in ("1", "true", "yes")
        return cls(hosts, allow)

    def classify(self, url: str) -> str:
        """``"local"`` or ``"remote"`` for an endpoint URL."""
        host = _host(url)
        if is_loopback(host):
            return "local"
        for entry in self.local_hosts:
            e = entry.lower()
            if e.startswith("*.") and (host.endswith(e[1:]) or host == e[2:]):
                return "local"
            if "/" in e:
                try:
                    if ipaddress.ip_address(host) in ipaddress.ip_network(e, strict=False):
                        return "local"
                except ValueError:
                    pass
                continue
            if host == e:
                return "local"
        return "remote"

    def check(self, url: str, private: bool) -> None:
        """Raise :class:`PrivacyError` if private text would go to a remote endpoint."""
        if private and not self.allow_remote and self.classify(url) == "remote":
            raise PrivacyError(
                f"refusing to send private text to remote endpoint {_host(url)!r}",
                value=url,
                hint="serve the model locally, list the host in DISCOVERY_LLM_LOCAL_HOSTS / llm.local_hosts, "
                     "or set allow_remote: true explicitly",
            )

    def describe(self, url: str) -> str:
        """One line stating the effective policy for ``url`` (printed at start)."""
        kind = self.classify(url)
        if kind == "local":
            why = "loopback" if is_loopback(_host(url)) else "listed host"
            return f"LLM endpoint {url} is LOCAL ({why}); private and public text may be sent"
        if self.allow_remote:
            return f"LLM endpoint {url} is REMOTE; allow_remote=true: private text WILL be sent"
        return (f"LLM endpoint {url} is REMOTE; only public text is sent, private text is blocked "
                "(set allow_remote: true to change)")
