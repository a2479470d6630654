"""`discovery screen index|search|cluster|pick|select` through the real entry point."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from discovery.cli import main as cli_main


@pytest.fixture
def run(monkeypatch, capsys):
    monkeypatch.setattr(cli_main, "COMMANDS", {"screen": cli_main.COMMANDS["screen"]})

    def _run(*argv: str) -> tuple[int, str, str]:
        try:
            code = cli_main.main(["screen", *argv])
        except SystemExit as exc:
            code = exc.code
        out, err = capsys.readouterr()
        return code, out, err

    return _run


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    from discovery.data.loaders import resolve

    d = tmp_path_factory.mktemp("screen")
    lipo = pd.read_csv(resolve("Lipophilicity")[0])
    lib = ["smiles name"] + [f"{s} L{i}" for i, s in enumerate(lipo["smiles"].iloc[200:600])]
    lib.insert(10, "C1CC bad_one")
    (d / "lib.smi").write_text("\n".join(lib) + "\n")
    lipo.iloc[:120].to_csv(d / "measured.csv", index=False)
    (d / "queries.smi").write_text("\n".join(lipo["smiles"].iloc[[200, 300, 450]]) + "\nxx(\n")
    return d


def test_index_search_cluster_pick(run, files, tmp_path):
    code, out, err = run("index", "--data", str(files / "lib.smi"), "--out", str(tmp_path / "idx"), "--nbits", "1024",
                         "--jobs", "1")
    assert code == 0, err
    assert "indexed 400 molecules (1 invalid" in out
    inv = pd.read_csv(tmp_path / "idx" / "invalid.csv")
    assert inv["row"].tolist() == [11] and inv["smiles"].tolist() == ["C1CC"]

    code, out, err = run("search", "--library", str(tmp_path / "idx"), "--queries", str(files / "queries.smi"),
                         "--k", "3", "--out", str(tmp_path / "s"))
    assert code == 0, err
    hits = pd.read_csv(tmp_path / "s" / "hits.csv")
    assert len(hits) == 9 and hits["rank"].tolist() == [1, 2, 3] * 3
    # each query is a library member: itself first, score 1
    assert hits.loc[hits["rank"] == 1, "target_id"].tolist() == ["L0", "L100", "L250"]
    assert (hits.loc[hits["rank"] == 1, "score"] == 1.0).all()
    assert pd.read_csv(tmp_path / "s" / "invalid_queries.csv")["smiles"].tolist() == ["xx("]
    man = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert man["kind"] == "screening.search" and man["config"]["k"] == 3

    code, out, err = run("search", "--library", "ESOL", "--query", "c1ccccc1O", "--threshold", "0.5",
                         "--out", str(tmp_path / "t"))
    assert code == 0, err
    t = pd.read_csv(tmp_path / "t" / "hits.csv")
    assert (t["score"] >= 0.5).all() and t["target_smiles"].iloc[0] == "c1ccccc1O"

    code, out, err = run("cluster", "--data", str(tmp_path / "idx"), "--cutoff", "0.5", "--out", str(tmp_path / "c"))
    assert code == 0, err
    cl = pd.read_csv(tmp_path / "c" / "clusters.csv")
    assert len(cl) == 400 and cl["centroid"].sum() == cl["cluster"].nunique()

    code, out, err = run("pick", "--data", str(files / "lib.smi"), "--n", "10", "--seed", "3", "--out",
                         str(tmp_path / "p"))
    assert code == 0, err
    p1 = pd.read_csv(tmp_path / "p" / "picks.csv")
    run("pick", "--data", str(files / "lib.smi"), "--n", "10", "--seed", "3", "--out", str(tmp_path / "p2"))
    assert p1["position"].tolist() == pd.read_csv(tmp_path / "p2" / "picks.csv")["position"].tolist()
    assert len(set(p1["id"])) == 10


def test_select_writes_batch_with_reasons(run, files, tmp_path):
    code, out, err = run("select", "--train", str(files / "measured.csv"), "--target", "lipo", "--library",
                         str(files / "lib.smi"), "--budget", "8", "--acquisition", "ucb", "--out", str(tmp_path / "b"))
    assert code == 0, err
    b = pd.read_csv(tmp_path / "b" / "batch.csv")
    assert len(b) == 8 and b["rank"].tolist() == list(range(1, 9))
    assert b["reason"].str.contains("UCB").all() and b["id"].str.startswith("L").all()
    assert (b["max_sim_in_batch"].fillna(0) < 0.9).all()
    gp = json.loads((tmp_path / "b" / "gp.json").read_text())
    assert gp["noise_variance"] > 0 and gp["n_train"] == 120
    assert json.loads((tmp_path / "b" / "manifest.json").read_text())["kind"] == "screening.select"


def test_select_with_descriptor_kernel(run, files, tmp_path):
    code, out, err = run("select", "--train", str(files / "measured.csv"), "--target", "lipo", "--library",
                         str(files / "lib.smi"), "--budget", "5", "--kernel", "minmax+physchem", "--out",
                         str(tmp_path / "d"))
    assert code == 0, err
    assert len(pd.read_csv(tmp_path / "d" / "batch.csv")) == 5
    gp = json.loads((tmp_path / "d" / "gp.json").read_text())
    assert gp["kernel"] == "minmax+physchem" and 0.0 <= gp["descriptor_weight"] <= 1.0


def test_bad_input_exit_code_2(run, files, tmp_path):
    code, _, err = run("search", "--library", "NoSuchDataset", "--query", "CCO", "--out", str(tmp_path / "x"))
    assert code == 2 and "NoSuchDataset" in err
    code, _, err = run("select", "--train", str(files / "measured.csv"), "--library", str(files / "lib.smi"),
                       "--acquisition", "magic", "--out", str(tmp_path / "y"))
    assert code == 2 and "magic" in err
    code, _, err = run("index", "--data", str(files / "lib.smi"), "--out", str(tmp_path / "z"), "--nbits", "1000")
    assert code == 2 and "multiple of 64" in err
    code, _, err = run("search", "--library", str(files / "lib.smi"), "--query", "CCO", "--threshold", "1.5",
                       "--out", str(tmp_path / "w"))
    assert code == 2 and "threshold" in err
    assert not (tmp_path / "w").exists()


def test_help_is_fast_and_jax_free():
    code = ("import sys, time; t=time.time(); from discovery.cli.main import build_parser; build_parser(); "
            "print('jax' in sys.modules, 'rdkit' in sys.modules, time.time()-t)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == "False" and out[1] == "False"
