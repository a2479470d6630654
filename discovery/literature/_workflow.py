"""Helpers of ``workflows/rules/literature.smk``: shards, arguments and resources of its rules.

Kept in the package so the rules file holds rules only; nothing here computes a result.

Inputs (``literature.inputs`` of the workflow config) may be registry dataset
names (``pubmed-samples``: every readable file of it), registered mirror
paths (``literature/pubmed-samples/pubmed4.xml``), or file paths and globs
(``/data/pubmed/baseline/pubmed25n*.xml.gz``). Each input file is one shard:
one ingest job and one extract job (one SLURM job each on a cluster).
"""

from __future__ import annotations

import glob
import os
import re
import shlex
from typing import Any, Mapping

DEFAULT_RESOURCES = {
    "model": {"threads": 1, "mem_mb": 3000, "runtime": 20},
    "ingest": {"threads": 1, "mem_mb": 2000, "runtime": 30},
    "extract": {"threads": 1, "mem_mb": 3000, "runtime": 120},
    "merge": {"threads": 1, "mem_mb": 4000, "runtime": 30},
    "evaluate": {"threads": 1, "mem_mb": 3000, "runtime": 20},
    "summarize": {"threads": 1, "mem_mb": 2000, "runtime": 10},
}

_SUFFIX = re.compile(r"(\.(xml|txt|pubtator|medline))?(\.gz)?$", re.I)


def resource(section: Mapping[str, Any], step: str, key: str) -> Any:
    return section.get("resources", {}).get(step, {}).get(key, DEFAULT_RESOURCES[step][key])


def _expand(entry: str) -> list[str]:
    from ..data.registry import REGISTRY
    from .io import detect_format
    from .vocab import data_file

    if entry in REGISTRY:
        from ..data.fetcher import fetch

        out = []
        for p in fetch(entry):
            try:
                detect_format(p)
            except Exception:
                continue  # README and other non-literature files of a dataset
            out.append(str(p))
        return out
    if any(f.relpath == entry for _i, f in REGISTRY.files()):
        return [str(data_file(entry))]
    hits = sorted(glob.glob(entry))
    return hits or [entry]


def shards(section: Mapping[str, Any]) -> dict[str, str]:
    """Shard name -> input file, in input order; names are the file names without format suffixes."""
    out: dict[str, str] = {}
    for entry in section.get("inputs", []):
        for path in _expand(entry):
            name = _SUFFIX.sub("", os.path.basename(path)) or "input"
            name = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
            base, i = name, 2
            while name in out and out[name] != path:
                name, i = f"{base}_{i}", i + 1
            out[name] = path
    return out


def entity_dir(entity: str) -> str:
    """Folder name of an entity id (``HGNC:1100`` -> ``HGNC_1100``)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", entity)


def entities(section: Mapping[str, Any]) -> dict[str, str]:
    return {entity_dir(e): e for e in section.get("summarize", [])}


def llm_args(section: Mapping[str, Any]) -> str:
    """``--extractor`` and LLM options of ``discovery literature extract``."""
    args = ["--extractor", section.get("extractor", "rules")]
    llm = section.get("llm", {}) or {}
    for key, opt in (("url", "--llm-url"), ("model", "--llm-model"), ("dialect", "--llm-dialect"),
                     ("concurrency", "--llm-concurrency"), ("timeout", "--llm-timeout")):
        if llm.get(key) is not None:
            args += [opt, str(llm[key])]
    for h in llm.get("local_hosts", []):
        args += ["--local-host", h]
    if llm.get("allow_remote"):
        args.append("--allow-remote")
    return " ".join(shlex.quote(a) for a in args)


def evaluate_args(section: Mapping[str, Any]) -> str:
    ev = section.get("evaluate", {}) or {}
    args = ["--split", ev.get("split", "test")]
    if ev.get("limit"):
        args += ["--limit", str(ev["limit"])]
    return " ".join(shlex.quote(a) for a in args)


def report_inputs(section: Mapping[str, Any], lit_dir: str) -> list[str]:
    """Manifests of the result folders the report reads."""
    out = [f"{lit_dir}/evidence/manifest.json"]
    if (section.get("evaluate", {}) or {}).get("enabled", True):
        out.append(f"{lit_dir}/evaluate/manifest.json")
    out += [f"{lit_dir}/summary/{d}/manifest.json" for d in entities(section)]
    return out
