"""Helpers of ``workflows/rules/screening.smk`` (argument building; no science here).

Each function takes the workflow's ``config["screening"]`` section (already
validated by ``workflows/config/screening.schema.yaml``).
"""

from __future__ import annotations

import shlex
from typing import Any, Mapping

#: per-step defaults, overridden by screening.resources.<step>.<key>
RESOURCES = {
    "index": {"threads": 2, "mem_mb": 4000, "runtime": 60, "gpu": 0},
    "search": {"threads": 1, "mem_mb": 4000, "runtime": 60, "gpu": 0},
    "cluster": {"threads": 1, "mem_mb": 4000, "runtime": 60, "gpu": 0},
    "pick": {"threads": 1, "mem_mb": 2000, "runtime": 30, "gpu": 0},
    "select": {"threads": 1, "mem_mb": 8000, "runtime": 120, "gpu": 0},
}
TABLE_SUFFIXES = (".csv", ".tsv", ".smi", ".txt", ".sdf", ".gz")


def resource(cfg: Mapping[str, Any], step: str, key: str) -> Any:
    """One resource of a step."""
    return cfg.get("resources", {}).get(step, {}).get(key, RESOURCES[step][key])


def file_input(value: Any) -> list[str]:
    """A value naming a file becomes a rule input; a registry dataset name does not."""
    return [str(value)] if str(value).lower().endswith(TABLE_SUFFIXES) else []


def fp_args(cfg: Mapping[str, Any]) -> str:
    fp = cfg.get("fingerprint", {})
    return f"--radius {int(fp.get('radius', 2))} --nbits {int(fp.get('nbits', 2048))}"


def search_args(cfg: Mapping[str, Any]) -> str:
    s = cfg.get("search", {})
    if s.get("threshold") is not None:
        return f"--threshold {float(s['threshold'])}"
    return f"--k {int(s.get('k', 10))}"


def select_args(cfg: Mapping[str, Any]) -> str:
    s = cfg.get("select", {})
    args = [f"--budget {int(s.get('budget', 96))}", f"--acquisition {shlex.quote(str(s.get('acquisition', 'ei')))}",
            f"--max-sim {float(s.get('max_sim', 0.9))}", f"--seed {int(s.get('seed', 0))}"]
    if s.get("target"):
        args.append(f"--target {shlex.quote(str(s['target']))}")
    if s.get("minimize"):
        args.append("--minimize")
    return " ".join(args)


def enabled_steps(cfg: Mapping[str, Any]) -> list[str]:
    """Steps after indexing that the config switches on."""
    return [s for s in ("search", "cluster", "pick", "select") if cfg.get(s, {}).get("enabled", True)]
