"""Helpers of ``workflows/rules/targets.smk`` (argument building only; no science here)."""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

DEFAULT_RESOURCES = {
    "summary": {"threads": 1, "mem_mb": 2000, "runtime": 10},
    "evaluate": {"threads": 1, "mem_mb": 6000, "runtime": 120},
    "rank": {"threads": 1, "mem_mb": 4000, "runtime": 30},
    "dta": {"threads": 1, "mem_mb": 4000, "runtime": 60},
}


def resource(cfg: dict[str, Any], step: str, key: str):
    """``cfg["resources"][step][key]``, else the default."""
    return cfg.get("resources", {}).get(step, {}).get(key, DEFAULT_RESOURCES[step][key])


def slug(disease: str) -> str:
    """A path-safe label of a disease id or name (``DOID:1612`` -> ``DOID_1612``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", disease).strip("_")


def diseases(cfg: dict[str, Any]) -> dict[str, str]:
    """slug -> disease as written in the config."""
    return {slug(d): d for d in cfg.get("diseases", [])}


def evaluate_args(cfg: dict[str, Any]) -> str:
    args = ["--kg", cfg.get("kg", "hetionet-16")]
    for r in cfg.get("relations", ["DaG", "CtD"]):
        args += ["--relation", r]
    for m in cfg.get("models", ["degree", "pathcount"]):
        args += ["--model", m]
    args += ["--seeds", *[str(s) for s in cfg.get("seeds", [0, 1, 2])]]
    args += ["--hparams", json.dumps(cfg.get("hparams", {}))]
    return " ".join(shlex.quote(a) for a in args)


def rank_args(cfg: dict[str, Any]) -> str:
    r = cfg.get("rank", {})
    args = ["--kg", cfg.get("kg", "hetionet-16"), "--top", str(r.get("top", 50)), "--model", r.get("model", "pathcount")]
    if r.get("hide_known"):
        args.append("--hide-known")
    w = r.get("weights", {})
    if w:
        args += ["--weights", ",".join(f"{k}={v}" for k, v in w.items())]
    if r.get("evidence"):
        args += ["--evidence", r["evidence"]]
    return " ".join(shlex.quote(a) for a in args)


def dta_args(cfg: dict[str, Any]) -> str:
    d = cfg.get("dta", {})
    args = ["--seeds", *[str(s) for s in d.get("seeds", [0])], "--epochs", str(d.get("epochs", 15)),
            "--protein-encoder", d.get("protein_encoder", "composition")]
    if d.get("max_rows"):
        args += ["--max-rows", str(d["max_rows"])]
    return " ".join(shlex.quote(a) for a in args)


def report_inputs(cfg: dict[str, Any], root: str) -> list[str]:
    """Manifests of the result folders the report reads."""
    out = [f"{root}/evaluate/{s}/manifest.json" for s in cfg.get("splits", ["random", "disease"])]
    for q in ("rank", "repurpose"):
        if cfg.get("rank", {}).get(q, True):
            out += [f"{root}/{q}/{s}/manifest.json" for s in diseases(cfg)]
    if cfg.get("dta", {}).get("enabled", False):
        out.append(f"{root}/dta/manifest.json")
    return out
