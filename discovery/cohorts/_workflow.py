"""Helpers of ``workflows/rules/cohorts.smk``: command-line arguments, inputs and resources of its rules.

Kept in the package (not in the rules file) so the Snakefile holds rules only;
nothing here computes a result.
"""

from __future__ import annotations

import os
import shlex
from typing import Any, Mapping

#: default resources of each cohorts step
DEFAULT_RESOURCES = {"synth": {"threads": 2, "mem_mb": 4000, "runtime": 30},
                     "screen": {"threads": 2, "mem_mb": 6000, "runtime": 30},
                     "evaluate": {"threads": 1, "mem_mb": 2000, "runtime": 20}}


def resource(section: Mapping[str, Any], step: str, key: str) -> Any:
    """``section["resources"][step][key]``, else the default."""
    return section.get("resources", {}).get(step, {}).get(key, DEFAULT_RESOURCES[step][key])


def screens(section: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Screens by name."""
    return {s["name"]: dict(s) for s in section.get("screens", [])}


def screen_inputs(section: Mapping[str, Any], name: str, cohorts_dir: str) -> list[str]:
    """Files one screen depends on: the synthetic CDM's manifest when it screens ``synthetic``, and its input files."""
    s = screens(section)[name]
    out = []
    if s["cdm"] == "synthetic":
        out.append(f"{cohorts_dir}/synth/manifest.json")
    for key in ("criteria", "text", "nct_file"):
        if s.get(key) and os.path.exists(s[key]):
            out.append(s[key])
    return out


def screen_args(section: Mapping[str, Any], name: str, cohorts_dir: str) -> str:
    """Shell-quoted options of ``discovery cohorts screen`` for one screen (``--out`` excluded)."""
    s = screens(section)[name]
    cdm = f"{cohorts_dir}/synth" if s["cdm"] == "synthetic" else s["cdm"]
    args = ["--cdm", cdm, "--small-cell", str(s.get("small_cell", 5))]
    for key, opt in (("criteria", "--criteria"), ("text", "--text"), ("nct_file", "--nct-file"), ("nct", "--nct"),
                     ("vocab_cdm", "--vocab-cdm")):
        if s.get(key):
            args += [opt, str(s[key])]
    for rule_name in s.get("disable", []):
        args += ["--disable", rule_name]
    if s.get("allow_unknown_concepts"):
        args.append("--allow-unknown-concepts")
    return " ".join(shlex.quote(a) for a in args)


def report_inputs(section: Mapping[str, Any], cohorts_dir: str) -> list[str]:
    """Manifests of the result folders the report reads."""
    out = [f"{cohorts_dir}/screen/{n}/manifest.json" for n in screens(section)]
    if section.get("evaluate_parser"):
        out.append(f"{cohorts_dir}/parser_eval/manifest.json")
    return out
