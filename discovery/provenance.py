"""Result-folder provenance: every result folder carries ``manifest.json``.

The manifest records the command, inputs with sha256, config, seed, package
versions, the git commit of this checkout and timings, so a folder always
says what produced it.
"""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Mapping

from .fsutil import atomic_write_text, sha256_file

_PACKAGES = ("discovery", "torch", "torch_geometric", "lightning", "rdkit", "numpy", "pandas", "scikit-learn")


def package_versions(extra: tuple[str, ...] = ()) -> dict[str, str]:
    """Installed versions of the packages that shape results."""
    out: dict[str, str] = {"python": platform.python_version()}
    for name in _PACKAGES + extra:
        try:
            out[name] = importlib.metadata.version(name.replace("_", "-"))
        except importlib.metadata.PackageNotFoundError:
            try:
                out[name] = importlib.metadata.version(name)
            except importlib.metadata.PackageNotFoundError:
                continue
    return out


def git_commit() -> str | None:
    """Commit of the checkout this package runs from (``+dirty`` if modified), or None."""
    root = Path(__file__).resolve().parent.parent
    try:
        sha = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5
        )
        if sha.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=5,
        )
        return sha.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


class Timer:
    """Collects named wall-clock timings: ``with timer("train"): ...``."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    def __call__(self, name: str) -> "_Span":
        return _Span(self, name)


class _Span:
    def __init__(self, timer: Timer, name: str) -> None:
        self.timer, self.name = timer, name

    def __enter__(self) -> None:
        self.t0 = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.timer.timings[self.name] = self.timer.timings.get(self.name, 0.0) + time.perf_counter() - self.t0


def build_manifest(
    *,
    kind: str,
    inputs: Mapping[str, str | os.PathLike] | None = None,
    config: Mapping[str, Any] | None = None,
    seed: int | None = None,
    timings: Mapping[str, float] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Assemble a manifest dict; inputs are hashed (sha256) here."""
    files = {}
    for name, path in (inputs or {}).items():
        p = Path(path)
        files[name] = {"path": str(p), "sha256": sha256_file(p) if p.is_file() else None}
    return {
        "kind": kind,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "command": sys.argv,
        "inputs": files,
        "config": dict(config or {}),
        "seed": seed,
        "versions": package_versions(),
        "git_commit": git_commit(),
        "platform": {"machine": platform.machine(), "system": platform.system(), "cpus": os.cpu_count()},
        "timings_s": {k: round(v, 3) for k, v in (timings or {}).items()},
        **dict(extra or {}),
    }


def write_manifest(folder: str | os.PathLike, manifest: Mapping[str, Any]) -> Path:
    path = Path(folder) / "manifest.json"
    atomic_write_text(path, json.dumps(manifest, indent=2, default=str) + "\n")
    return path
