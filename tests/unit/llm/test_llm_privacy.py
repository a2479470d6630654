"""Privacy guard: local vs remote endpoints and what private text may reach."""

from __future__ import annotations

import pytest

from discovery.llm import PrivacyError, PrivacyPolicy


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/v1", "http://localhost:11434", "http://[::1]:8000/v1",
                                 "http://127.8.9.10/v1", "http://api.localhost/v1"])
def test_loopback_is_local(url):
    assert PrivacyPolicy().classify(url) == "local"


def test_listed_hosts_wildcards_and_networks():
    pol = PrivacyPolicy(local_hosts=("gpu01.lab", "*.hpc.example.org", "10.1.0.0/16"))
    assert pol.classify("http://gpu01.lab:8000/v1") == "local"
    assert pol.classify("http://node7.hpc.example.org/v1") == "local"
    assert pol.classify("http://10.1.22.3:8000/v1") == "local"
    assert pol.classify("http://10.2.0.1:8000/v1") == "remote"
    assert pol.classify("https://api.openai.com/v1") == "remote"
    assert pol.classify("http://gpu01.lab.evil.com/v1") == "remote"


def test_private_text_never_goes_remote_unless_allowed():
    remote = "https://api.example.com/v1"
    pol = PrivacyPolicy()
    pol.check(remote, private=False)  # public text may go
    pol.check("http://127.0.0.1:1/v1", private=True)
    with pytest.raises(PrivacyError, match="refusing to send private text") as err:
        pol.check(remote, private=True)
    assert err.value.exit_code == 2 and "allow_remote" in str(err.value)
    PrivacyPolicy(allow_remote=True).check(remote, private=True)


def test_policy_line_says_what_happens():
    assert "LOCAL (loopback)" in PrivacyPolicy().describe("http://127.0.0.1:8080/v1")
    assert "private text is blocked" in PrivacyPolicy().describe("https://api.example.com/v1")
    assert "WILL be sent" in PrivacyPolicy(allow_remote=True).describe("https://api.example.com/v1")
    assert "listed host" in PrivacyPolicy(("gpu01",)).describe("http://gpu01:8000/v1")


def test_from_env(monkeypatch):
    monkeypatch.setenv("DISCOVERY_LLM_LOCAL_HOSTS", "gpu01, 10.0.0.0/8")
    monkeypatch.setenv("DISCOVERY_LLM_ALLOW_REMOTE", "true")
    pol = PrivacyPolicy.from_env()
    assert pol.local_hosts == ("gpu01", "10.0.0.0/8") and pol.allow_remote
