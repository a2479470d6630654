"""release_memory gives freed heap pages back to the OS (glibc), keeping long runs flat."""

from __future__ import annotations

import subprocess
import sys

import pytest

from discovery.molprop import _memory


@pytest.mark.skipif(_memory._TRIM is None, reason="no glibc malloc_trim here")
def test_release_memory_returns_freed_heap_pages():
    # in a fresh process: 1500 blocks of 96 KiB (below glibc's mmap threshold, so they live in
    # the heap), free all but the last (which pins the heap top, as live objects do in a real run)
    code = r"""
import ctypes, sys
from discovery.molprop._memory import release_memory
def rss():
    with open('/proc/self/statm') as fh:
        return int(fh.read().split()[1]) * 4096 / 2**20
blocks = [ctypes.create_string_buffer(96 * 1024) for _ in range(1500)]
for b in blocks:
    ctypes.memset(b, 1, len(b))
keep = blocks[-1]
del blocks
before = rss()
released = release_memory()
after = rss()
print(before, after, released)
assert released and before - after > 80, (before, after)
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr



@pytest.mark.skipif(_memory._MALLOPT is None, reason="no glibc mallopt here")
def test_mmap_large_blocks_returns_big_blocks_on_free():
    # glibc's dynamic threshold: once a 24 MiB mapping is freed, 8 MiB blocks come from the heap
    # and stay resident after free while a later block is alive; with mmap_large_blocks() each
    # is its own mapping and goes back to the OS at once
    code = r"""
import ctypes, os, sys
os.environ.pop('MALLOC_MMAP_THRESHOLD_', None)
from discovery.molprop._memory import mmap_large_blocks
def rss():
    with open('/proc/self/statm') as fh:
        return int(fh.read().split()[1]) * 4096 / 2**20
if sys.argv[1] == 'on':
    assert mmap_large_blocks(1 << 20)
libc = ctypes.CDLL('libc.so.6'); libc.malloc.restype = ctypes.c_void_p; libc.free.argtypes = [ctypes.c_void_p]
libc.free(libc.malloc(24 << 20))  # raises the dynamic threshold (when not fixed)
blocks = [libc.malloc(8 << 20) for _ in range(20)]
for b in blocks:
    ctypes.memset(b, 1, 8 << 20)
before = rss()
for b in blocks[:-1]:
    libc.free(b)
print(before - rss())
"""
    drops = {}
    for mode in ("off", "on"):
        res = subprocess.run([sys.executable, "-c", code, mode], capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stderr
        drops[mode] = float(res.stdout.split()[-1])
    assert drops["on"] > 120 and drops["off"] < 40, drops


def test_mmap_large_blocks_respects_the_users_setting(monkeypatch):
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "65536")
    monkeypatch.setattr(_memory, "_MMAP_SET", False)
    assert _memory.mmap_large_blocks() is False
