"""Building, memory-mapping and reopening fingerprint indexes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from discovery.errors import InputError
from discovery.screening import FingerprintIndex, FingerprintSpec, build_index, open_index, topk_search
from discovery.screening.fingerprints import fingerprint_smiles


@pytest.fixture()
def smi_file(tmp_path, esol_smiles):
    lines = ["smiles name"]
    for i, s in enumerate(esol_smiles[:230]):
        lines.append(f"{s} mol{i}")
        if i == 17:
            lines.append("C1CC(C bad_ring")
        if i == 100:
            lines.append("not_a_smiles bad2")
    lines.append(f"{esol_smiles[5]} dup5")  # a duplicate SMILES is kept (its own position)
    p = tmp_path / "lib.smi"
    p.write_text("\n".join(lines) + "\n")
    return p


def test_build_open_round_trip_memory_mapped(tmp_path, smi_file, esol_smiles):
    out = tmp_path / "idx"
    spec = FingerprintSpec(radius=2, nbits=1024)
    summary = build_index(smi_file, out, spec, chunksize=40, n_jobs=1)
    assert summary.n == 231 and summary.n_invalid == 2
    idx = open_index(out)
    assert isinstance(idx.fps, np.memmap) and idx.fps.dtype == np.uint64 and idx.fps.shape == (231, 16)
    assert np.all(np.diff(np.asarray(idx.popcounts)) >= 0)  # sorted by popcount
    assert sorted(np.asarray(idx.positions).tolist()) == list(range(231))
    mols = idx.molecules()
    assert mols["position"].tolist() == list(range(231))
    assert mols["id"].iloc[0] == "mol0" and mols["id"].iloc[-1] == "dup5"
    assert mols["row"].iloc[18] == 21  # header row 1, mol0 row 2, bad line at row 20
    smiles = esol_smiles[:230] + [esol_smiles[5]]
    expect, ok, _ = fingerprint_smiles(smiles, spec)
    assert np.array_equal(idx.fingerprints(), expect)  # input order restored
    inv = pd.read_csv(out / "invalid.csv")
    assert inv["row"].tolist() == [20, 104] and inv["smiles"].tolist() == ["C1CC(C", "not_a_smiles"]
    assert inv["reason"].str.len().min() > 5
    meta = json.loads((out / "index.json").read_text())
    assert meta["n"] == 231 and meta["spec"]["nbits"] == 1024
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "screening.index" and manifest["inputs"]["data"]["sha256"]
    # search on the memory-mapped index equals search on the in-memory one
    mem = FingerprintIndex.from_smiles(smiles, spec)
    a = topk_search(smiles[:15], idx, k=5, block_rows=64)
    b = topk_search(smiles[:15], mem, k=5)
    assert np.array_equal(a.indices, b.indices) and np.array_equal(a.scores, b.scores)
    assert a.indices[5, :2].tolist() == [5, 230]  # the duplicate ties, broken by index


def test_parallel_build_identical(tmp_path, smi_file):
    build_index(smi_file, tmp_path / "a", chunksize=50, n_jobs=1)
    build_index(smi_file, tmp_path / "b", chunksize=50, n_jobs=2)
    for f in ("fingerprints.npy", "popcounts.npy", "positions.npy"):
        assert np.array_equal(np.load(tmp_path / "a" / f), np.load(tmp_path / "b" / f))
    assert pd.read_parquet(tmp_path / "a" / "molecules.parquet").equals(
        pd.read_parquet(tmp_path / "b" / "molecules.parquet"))


def test_registry_dataset_and_raise_policy(tmp_path, smi_file):
    s = build_index("ESOL", tmp_path / "esol", FingerprintSpec(nbits=1024))
    assert s.n == 1128 and s.n_invalid == 0
    with pytest.raises(InputError, match="row 20"):
        build_index(smi_file, tmp_path / "x", on_error="raise")
    assert not (tmp_path / "x").exists()  # nothing that looks complete


def test_open_errors(tmp_path):
    with pytest.raises(InputError, match="index.json"):
        open_index(tmp_path)
    bad = tmp_path / "bad.smi"
    bad.write_text("xx1\nyy(\n")
    with pytest.raises(InputError, match="invalid"):
        build_index(bad, tmp_path / "out")


def _mapped_rss_kb(path) -> int:
    """Resident kB of this process's mappings of ``path`` (from /proc/self/smaps)."""
    import re

    total, inside = 0, False
    with open("/proc/self/smaps") as fh:
        for line in fh:
            if re.match(r"[0-9a-f]+-[0-9a-f]+ ", line):  # a mapping's header (anonymous ones have no path)
                head = line.split()
                inside = len(head) >= 6 and head[5] == str(path)
            elif inside and line.startswith("Rss:"):
                total += int(line.split()[1])
    return total


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="reads /proc/self/smaps")
def test_search_keeps_only_the_current_block_of_a_mapped_index_resident(tmp_path, esol_smiles):
    from discovery.screening import threshold_search

    smi = tmp_path / "esol.smi"
    smi.write_text("smiles\n" + "\n".join(esol_smiles) + "\n")
    build_index(smi, tmp_path / "idx", FingerprintSpec(nbits=2048), n_jobs=1)
    idx = open_index(tmp_path / "idx")
    fp_file = (tmp_path / "idx" / "fingerprints.npy").resolve()
    packed_kb = idx.fps.nbytes // 1024
    assert packed_kb > 250  # 1,128 molecules x 256 bytes
    queries = esol_smiles[:40]
    in_memory = open_index(tmp_path / "idx", mmap=False)  # reference: read into memory, not mapped
    assert _mapped_rss_kb(fp_file) == 0
    for search, kw in ((topk_search, {"k": 5}), (threshold_search, {"threshold": 0.5})):
        got = search(queries, idx, block_rows=64, kernel="numpy", **kw)
        # blocks of 64 rows (16 kB) were copied and their mapped pages dropped: far below the file's size
        assert _mapped_rss_kb(fp_file) <= 32, search.__name__
        want = search(queries, in_memory, block_rows=64, kernel="numpy", **kw)
        if search is topk_search:
            np.testing.assert_array_equal(got.indices, want.indices)
            np.testing.assert_array_equal(got.scores, want.scores)
        else:
            np.testing.assert_array_equal(got.target, want.target)
            np.testing.assert_array_equal(got.scores, want.scores)
    # reading the mapped array directly (no search) does make it resident: the measurement works
    assert int(np.asarray(idx.fps).sum()) > 0 and _mapped_rss_kb(fp_file) >= packed_kb - 8
