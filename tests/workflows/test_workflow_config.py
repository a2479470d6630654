"""Fast checks of the Snakemake workflow: lint, config validation, job plan (no training).

Every test here parses the workflow (a few seconds each) but runs no job.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

pytest.importorskip("snakemake", reason="snakemake is not installed: install the `workflows` extra")

from wf_helpers import REPO, TEST_CONFIG, run_snakemake, write_test_config  # noqa: E402


def _job_counts(output: str) -> dict[str, int]:
    """The 'Job stats' table of a dry run as {rule: count}."""
    table = output.split("Job stats:", 1)[1]
    counts = {}
    for line in table.splitlines()[3:]:
        m = re.match(r"^(\w+)\s+(\d+)$", line.strip())
        if not m:
            break
        counts[m.group(1)] = int(m.group(2))
    return counts


def test_lint_default_config(tmp_path: Path):
    res = run_snakemake(tmp_path, "--lint", timeout=120)
    assert res.returncode == 0, res.stdout
    assert "Congratulations, your workflow is in a good condition!" in res.stdout


def test_lint_test_config(tmp_path: Path):
    res = run_snakemake(tmp_path, "--lint", configfile=write_test_config(tmp_path), timeout=120)
    assert res.returncode == 0, res.stdout
    assert "good condition" in res.stdout


def test_dry_run_default_config_plans_every_dataset_and_seed(tmp_path: Path):
    """Default config: 2 datasets x 3 seeds, plus the library fetched once, and the report."""
    res = run_snakemake(tmp_path, "-n", "-p", "--cores", "1", timeout=120)
    assert res.returncode == 0, res.stdout
    counts = _job_counts(res.stdout)
    assert counts == {
        "fetch": 3,  # esol, freesolv, and bbbp as the library
        "train": 6,
        "evaluate": 6,
        "predict": 6,
        "summarize": 1,
        "report": 1,
        "all": 1,
        "total": 24,
    }, res.stdout
    # registry defaults reach the CLI: ESOL's target column is `logp`, FreeSolv's `freesolv`
    assert "--target logp" in res.stdout and "--target freesolv" in res.stdout
    assert "results/molprop/train/freesolv/seed2/metrics.json" in res.stdout
    # the report reads every run's result folder
    assert "discovery report results/molprop/train/esol/seed0/manifest.json" in res.stdout
    assert "-o results/report.html" in res.stdout
    assert not (tmp_path / "results").exists(), "a dry run must not write outputs"


def test_dry_run_test_config_and_local_dataset(tmp_path: Path):
    """.test config as shipped, plus a local-file dataset entry (path + columns) and no library."""
    table = tmp_path / "mine.csv"
    table.write_text("SMILES,y\nCCO,1.0\nCCC,2.0\n")
    cfg = write_test_config(
        tmp_path,
        datasets=["esol", {"name": "mine", "path": str(table), "smiles_col": "SMILES", "target": "y"}],
        seeds=[7],
        library={"data": None},
        hparams={"hidden": 32, "depth": 2, "mol_features": "physchem", "ema": 0.99, "select_by": "metric",
                 "graph_only_members": 1, "precision": "bf16-mixed"},
    )
    res = run_snakemake(tmp_path, "-n", "-p", "--cores", "1", configfile=cfg, timeout=120)
    assert res.returncode == 0, res.stdout
    counts = _job_counts(res.stdout)
    assert counts["fetch"] == 1 and counts["train"] == 2 and counts["evaluate"] == 2, counts
    assert "predict" not in counts, counts
    assert f"--data {table}" in res.stdout
    assert "--smiles-col SMILES --target y" in res.stdout
    assert "--seed 7" in res.stdout and "--hidden 32" in res.stdout and "--mol-features physchem" in res.stdout
    assert "--ema 0.99" in res.stdout and "--select-by metric" in res.stdout
    assert "--graph-only-members 1" in res.stdout and "--precision bf16-mixed" in res.stdout


BAD_CONFIGS = [
    # (overrides, every fragment the error must contain)
    ({"epoch": 3}, ["'epoch'", "top level", "allowed keys", "epochs"]),
    ({"library": {"dta": "bbbp"}}, ["'dta'", "library", "allowed keys: data, smiles_col"]),
    ({"resources": {"train": {"mem": 3}}}, ["'mem'", "resources.train", "mem_mb"]),
    ({"hparams": {"hiden": 32}}, ["'hiden'", "hparams", "hidden"]),
    ({"hparams": {"select_by": "auc"}}, ["select_by", "'auc' is not one of", "metric"]),
    ({"hparams": {"precision": "16"}}, ["precision", "'16' is not one of", "bf16-mixed"]),
    ({"model": "gcn"}, ["model", "'gcn' is not one of", "dmpnn"]),
    ({"seeds": [0, -1]}, ["seeds.1", "-1"]),
    ({"datasets": ["esol", {"name": "x", "smiles": "c"}]}, ["'smiles'", "datasets.1", "smiles_col"]),
    ({"datasets": ["esool"]}, ["'esool'", "did you mean", "esol"]),
    ({"datasets": ["esol", "esol"]}, ["'esol' is listed more than once"]),
    ({"datasets": ["esol"], "library": {"data": "esol"}}, ["library.data", "also a training dataset"]),
    ({"datasets": ["esol"], "library": {"data": "delaney"}}, ["'delaney' is the registry dataset 'esol'"]),
    ({"report": {"titel": "x"}}, ["'titel'", "report", "allowed keys: baseline, pdf, title"]),
    ({"ensemble": 2, "hparams": {"mol_features": "physchem", "graph_only_members": 2}},
     ["hparams.graph_only_members", "must be below ensemble (2)"]),
]


def _with_overrides(base: dict, overrides: dict) -> dict:
    data = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return data


def _common_smk() -> dict:
    """rules/common.smk (plain Python) loaded in-process, for fast checks of its messages."""
    from snakemake.exceptions import WorkflowError
    from snakemake.io import expand

    ns = {"__name__": "common_smk", "expand": expand, "config": {}}
    exec(compile((REPO / "workflows" / "rules" / "common.smk").read_text(), "common.smk", "exec"), ns)
    ns["WorkflowError"] = WorkflowError
    return ns


_IDS = [f"{next(iter(o))}-{i}" for i, (o, _) in enumerate(BAD_CONFIGS)]


@pytest.mark.parametrize("overrides,fragments", BAD_CONFIGS, ids=_IDS)
def test_config_error_names_key_and_allowed_values(overrides: dict, fragments: list[str]):
    """validate_config + plan, as the Snakefile calls them, on each bad config (in-process)."""
    common = _common_smk()
    config = _with_overrides(yaml.safe_load(TEST_CONFIG.read_text()), overrides)
    with pytest.raises(common["WorkflowError"]) as info:
        common["validate_config"](config, str(REPO / "workflows" / "config" / "schema.yaml"))
        common["plan"](config)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from:\n{message}"


def test_graph_only_members_need_descriptor_members():
    common = _common_smk()
    config = yaml.safe_load(TEST_CONFIG.read_text())
    config["hparams"] = {"graph_only_members": 1}  # no mol_features
    with pytest.raises(common["WorkflowError"], match="graph_only_members: needs hparams.mol_features"):
        common["validate_config"](config, str(REPO / "workflows" / "config" / "schema.yaml"))


def test_good_config_validates_in_process():
    common = _common_smk()
    config = yaml.safe_load(TEST_CONFIG.read_text())
    common["validate_config"](config, str(REPO / "workflows" / "config" / "schema.yaml"))
    outdir, datasets, seeds = common["plan"](config)
    assert outdir == "results/test" and seeds == [0, 1]
    assert datasets == {
        "esol": {"path": None, "smiles_col": "smiles", "target": "logp"},
        "freesolv": {"path": None, "smiles_col": "smiles", "target": "freesolv"},
    }


@pytest.mark.parametrize("index", [0, 1, 7], ids=[_IDS[i] for i in (0, 1, 7)])
def test_bad_config_fails_before_any_job_naming_the_key(tmp_path: Path, index: int):
    """End to end: snakemake itself stops while parsing, before any job runs, naming the key."""
    overrides, fragments = BAD_CONFIGS[index]
    cfg = write_test_config(tmp_path)
    cfg.write_text(yaml.safe_dump(_with_overrides(yaml.safe_load(cfg.read_text()), overrides)))
    # a real (not dry) run
    res = run_snakemake(tmp_path, "--cores", "1", configfile=cfg, timeout=120)
    assert res.returncode != 0, res.stdout
    for fragment in fragments:
        assert fragment in res.stdout, f"{fragment!r} missing from:\n{res.stdout}"
    assert "Finished jobid" not in res.stdout and "rule fetch" not in res.stdout
    assert not (tmp_path / yaml.safe_load(TEST_CONFIG.read_text())["outdir"]).exists()


def test_schema_lists_every_config_key():
    """The shipped config uses only keys the schema knows (and the schema forbids the rest)."""
    schema = yaml.safe_load((REPO / "workflows" / "config" / "schema.yaml").read_text())
    config = yaml.safe_load((REPO / "workflows" / "config" / "config.yaml").read_text())
    assert schema["additionalProperties"] is False
    assert set(config) <= set(schema["properties"])
    assert set(yaml.safe_load(TEST_CONFIG.read_text())) <= set(schema["properties"])
