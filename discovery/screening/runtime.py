"""Process-level settings for the JAX search kernels: compilation cache and allocator.

Two things decide how much of a search process's memory and start-up time is
not the search itself (benchmarks/RESULTS.md, "Similarity search", measures both):

- **XLA compilation.** Every new kernel shape is compiled by LLVM in every
  new process (RSS of compiler pages and heap: ~38 MiB more at peak here).
  :func:`enable_compilation_cache` turns on JAX's persistent compilation cache
  under ``$DISCOVERY_CACHE/jax`` (``DISCOVERY_JAX_CACHE=0`` turns it off; a
  cache directory the user configured for JAX is kept), so later processes
  load the compiled kernels instead.
- **glibc malloc arenas.** XLA's runtime and compiler threads each get their
  own malloc arena, and freed memory stays in those arenas: the process's
  peak RSS then exceeds its live memory by tens of MB. :func:`lean_allocator`
  caps the arenas at one (``mallopt(M_ARENA_MAX, 1)``, the same as
  ``MALLOC_ARENA_MAX=1``); the search kernels run one computation at a time,
  so nothing contends for it. Call it before JAX starts its threads:
  ``discovery screen search`` does, and so does the benchmark.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys

from discovery.config import get_settings

__all__ = ["enable_compilation_cache", "lean_allocator"]

log = logging.getLogger(__name__)

_M_ARENA_MAX = -8  # glibc <malloc.h>
_state: dict[str, object] = {}


def enable_compilation_cache() -> str | None:
    """Use a persistent XLA compilation cache; returns its folder (None when off).

    Idempotent. Kept off when ``DISCOVERY_JAX_CACHE`` is ``0``/``false``/``no``;
    a ``jax_compilation_cache_dir`` already set (by the user or
    ``JAX_COMPILATION_CACHE_DIR``) is left as it is.
    """
    if "cache" in _state:
        return _state["cache"]  # type: ignore[return-value]
    import jax

    folder: str | None
    if os.environ.get("DISCOVERY_JAX_CACHE", "1").lower() in ("0", "false", "no", ""):
        folder = None
    elif jax.config.jax_compilation_cache_dir:
        folder = str(jax.config.jax_compilation_cache_dir)
    else:
        folder = str(get_settings().cache_dir / "jax")
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as e:  # a read-only cache root: search still works, it just compiles every time
            log.warning("no XLA compilation cache (%s: %s); kernels are compiled in every process", folder, e)
            _state["cache"] = None
            return None
        jax.config.update("jax_compilation_cache_dir", folder)
        # the search kernels compile in well under JAX's default 1 s threshold; cache them all
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    _state["cache"] = folder
    return folder


def lean_allocator() -> bool:
    """Cap glibc's malloc arenas at one; True when applied (False off glibc or when it fails)."""
    if "arena" in _state:
        return bool(_state["arena"])
    ok = False
    if sys.platform.startswith("linux"):
        try:
            # the symbols already loaded into this process (libc's among them): no library search
            ok = bool(ctypes.CDLL(None).mallopt(_M_ARENA_MAX, 1))
        except (OSError, AttributeError):  # not glibc (e.g. musl has no mallopt)
            ok = False
    if not ok:
        log.debug("malloc arena cap not applied (not glibc)")
    _state["arena"] = ok
    return ok
