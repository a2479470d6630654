"""Live PubMed search and fetch through NCBI E-utilities (ESearch + EFetch), rate-limited.

NCBI asks every client to send ``tool`` and ``email`` and to stay under 3 requests
per second (10 with an API key); :class:`EntrezClient` enforces that spacing.
Fetched records are PubMed XML, parsed by the same streaming reader as files
(:func:`discovery.literature.io.read_pubmed_xml`). The base URL is a parameter so
tests run against a local server on loopback, never the internet.

Examples
--------
>>> client = EntrezClient(email="me@lab.org", api_key=None)           # doctest: +SKIP
>>> pmids = client.search("famotidine delirium", retmax=20)           # doctest: +SKIP
>>> docs = client.fetch(pmids)                                        # doctest: +SKIP
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path
from typing import Sequence

from ..errors import ConfigError, InputError
from .documents import Document, ReadReport

EUTILS = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"


class EntrezClient:
    """ESearch/EFetch client.

    Parameters
    ----------
    email : str
        Contact address NCBI requires.
    api_key : str, optional
        Raises the rate limit from 3 to 10 requests per second.
    base_url : str
        E-utilities root (default NCBI's).
    tool : str
    timeout_s : float
    max_retries : int
        Retries of 429/5xx and transport errors, with backoff.
    """

    def __init__(self, email: str, api_key: str | None = None, base_url: str = EUTILS, tool: str = "discovery",
                 timeout_s: float = 30.0, max_retries: int = 3) -> None:
        import httpx

        if not email or "@" not in email:
            raise ConfigError("NCBI E-utilities need a contact email", value=email,
                              hint="pass email= (NCBI policy: tool and email on every request)")
        self.params = {"tool": tool, "email": email, **({"api_key": api_key} if api_key else {})}
        self.min_interval = 1.0 / (10.0 if api_key else 3.0)
        self.max_retries = max_retries
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s)
        self._lock = threading.Lock()
        self._last = 0.0
        self.requests = 0

    def _get(self, path: str, params: dict) -> bytes:
        import httpx

        err = None
        for attempt in range(self.max_retries + 1):
            with self._lock:  # NCBI rate limit: requests spaced by min_interval
                wait = self._last + self.min_interval - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                self._last = time.monotonic()
            try:
                r = self._http.get(path, params={**params, **self.params})
                self.requests += 1
            except httpx.TransportError as e:
                err = f"{type(e).__name__}: {e}"
            else:
                if r.status_code == 200:
                    return r.content
                err = f"HTTP {r.status_code}"
                if r.status_code not in (429, 500, 502, 503, 504):
                    break
            time.sleep(min(8.0, 0.5 * 2 ** attempt))
        raise InputError(f"E-utilities request failed: {err}", value=path, hint="check the query and the network")

    def search(self, term: str, retmax: int = 100, db: str = "pubmed") -> list[str]:
        """PMIDs matching ``term`` (ESearch, JSON)."""
        import json

        data = json.loads(self._get("/esearch.fcgi", {"db": db, "term": term, "retmax": retmax, "retmode": "json"}))
        return [str(x) for x in data.get("esearchresult", {}).get("idlist", [])]

    def fetch(self, pmids: Sequence[str], batch: int = 200, report: ReadReport | None = None) -> list[Document]:
        """Records of ``pmids`` (EFetch PubMed XML, ``batch`` ids per request)."""
        from .io import read_pubmed_xml

        out: list[Document] = []
        ids = [str(p) for p in pmids]
        for i in range(0, len(ids), batch):
            xml = self._get("/efetch.fcgi", {"db": "pubmed", "id": ",".join(ids[i:i + batch]), "retmode": "xml"})
            with tempfile.TemporaryDirectory() as tmp:
                p = Path(tmp) / f"efetch_{i // batch}.xml"
                p.write_bytes(xml)
                for d in read_pubmed_xml(p, report=report):
                    d.source = f"efetch:{d.pmid}"
                    out.append(d)
        return out

    def close(self) -> None:
        self._http.close()
