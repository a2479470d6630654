"""Give freed heap memory back to the operating system (glibc ``malloc_trim``).

A forward pass of a graph model allocates and frees a few hundred MB of
tensors of varying sizes per batch. glibc keeps freed blocks below its mmap
threshold inside the heap, where RDKit's and Python's many small allocations
pin them, so without trimming the resident size of a long prediction or
training run creeps up batch after batch. Measured on 20k molecules with the
default D-MPNN (batch 1024): resident size between batches went from 480 to
770 MB without trimming and stayed at about 410 MB with a trim after each
batch. A trim costs well under a millisecond; numbers are unaffected.

Inside one forward pass glibc's *dynamic* mmap threshold adds more: once a
large tensor has been freed, blocks up to 32 MB are carved from the heap, where
they fragment. :func:`mmap_large_blocks` fixes the threshold at 1 MB, so every
tensor of a batch is its own mapping, returned to the OS when freed. Measured
with ``discovery molprop predict`` on 20k molecules (batch 1024): peak RSS
659 MB instead of 784 MB, CPU time +2 %.
"""

from __future__ import annotations

import ctypes
import os
import sys
from typing import Any, Callable

__all__ = ["release_memory", "mmap_large_blocks"]

_M_MMAP_THRESHOLD = -3  # mallopt parameter number (glibc malloc.h)


def _load(name: str, argtypes: list[Any]) -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = getattr(ctypes.CDLL("libc.so.6"), name)
    except (OSError, AttributeError):  # musl or another libc without it
        return None
    fn.argtypes = argtypes
    fn.restype = ctypes.c_int
    return fn


_TRIM = _load("malloc_trim", [ctypes.c_size_t])
_MALLOPT = _load("mallopt", [ctypes.c_int, ctypes.c_int])
_MMAP_SET = False


def release_memory() -> bool:
    """Return free heap pages to the OS; ``True`` if anything was released.

    A no-op (``False``) where glibc's ``malloc_trim`` is unavailable.
    """
    if _TRIM is None:
        return False
    return bool(_TRIM(0))


def mmap_large_blocks(threshold: int = 1 << 20) -> bool:
    """Serve allocations of ``threshold`` bytes or more with their own mapping (glibc ``mallopt``).

    Process-wide and permanent (it also switches off glibc's dynamic
    threshold), so it is meant for long batch jobs such as streaming
    prediction. Left alone when the user set ``MALLOC_MMAP_THRESHOLD_``; a
    no-op (``False``) without glibc. Returns ``True`` if the threshold is set.
    """
    global _MMAP_SET
    if _MALLOPT is None or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    if not _MMAP_SET:
        _MMAP_SET = bool(_MALLOPT(_M_MMAP_THRESHOLD, int(threshold)))
    return _MMAP_SET
