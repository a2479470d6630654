"""`discovery data list|fetch|verify|info` through the real entry point, with exit codes."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from discovery import data
from discovery.cli import main as cli_main

MIRROR = Path(os.environ["DISCOVERY_DATA_MIRROR"])
HAVE_ALL_GROUPS = all(importlib.util.find_spec(mod) is not None for mod, _ in cli_main.COMMANDS.values())


@pytest.fixture
def run(monkeypatch, capsys):
    """Call ``discovery data ...`` in-process; returns (exit code, stdout, stderr).

    Only the ``data`` group is registered, so these tests do not depend on
    other groups' modules being importable.
    """
    monkeypatch.setattr(cli_main, "COMMANDS", {"data": cli_main.COMMANDS["data"]})

    def _run(*argv: str) -> tuple[int, str, str]:
        try:
            code = cli_main.main(["data", *argv])
        except SystemExit as exc:  # argparse errors and --help
            code = exc.code
        out, err = capsys.readouterr()
        return code, out, err

    return _run


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("DISCOVERY_CACHE", str(root))
    monkeypatch.setenv("DISCOVERY_DATA_MIRROR", str(MIRROR))
    monkeypatch.setenv("DISCOVERY_OFFLINE", "1")
    return root


def test_list(run):
    code, out, _ = run("list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["name", "task", "files", "license", "description"]
    names = [line.split()[0] for line in lines[2:]]
    assert names == data.names()
    assert "regression" in out and "classification" in out and "MIT" in out


def test_list_json(run):
    import json

    code, out, _ = run("list", "--json")
    assert code == 0
    assert [d["name"] for d in json.loads(out)] == data.names()


def test_info(run):
    code, out, _ = run("info", "Delaney")
    assert code == 0
    f = data.get("esol").files[0]
    for text in (f.sha256, f.url, "doi:10.1021/ci034243x", "doi:10.1039/C7SC02664A", "smiles column: smiles",
                 "'logp'", "log10 aqueous solubility", "license: MIT", "rows: 1128"):
        assert text in out, text


def test_info_unknown_name_exits_2_with_suggestion(run):
    code, out, err = run("info", "tox22")
    assert code == 2
    assert "tox21" in err and "not a registered dataset" in err


def test_fetch_prints_paths(run, cache):
    code, out, _ = run("fetch", "esol", "BACE")
    assert code == 0
    paths = [Path(p) for p in out.split()]
    assert paths == [cache / "data" / "molecules" / "delaney.csv", cache / "data" / "molecules" / "bace.csv"]
    assert all(p.is_file() for p in paths)


def test_fetch_unavailable_exits_2(run, cache, monkeypatch):
    monkeypatch.delenv("DISCOVERY_DATA_MIRROR")
    code, out, err = run("fetch", "esol")
    assert code == 2 and out == ""
    assert "looked in" in err and "DISCOVERY_DATA_MIRROR not set" in err


def test_fetch_bad_mirror_exits_3(run, cache, tmp_path, monkeypatch):
    bad = tmp_path / "mirror" / "molecules" / "delaney.csv"
    bad.parent.mkdir(parents=True)
    bad.write_text("smiles,logp\nC,1\n")
    monkeypatch.setenv("DISCOVERY_DATA_MIRROR", str(tmp_path / "mirror"))
    code, _, err = run("fetch", "esol")
    assert code == 3 and "sha256 mismatch" in err and str(bad) in err


def test_verify_ok_mismatch_missing(run, cache, monkeypatch):
    from discovery import data

    code, out, err = run("verify")
    assert code == 0 and f"{len(data.REGISTRY.files())} ok, 0 mismatch, 0 missing" in err
    run("fetch", "esol")
    cached = cache / "data" / "molecules" / "delaney.csv"
    cached.write_bytes(cached.read_bytes() + b"\n")
    code, out, err = run("verify", "esol")
    assert code == 3
    assert "mismatch" in out and str(cached) in err
    cached.unlink()
    monkeypatch.delenv("DISCOVERY_DATA_MIRROR")
    code, out, err = run("verify", "esol")
    assert code == 0 and "1 missing" in err
    code, _, _ = run("verify", "esol", "--strict")
    assert code == 1


def test_group_without_action_shows_help(run):
    code, out, _ = run()
    assert code in (0, 2) and "list" in out and "verify" in out


@pytest.mark.skipif(not HAVE_ALL_GROUPS, reason="another CLI group module is not written yet")
def test_full_cli_help_in_subprocess():
    for argv in (["--help"], ["data", "--help"], ["data", "info", "--help"]):
        proc = subprocess.run([sys.executable, "-m", "discovery", *argv], capture_output=True, text=True,
                              timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert "data" in proc.stdout


def test_cli_module_keeps_heavy_imports_out():
    code = (
        "import sys, argparse; from discovery.cli import data as d; "
        "d.register(argparse.ArgumentParser()); "
        "bad = [m for m in ('pandas', 'numpy', 'torch', 'rdkit', 'discovery.data') if m in sys.modules]; "
        "print(','.join(bad))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""
