"""Process settings of the JAX kernels: persistent compilation cache and the malloc arena cap.

Each case runs in a fresh interpreter: the cache folder and the allocator are
decided once per process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("jax")

SCRIPT = r"""
import json, sys
import numpy as np
from discovery.screening.runtime import lean_allocator
arena = lean_allocator()
from discovery.screening import FingerprintIndex, FingerprintSpec, topk_search
from discovery.screening.search import BLOCK_ROWS
from discovery.screening.runtime import enable_compilation_cache
rng = np.random.default_rng(0)
n = BLOCK_ROWS + 904  # two blocks at the default size, the second one padded
bits = rng.random((n, 1024)) < 0.08
fps = np.packbits(bits, axis=1, bitorder="little").view(np.uint64)
lib = FingerprintIndex.from_packed(fps, spec=FingerprintSpec(radius=2, nbits=1024))
q = fps[[5, 4500, 77]] ^ np.uint64(1 << 3)
a = topk_search(q, lib, k=7)
b = topk_search(q, lib, k=7, kernel="numpy")
print(json.dumps({"arena": arena, "cache": enable_compilation_cache(), "same": bool(
    np.array_equal(a.indices, b.indices) and np.array_equal(a.scores, b.scores)),
    "idx": a.indices.tolist()}))
"""


def _run(tmp_path: Path, **env: str) -> dict:
    e = {**os.environ, "DISCOVERY_CACHE": str(tmp_path / "cache"), "JAX_PLATFORMS": "cpu", **env}
    e.pop("JAX_COMPILATION_CACHE_DIR", None)
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=e, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _entries(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc mallopt")
def test_compilation_cache_is_written_then_reused_and_results_are_exact(tmp_path):
    first = _run(tmp_path)
    cache = tmp_path / "cache" / "jax"
    assert first["cache"] == str(cache) and first["arena"] is True
    assert first["same"], "default-size blocks must give the exact (NumPy) top-k"
    written = _entries(cache)
    assert written, "the kernels' compilations were not cached"
    second = _run(tmp_path)
    assert second["idx"] == first["idx"] and second["same"]
    assert _entries(cache) == written, "a second process recompiled instead of loading the cache"


def test_compilation_cache_can_be_turned_off(tmp_path):
    res = _run(tmp_path, DISCOVERY_JAX_CACHE="0")
    assert res["cache"] is None and res["same"]
    assert not (tmp_path / "cache" / "jax").exists()


def test_unwritable_cache_root_still_searches(tmp_path):
    root = tmp_path / "ro"
    root.mkdir()
    (root / "cache").write_text("a file where the cache folder should be")  # makedirs fails below it
    res = _run(root)
    assert res["cache"] is None and res["same"]
