"""Splits: determinism, partitions, scaffold disjointness, k-fold, column, files."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from discovery.chem.splits import (
    Split,
    bemis_murcko_scaffold,
    kfold_splits,
    load_split_json,
    make_split,
    save_split_json,
    scaffold_groups,
    to_chemprop_splits,
    write_chemprop_splits,
)
from discovery.errors import ConfigError, InputError


def assert_partition(split: Split, n: int) -> None:
    parts = [split.train, split.val, split.test]
    for p in parts:
        assert p.dtype == np.int64 and np.all(np.diff(p) > 0)  # sorted, no repeats
    allidx = np.concatenate(parts)
    assert allidx.size == n and np.array_equal(np.sort(allidx), np.arange(n))


def scaffolds_of(table, idx):
    return {bemis_murcko_scaffold(table.mols[i]) for i in idx}


def test_bemis_murcko_scaffold():
    assert bemis_murcko_scaffold("CCO") == ""  # acyclic
    assert bemis_murcko_scaffold("Cc1ccccc1") == "c1ccccc1"
    # chirality ignored
    assert bemis_murcko_scaffold("C[C@H](N)C1CCCCC1") == bemis_murcko_scaffold("C[C@@H](N)C1CCCCC1") == "C1CCCCC1"
    assert bemis_murcko_scaffold("[CH3:1]c1ccccc1") == "c1ccccc1"  # atom maps cleared


@pytest.mark.parametrize("kind", ["random", "scaffold"])
def test_deterministic_and_partition(esol_table, kind):
    n = len(esol_table)
    a = make_split(esol_table.smiles, kind, seed=3, mols=esol_table.mols)
    b = make_split(esol_table.smiles, kind, seed=3, mols=esol_table.mols)
    c = make_split(esol_table.smiles, kind, seed=4, mols=esol_table.mols)
    assert_partition(a, n)
    for part in ("train", "val", "test"):
        assert np.array_equal(getattr(a, part), getattr(b, part))
    assert not np.array_equal(a.test, c.test)
    assert a.kind == kind and a.seed == 3 and a.sizes == (0.8, 0.1, 0.1)


def test_random_sizes(esol_table):
    s = make_split(esol_table.smiles, "random", sizes=(0.7, 0.2, 0.1), seed=0)
    assert (s.train.size, s.val.size, s.test.size) == (int(0.7 * 1128), int(0.9 * 1128) - int(0.7 * 1128), 1128 - int(0.9 * 1128))


def test_scaffold_split_keeps_scaffolds_apart(esol_table):
    s = make_split(esol_table.smiles, "scaffold", seed=0, mols=esol_table.mols)
    tr, va, te = (scaffolds_of(esol_table, p) for p in (s.train, s.val, s.test))
    assert not (tr & va) and not (tr & te) and not (va & te)
    # acyclic molecules ("" scaffold) form one group, in exactly one part
    acyclic = [i for i, m in enumerate(esol_table.mols) if m.GetRingInfo().NumRings() == 0]
    assert len(acyclic) == s.meta["n_acyclic"] > 0
    assert sum(np.isin(acyclic, p).all() for p in (s.train, s.val, s.test)) == 1
    # sizes close to the request: train filled up to 80 %
    assert s.train.size <= 0.8 * 1128 and s.train.size > 0.75 * 1128
    assert s.val.size <= 0.1 * 1128 and s.test.size > 0
    assert s.meta["n_scaffolds"] == len(scaffold_groups(esol_table.smiles, esol_table.mols))


def _chemprop_v1_scaffold_balanced(scaffolds, sizes, seed):
    """Chemprop v1 ``scaffold_split(balanced=True)``, transcribed (index sets as Python sets)."""
    from collections import defaultdict

    n = len(scaffolds)
    train_size, val_size, test_size = sizes[0] * n, sizes[1] * n, sizes[2] * n
    train, val, test = [], [], []
    scaffold_to_indices = defaultdict(set)
    for i, sc in enumerate(scaffolds):
        scaffold_to_indices[sc].add(i)
    rnd = random.Random(seed)
    index_sets = list(scaffold_to_indices.values())
    big_index_sets, small_index_sets = [], []
    for index_set in index_sets:
        if len(index_set) > val_size / 2 or len(index_set) > test_size / 2:
            big_index_sets.append(index_set)
        else:
            small_index_sets.append(index_set)
    rnd.seed(seed)
    rnd.shuffle(big_index_sets)
    rnd.shuffle(small_index_sets)
    index_sets = big_index_sets + small_index_sets
    for index_set in index_sets:
        if len(train) + len(index_set) <= train_size:
            train += index_set
        elif len(val) + len(index_set) <= val_size:
            val += index_set
        else:
            test += index_set
    return sorted(train), sorted(val), sorted(test)


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_scaffold_split_equals_chemprop_v1_algorithm(esol_table, seed):
    scaffolds = [bemis_murcko_scaffold(m) for m in esol_table.mols]
    ref = _chemprop_v1_scaffold_balanced(scaffolds, (0.8, 0.1, 0.1), seed)
    s = make_split(esol_table.smiles, "scaffold", seed=seed, mols=esol_table.mols)
    assert (s.train.tolist(), s.val.tolist(), s.test.tolist()) == ref


def test_scaffold_split_without_mols_parses_smiles():
    smiles = ["c1ccccc1C", "c1ccccc1CC", "C1CCCCC1O", "CCO", "CCN", "c1ccncc1", "C1CC1C", "O=C1CCCCC1"] * 3
    s = make_split(smiles, "scaffold", seed=0)
    assert_partition(s, len(smiles))


@pytest.mark.parametrize("by", ["random", "scaffold"])
def test_kfold(esol_table, by):
    n = len(esol_table)
    splits = kfold_splits(esol_table.smiles, n_folds=5, seed=0, kind=by, mols=esol_table.mols)
    assert len(splits) == 5
    tests = [s.test for s in splits]
    assert np.array_equal(np.sort(np.concatenate(tests)), np.arange(n))  # test folds partition the data
    for i, s in enumerate(splits):
        assert_partition(s, n)
        assert np.array_equal(s.val, splits[(i + 1) % 5].test)  # next fold is val
        assert s.meta["fold"] == i and s.meta["group_by"] == by
    if by == "scaffold":
        fold_scaffolds = [scaffolds_of(esol_table, t) for t in tests]
        for i in range(5):
            for j in range(i + 1, 5):
                assert not (fold_scaffolds[i] & fold_scaffolds[j])
    else:
        assert max(t.size for t in tests) - min(t.size for t in tests) <= 1
    again = make_split(esol_table.smiles, "kfold", seed=0, fold=2, n_folds=5, kfold_by=by, mols=esol_table.mols)
    assert np.array_equal(again.test, splits[2].test)


def test_column_split():
    vals = ["train", "TRAIN", " val ", "Test", "train"]
    s = make_split(["C"] * 5, "column", column_values=vals)
    assert s.train.tolist() == [0, 1, 4] and s.val.tolist() == [2] and s.test.tolist() == [3]
    with pytest.raises(InputError) as e:
        make_split(["C"] * 3, "column", column_values=["train", "valid", "test"], rows=[2, 3, 5])
    assert e.value.row == 3 and e.value.value == "valid" and "row 3" in str(e.value)
    with pytest.raises(InputError):
        make_split(["C"] * 3, "column", column_values=["train", "val"])


def test_bad_options():
    with pytest.raises(ConfigError, match="summing to 1"):
        make_split(["C", "CC"], "random", sizes=(0.8, 0.3, 0.1))
    with pytest.raises(ConfigError, match="unknown split kind"):
        make_split(["C", "CC"], "cluster")
    with pytest.raises(ConfigError, match="fold"):
        make_split(["C"] * 10, "kfold", fold=5, n_folds=5)
    with pytest.raises(InputError, match="empty"):
        make_split([], "random")


def test_split_json_round_trip(esol_table, tmp_path):
    s = make_split(esol_table.smiles, "scaffold", seed=1, mols=esol_table.mols)
    path = tmp_path / "splits.json"
    save_split_json(path, s, esol_table.smiles)
    doc = json.loads(path.read_text())
    assert doc["kind"] == "scaffold" and doc["seed"] == 1 and doc["sizes"] == [0.8, 0.1, 0.1]
    assert doc["test"]["smiles"][0] == esol_table.smiles[doc["test"]["indices"][0]]
    back = load_split_json(path, smiles=esol_table.smiles)
    for part in ("train", "val", "test"):
        assert np.array_equal(getattr(back, part), getattr(s, part))
    assert back.kind == s.kind and back.seed == s.seed and back.meta["n_scaffolds"] == s.meta["n_scaffolds"]
    other = list(esol_table.smiles)
    other[int(s.val[0])] = "CCCCCCCC"
    with pytest.raises(InputError, match="does not match the data"):
        load_split_json(path, smiles=other)
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(InputError, match="not a JSON"):
        load_split_json(tmp_path / "bad.json")


def test_chemprop_splits_format(esol_table, tmp_path):
    splits = kfold_splits(esol_table.smiles, n_folds=3, seed=0)
    doc = to_chemprop_splits(splits)
    assert len(doc) == 3 and set(doc[0]) == {"train", "val", "test"}
    assert all(isinstance(i, int) for i in doc[0]["train"])
    path = tmp_path / "cp_splits.json"
    write_chemprop_splits(path, splits)
    loaded = json.loads(path.read_text())
    assert loaded == doc
    try:  # read back with chemprop's own parser when it is installed
        from chemprop.cli.utils.parsing import parse_indices
    except ImportError:
        return
    assert [parse_indices(d["test"]) for d in loaded] == [s.test.tolist() for s in splits]
