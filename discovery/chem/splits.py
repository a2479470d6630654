"""Train/validation/test splits: random, scaffold (balanced), k-fold, from a column.

All split kinds are deterministic for a given ``seed`` and return a
:class:`Split` whose ``train``/``val``/``test`` are int64 indices into the
molecule table, **sorted ascending**, disjoint and together covering every
index exactly once.

Random split
    ``np.random.default_rng(seed).permutation(n)``; the first
    ``int(sizes[0] * n)`` indices go to train, up to ``int((sizes[0] + sizes[1]) * n)``
    to val, the rest to test (the size arithmetic of Chemprop v1's random split).

Scaffold split (``kind="scaffold"``) -- Chemprop v1 ``scaffold_balanced``
    This reproduces ``chemprop.data.scaffold.scaffold_split(data, sizes, balanced=True, seed)``
    of Chemprop v1 (Yang et al., J. Chem. Inf. Model. 2019, 59, 3370):

    1. Each molecule's Bemis-Murcko scaffold is RDKit's
       ``MurckoScaffold.MurckoScaffoldSmiles(mol=mol, includeChirality=False)``
       (atom-map numbers cleared first, as Chemprop v2 does). Acyclic
       molecules have the empty scaffold ``""``; all of them form **one**
       group, like any other scaffold.
    2. Groups are listed in order of first occurrence. With
       ``train_size, val_size, test_size = sizes * n`` (floats), a group is
       *big* if ``len > val_size / 2`` or ``len > test_size / 2``, else *small*.
    3. ``rng = random.Random(seed)``; ``rng.shuffle(big)``; ``rng.shuffle(small)``;
       order = big + small.
    4. Each group in that order goes to train if ``len(train) + len(group) <= train_size``,
       else to val if ``len(val) + len(group) <= val_size``, else to test.

    So a scaffold never appears in two parts, big scaffold sets tend to land
    in train, and val/test are filled with many small, randomly chosen
    scaffold sets. With the same scaffolds and seed, the parts are the same
    as Chemprop v1's (v1 returns the indices in set-iteration order; we sort).

    Chemprop v2 (``chemprop.data.splitting.make_split_indices(split="scaffold_balanced")``)
    instead delegates to ``astartes`` (``train_val_test_split_molecules(sampler="scaffold")``):
    target counts are ``floor(size * n)``; clusters with at most
    ``min(n_test, n_val)`` members are shuffled with NumPy's RNG and put
    before the larger clusters, which are sorted by size *ascending*; each
    cluster is put in **test** if it fits, else in val if it fits, else in
    train. Both keep scaffolds disjoint, but the v2 assignment differs (test
    is filled first, sizes are floored, a different RNG), so the same seed
    gives different parts from Chemprop v2; to train Chemprop on *our* split,
    pass it with :func:`write_chemprop_splits` (``--splits-file``).

K-fold (``kfold_splits``)
    ``random``: a seeded permutation cut into ``n_folds`` near-equal folds
    (``np.array_split``). ``scaffold``: scaffold groups (as above) are shuffled
    with ``random.Random(seed)``, stably sorted by size (largest first) and
    each is given to the fold with the fewest molecules so far (ties: lowest
    fold number), so folds are scaffold-disjoint and close in size. Split
    ``i`` uses fold ``i`` as test, fold ``(i + 1) % n_folds`` as val and the rest
    as train.

Column split (``kind="column"``)
    Values ``train``/``val``/``test`` (case-insensitive, surrounding
    whitespace ignored), as Chemprop's ``--splits-column``; anything else is
    an :class:`~discovery.errors.InputError` naming the row and value.
"""

from __future__ import annotations

import json
import os
import random
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from discovery.errors import ConfigError, InputError

__all__ = [
    "Split",
    "SPLIT_KINDS",
    "make_split",
    "kfold_splits",
    "bemis_murcko_scaffold",
    "scaffold_groups",
    "save_split_json",
    "load_split_json",
    "to_chemprop_splits",
    "write_chemprop_splits",
]

SPLIT_KINDS = ("scaffold", "random", "kfold", "column")
_PARTS = ("train", "val", "test")
_FORMAT = "discovery.split"
_FORMAT_VERSION = 1


@dataclass
class Split:
    """Indices of the train, validation and test parts.

    Attributes
    ----------
    train, val, test : np.ndarray
        int64 indices into the molecule table, sorted ascending; disjoint and
        together covering ``0 .. n - 1``.
    kind : str
        ``"scaffold"``, ``"random"``, ``"kfold"`` or ``"column"``.
    seed : int
        Seed of the split (unused by ``column``).
    sizes : tuple of float
        Requested fractions (train, val, test); for ``column``, the realised ones.
    meta : dict
        Details: ``n``, and per kind e.g. ``fold``, ``n_folds``, ``group_by``,
        ``n_scaffolds`` and per-part scaffold counts.
    """

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    kind: str
    seed: int
    sizes: tuple
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        for p in _PARTS:
            setattr(self, p, np.sort(np.asarray(getattr(self, p), dtype=np.int64).reshape(-1)))
        self.sizes = tuple(float(s) for s in self.sizes)
        self.seed = int(self.seed)

    @property
    def n(self) -> int:
        """Number of indexed molecules."""
        return int(self.train.size + self.val.size + self.test.size)

    def parts(self) -> dict[str, np.ndarray]:
        return {"train": self.train, "val": self.val, "test": self.test}

    def check(self, n: int | None = None) -> None:
        """Raise ``ValueError`` unless the parts are disjoint and cover ``0 .. n - 1``."""
        n = self.n if n is None else int(n)
        allidx = np.concatenate([self.train, self.val, self.test])
        if allidx.size != n or not np.array_equal(np.sort(allidx), np.arange(n)):
            raise ValueError(f"split parts are not a partition of 0..{n - 1}")

    def __repr__(self) -> str:
        return (
            f"Split(kind={self.kind!r}, seed={self.seed}, train={self.train.size}, "
            f"val={self.val.size}, test={self.test.size})"
        )


# --------------------------------------------------------------------------- scaffolds
def bemis_murcko_scaffold(mol: Any) -> str:
    """Bemis-Murcko scaffold SMILES (chirality ignored); ``""`` for acyclic molecules.

    Parameters
    ----------
    mol : rdkit.Chem.Mol or str
        A molecule or a SMILES.

    Returns
    -------
    str
        ``MurckoScaffold.MurckoScaffoldSmiles(mol=mol, includeChirality=False)``,
        computed with atom-map numbers cleared.
    """
    from rdkit import Chem, rdBase
    from rdkit.Chem.Scaffolds import MurckoScaffold

    if isinstance(mol, str):
        with rdBase.BlockLogs():
            m = Chem.MolFromSmiles(mol)
        if m is None:
            raise ValueError(f"invalid SMILES {mol!r}")
        mol = m
    if mol is None:
        raise ValueError("cannot compute the scaffold of None")
    if any(a.GetAtomMapNum() for a in mol.GetAtoms()):
        mol = Chem.Mol(mol)
        for a in mol.GetAtoms():
            a.SetAtomMapNum(0)
    return MurckoScaffold.MurckoScaffoldSmiles(mol=mol, includeChirality=False)


def _mols_for(smiles: Sequence[str], mols: Sequence[Any] | None) -> list:
    if mols is not None:
        if len(mols) != len(smiles):
            raise ValueError(f"got {len(smiles)} SMILES but {len(mols)} molecules")
        return list(mols)
    from rdkit import Chem, rdBase

    out = []
    with rdBase.BlockLogs():
        for i, s in enumerate(smiles):
            m = Chem.MolFromSmiles(s)
            if m is None:
                raise InputError("invalid SMILES; validate molecules with discovery.chem.io first",
                                 value=s, hint=f"record index {i}")
            out.append(m)
    return out


def scaffold_groups(smiles: Sequence[str], mols: Sequence[Any] | None = None) -> "OrderedDict[str, list[int]]":
    """Map each scaffold to the (ascending) indices of its molecules, in order of first occurrence."""
    groups: OrderedDict[str, list[int]] = OrderedDict()
    for i, m in enumerate(_mols_for(smiles, mols)):
        groups.setdefault(bemis_murcko_scaffold(m), []).append(i)
    return groups


# --------------------------------------------------------------------------- helpers
def _check_sizes(sizes: Sequence[float]) -> tuple[float, float, float]:
    try:
        s = tuple(float(x) for x in sizes)
    except (TypeError, ValueError):
        raise ConfigError(f"split sizes must be three numbers, got {sizes!r}") from None
    if len(s) != 3 or any(x < 0 or not np.isfinite(x) for x in s) or not np.isclose(sum(s), 1.0):
        raise ConfigError(
            f"split sizes must be three non-negative fractions (train, val, test) summing to 1, got {sizes!r}",
            hint="e.g. 0.8 0.1 0.1",
        )
    if s[0] == 0:
        raise ConfigError(f"the train fraction must be positive, got {sizes!r}")
    return s  # type: ignore[return-value]


def _scaffold_balanced(groups: Sequence[Sequence[int]], n: int, sizes: tuple[float, float, float], seed: int):
    train_size, val_size, test_size = sizes[0] * n, sizes[1] * n, sizes[2] * n
    big, small = [], []
    for g in groups:
        (big if (len(g) > val_size / 2 or len(g) > test_size / 2) else small).append(g)
    rng = random.Random(seed)
    rng.shuffle(big)
    rng.shuffle(small)
    train: list[int] = []
    val: list[int] = []
    test: list[int] = []
    counts = [0, 0, 0]
    for g in big + small:
        if len(train) + len(g) <= train_size:
            train += g
            counts[0] += 1
        elif len(val) + len(g) <= val_size:
            val += g
            counts[1] += 1
        else:
            test += g
            counts[2] += 1
    return train, val, test, counts


def _kfold_assign(n: int, n_folds: int, seed: int, kind: str, smiles, mols) -> tuple[list[np.ndarray], dict]:
    if int(n_folds) < 2:
        raise ConfigError(f"n_folds must be at least 2, got {n_folds}")
    if n < n_folds:
        raise InputError(f"cannot make {n_folds} folds from {n} molecules")
    if kind == "random":
        perm = np.random.default_rng(seed).permutation(n)
        return [np.sort(f) for f in np.array_split(perm, n_folds)], {}
    if kind == "scaffold":
        groups = list(scaffold_groups(smiles, mols).values())
        if len(groups) < n_folds:
            raise InputError(f"only {len(groups)} distinct scaffolds for {n_folds} scaffold folds",
                             hint="use fewer folds or random folds")
        random.Random(seed).shuffle(groups)
        groups.sort(key=len, reverse=True)  # stable: ties keep the shuffled order
        folds: list[list[int]] = [[] for _ in range(n_folds)]
        for g in groups:
            k = min(range(n_folds), key=lambda j: (len(folds[j]), j))
            folds[k].extend(g)
        return [np.sort(np.asarray(f, dtype=np.int64)) for f in folds], {"n_scaffolds": len(groups)}
    raise ConfigError(f"unknown k-fold grouping {kind!r}; use 'random' or 'scaffold'")


# --------------------------------------------------------------------------- public
def kfold_splits(
    smiles: Sequence[str],
    n_folds: int = 5,
    seed: int = 0,
    kind: str = "random",
    *,
    mols: Sequence[Any] | None = None,
) -> list[Split]:
    """All ``n_folds`` cross-validation splits.

    Parameters
    ----------
    smiles : sequence of str
        ``[n]`` SMILES (used for scaffolds when ``kind="scaffold"`` and ``mols`` is None).
    n_folds : int, default 5
    seed : int, default 0
    kind : {"random", "scaffold"}
        How molecules are grouped into folds (see module docstring).
    mols : sequence of rdkit.Chem.Mol, optional
        Parsed molecules matching ``smiles``.

    Returns
    -------
    list of Split
        Split ``i``: test = fold ``i``, val = fold ``(i + 1) % n_folds``, train = the others.
    """
    n = len(smiles)
    folds, extra = _kfold_assign(n, n_folds, seed, kind, smiles, mols)
    out = []
    for i in range(n_folds):
        j = (i + 1) % n_folds
        train = np.concatenate([folds[k] for k in range(n_folds) if k not in (i, j)] or [np.empty(0, np.int64)])
        size = (len(train) / n, len(folds[j]) / n, len(folds[i]) / n)
        out.append(
            Split(train=train, val=folds[j], test=folds[i], kind="kfold", seed=seed, sizes=size,
                  meta={"n": n, "fold": i, "n_folds": int(n_folds), "group_by": kind, **extra})
        )
    return out


def make_split(
    smiles: Sequence[str],
    kind: str = "scaffold",
    sizes: Sequence[float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    *,
    fold: int = 0,
    n_folds: int = 5,
    column_values: Sequence[Any] | None = None,
    mols: Sequence[Any] | None = None,
    kfold_by: str = "random",
    rows: Sequence[int] | None = None,
) -> Split:
    """Split molecules into train, validation and test parts.

    Parameters
    ----------
    smiles : sequence of str
        ``[n]`` SMILES of the table (scaffolds are computed from ``mols`` if given).
    kind : {"scaffold", "random", "kfold", "column"}
        See the module docstring.
    sizes : (train, val, test) fractions summing to 1
        Ignored by ``kfold`` and ``column``.
    seed : int
        Seed of the random choices.
    fold, n_folds : int
        ``kfold`` only: which split of :func:`kfold_splits` to return.
    column_values : sequence, optional
        ``column`` only: ``[n]`` values ``train``/``val``/``test``.
    mols : sequence of rdkit.Chem.Mol, optional
        Parsed molecules matching ``smiles`` (saves re-parsing).
    kfold_by : {"random", "scaffold"}
        ``kfold`` only: grouping of the folds.
    rows : sequence of int, optional
        ``[n]`` file row numbers, used in error messages of ``column`` splits.

    Returns
    -------
    Split
        Sorted int64 index arrays.

    Raises
    ------
    ConfigError
        Unknown kind, bad sizes or fold numbers.
    InputError
        A bad ``column_values`` entry (row and value named), too few molecules.
    """
    n = len(smiles)
    if n == 0:
        raise InputError("cannot split an empty set of molecules")
    kind = str(kind).lower()
    seed = int(seed)
    if kind == "random":
        s = _check_sizes(sizes)
        perm = np.random.default_rng(seed).permutation(n)
        a, b = int(s[0] * n), int((s[0] + s[1]) * n)
        return Split(perm[:a], perm[a:b], perm[b:], "random", seed, s, {"n": n})
    if kind in ("scaffold", "scaffold_balanced"):
        s = _check_sizes(sizes)
        groups = scaffold_groups(smiles, mols)
        train, val, test, counts = _scaffold_balanced(list(groups.values()), n, s, seed)
        meta = {
            "n": n,
            "algorithm": "chemprop-v1 scaffold_balanced",
            "n_scaffolds": len(groups),
            "scaffolds_per_part": {"train": counts[0], "val": counts[1], "test": counts[2]},
            "n_acyclic": len(groups.get("", [])),
        }
        return Split(train, val, test, "scaffold", seed, s, meta)
    if kind == "kfold":
        if not 0 <= int(fold) < int(n_folds):
            raise ConfigError(f"fold must be in 0..{int(n_folds) - 1}, got {fold}")
        return kfold_splits(smiles, n_folds=n_folds, seed=seed, kind=kfold_by, mols=mols)[int(fold)]
    if kind == "column":
        if column_values is None:
            raise ConfigError("a column split needs column_values (the split column of the table)")
        if len(column_values) != n:
            raise InputError(f"split column has {len(column_values)} values for {n} molecules")
        parts: dict[str, list[int]] = {"train": [], "val": [], "test": []}
        for i, v in enumerate(column_values):
            key = str(v).strip().lower() if v is not None else ""
            if key not in parts:
                raise InputError(
                    "split column value must be train, val or test",
                    row=int(rows[i]) if rows is not None else None,
                    value=v,
                    hint=f"record index {i}; fix the value (case does not matter)",
                )
            parts[key].append(i)
        s = tuple(len(parts[p]) / n for p in _PARTS)
        return Split(parts["train"], parts["val"], parts["test"], "column", seed, s, {"n": n})
    raise ConfigError(f"unknown split kind {kind!r}; choose one of {', '.join(SPLIT_KINDS)}")


# --------------------------------------------------------------------------- files
def save_split_json(path: str | os.PathLike, split: Split, smiles: Sequence[str]) -> None:
    """Write ``splits.json``: kind, seed, sizes, meta and, per part, indices and SMILES (atomic write)."""
    from discovery.fsutil import atomic_write_text

    split.check(len(smiles))
    doc: dict[str, Any] = {
        "format": _FORMAT,
        "format_version": _FORMAT_VERSION,
        "kind": split.kind,
        "seed": split.seed,
        "sizes": list(split.sizes),
        "n": len(smiles),
        "meta": _jsonable(split.meta),
    }
    for p, idx in split.parts().items():
        doc[p] = {"indices": [int(i) for i in idx], "smiles": [str(smiles[int(i)]) for i in idx]}
    atomic_write_text(path, json.dumps(doc, indent=1) + "\n")


def load_split_json(path: str | os.PathLike, smiles: Sequence[str] | None = None) -> Split:
    """Read a file written by :func:`save_split_json`.

    Parameters
    ----------
    path : path
    smiles : sequence of str, optional
        The table the split is applied to; if given, every stored SMILES must
        match ``smiles[index]`` (else ``InputError``: the split belongs to other data).
    """
    p = Path(path)
    if not p.exists():
        raise InputError("split file not found", file=str(p))
    try:
        doc = json.loads(p.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not a JSON file: {exc}", file=str(p)) from None
    if not isinstance(doc, dict) or doc.get("format") != _FORMAT:
        raise InputError("not a discovery split file (missing format 'discovery.split')", file=str(p))
    if doc.get("format_version") != _FORMAT_VERSION:
        raise InputError(f"split file format version {doc.get('format_version')!r} is not supported", file=str(p))
    parts = {}
    for part in _PARTS:
        entry = doc.get(part) or {}
        idx = np.asarray(entry.get("indices", []), dtype=np.int64)
        stored = entry.get("smiles")
        if stored is not None and len(stored) != idx.size:
            raise InputError(f"part {part!r} has {idx.size} indices but {len(stored)} SMILES", file=str(p))
        if smiles is not None:
            if idx.size and (idx.min() < 0 or idx.max() >= len(smiles)):
                raise InputError(f"part {part!r} indexes past the {len(smiles)} molecules given", file=str(p))
            if stored is not None:
                for i, s in zip(idx, stored):
                    if smiles[int(i)] != s:
                        raise InputError(
                            f"split does not match the data: index {int(i)} of part {part!r} is {smiles[int(i)]!r} "
                            f"in the data but {s!r} in the split file",
                            file=str(p),
                            hint="recreate the split for this data",
                        )
        parts[part] = idx
    split = Split(parts["train"], parts["val"], parts["test"], kind=doc.get("kind", "unknown"),
                  seed=int(doc.get("seed", 0)), sizes=tuple(doc.get("sizes", (0, 0, 0))), meta=doc.get("meta", {}))
    n = doc.get("n", split.n) if smiles is None else len(smiles)
    try:
        split.check(n)
    except ValueError as exc:
        raise InputError(str(exc), file=str(p)) from None
    return split


def to_chemprop_splits(splits: Sequence[Split]) -> list[dict[str, list[int]]]:
    """Splits in Chemprop v2's ``--splits-file`` format.

    Chemprop 2.x (``chemprop/cli/train.py``) reads a JSON list with one dict
    per replicate, keys ``train``, ``val``, ``test``, each a list of 0-based
    row positions in the data file (or a range string such as ``"0-2,4"``),
    ``val``/``test`` optional. Our indices refer to the *valid* records of a
    :class:`~discovery.chem.io.MoleculeTable`; give Chemprop a data file with
    exactly those records in that order (e.g. ``table.to_frame()``).
    """
    if isinstance(splits, Split):
        splits = [splits]
    return [{p: [int(i) for i in getattr(s, p)] for p in _PARTS} for s in splits]


def write_chemprop_splits(path: str | os.PathLike, splits: Sequence[Split]) -> None:
    """Write :func:`to_chemprop_splits` output as JSON (atomic write)."""
    from discovery.fsutil import atomic_write_text

    atomic_write_text(path, json.dumps(to_chemprop_splits(splits)) + "\n")


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return obj
