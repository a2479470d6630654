"""E-utilities client against a local HTTP server on loopback (never the internet)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from discovery.errors import ConfigError, InputError
from discovery.literature.entrez import EntrezClient


@pytest.fixture()
def eutils():
    from discovery.data.fetcher import fetch

    xml = [p for p in fetch("pubmed-samples") if p.name == "pubmed2.xml"][0].read_bytes()
    seen = []
    state = {"fail_once": True}

    class H(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            u = urlparse(self.path)
            q = {k: v[0] for k, v in parse_qs(u.query).items()}
            seen.append((u.path, q, time.monotonic()))
            if u.path.endswith("/esearch.fcgi"):
                if state["fail_once"]:
                    state["fail_once"] = False
                    self.send_response(503)
                    self.end_headers()
                    return
                body = json.dumps({"esearchresult": {"idlist": ["11748933", "11700088"]}}).encode()
            elif u.path.endswith("/efetch.fcgi"):
                body = xml
            else:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/entrez/eutils", seen
    srv.shutdown()


def test_search_fetch_rate_limit_and_identity(eutils):
    url, seen = eutils
    c = EntrezClient(email="me@lab.org", base_url=url)
    pmids = c.search("cryopreservation", retmax=5)
    assert pmids == ["11748933", "11700088"]
    docs = c.fetch(pmids)
    assert [d.pmid for d in docs] == ["11748933", "11700088"] and docs[0].title
    assert all(q["email"] == "me@lab.org" and q["tool"] == "discovery" for _, q, _ in seen)
    assert seen[0][1]["term"] == "cryopreservation" and seen[-1][1]["id"] == "11748933,11700088"
    gaps = [b[2] - a[2] for a, b in zip(seen, seen[1:])]
    assert min(gaps) >= 1 / 3 - 0.02  # 3 requests/s without an API key (the 503 was retried)
    assert len(seen) == 3


def test_api_key_raises_rate_and_is_sent(eutils):
    url, seen = eutils
    c = EntrezClient(email="me@lab.org", api_key="KEY", base_url=url)
    assert c.min_interval == pytest.approx(0.1)
    c.search("x")
    assert seen[-1][1]["api_key"] == "KEY"


def test_email_required_and_errors_are_clear(eutils):
    url, _ = eutils
    with pytest.raises(ConfigError, match="contact email"):
        EntrezClient(email="")
    c = EntrezClient(email="me@lab.org", base_url=url, max_retries=0)
    with pytest.raises(InputError, match="HTTP 503"):  # no retries left
        c.search("x")
    with pytest.raises(InputError, match="HTTP 404"):
        c._get("/einfo.fcgi", {})


def _cli(*args: str, cwd, env: dict | None = None):
    import os
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[3]
    e = {k: v for k, v in os.environ.items() if k not in ("NCBI_EMAIL", "NCBI_API_KEY")}
    e.update({"PYTHONPATH": str(repo), **(env or {})})
    return subprocess.run([sys.executable, "-m", "discovery", "literature", *args], cwd=cwd, env=e,
                          capture_output=True, text=True, timeout=300)


def test_cli_fetch_search_into_corpus_idempotent(eutils, tmp_path):
    url, seen = eutils
    args = ("fetch", "--db", "corpus.duckdb", "--query", "cryopreservation", "--retmax", "5", "--base-url", url)
    r = _cli(*args, "--out", "run1", cwd=tmp_path, env={"NCBI_EMAIL": "me@lab.org"})
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert (s["found"], s["pmids"], s["written"], s["rows_in_store"], s["missing"]) == (2, 2, 2, 2, [])
    assert (tmp_path / "run1" / "pmids.txt").read_text().split() == ["11748933", "11700088"]
    manifest = json.loads((tmp_path / "run1" / "manifest.json").read_text())
    assert manifest["kind"] == "literature.fetch" and manifest["config"]["query"] == "cryopreservation"
    from discovery.literature.store import CorpusStore

    with CorpusStore(tmp_path / "corpus.duckdb", read_only=True) as store:
        doc = store.get("11748933")
        assert doc is not None and doc.title and doc.source == "efetch:11748933"
    # fetching again (search + explicit PMID) updates, never duplicates; the email comes from the flag
    r = _cli(*args, "--pmids", "11748933", "--email", "me@lab.org", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert (s["pmids"], s["rows_in_store"]) == (2, 2)
    assert seen[-1][1]["email"] == "me@lab.org"


def test_cli_fetch_bad_input(eutils, tmp_path):
    url, _ = eutils
    r = _cli("fetch", "--db", "c.duckdb", "--base-url", url, "--email", "me@lab.org", cwd=tmp_path)
    assert r.returncode == 2 and "nothing to fetch" in r.stderr
    r = _cli("fetch", "--db", "c.duckdb", "--pmids", "123,abc", "--email", "me@lab.org", "--base-url", url,
             cwd=tmp_path)
    assert r.returncode == 2 and "abc" in r.stderr and "PMID" in r.stderr
    r = _cli("fetch", "--db", "c.duckdb", "--pmids", "123", "--base-url", url, cwd=tmp_path)
    assert r.returncode == 2 and "contact email" in r.stderr
    assert not (tmp_path / "c.duckdb").exists()
