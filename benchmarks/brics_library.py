"""Reproducible "real-looking" screening library by BRICS recombination of the mirror's molecules.

Recipe (seeded; the output depends only on ``--n``, ``--seed`` and the mirror files):

1. Collect the valid SMILES of the registered MoleculeNet tables (ESOL, FreeSolv,
   Lipophilicity, BBBP, BACE, ClinTox, SIDER, Tox21, HIV), canonicalise, deduplicate,
   sort, and shuffle with ``numpy.random.default_rng(seed)``; decompose the first
   ``--sources`` of them with RDKit's ``BRICS.BRICSDecompose`` (Degen et al. 2008).
2. Keep fragments with 1 or 2 attachment points and 3-25 heavy atoms.
3. Repeatedly draw a core fragment and, for each of its attachment points, a terminal
   fragment whose BRICS environment label is compatible (``BRICS.reactionDefs``);
   join them with ``Chem.molzip``, sanitise, keep products with 12-50 heavy atoms,
   deduplicate by canonical SMILES, until ``--n`` products exist.

Written to ``benchmarks/_work/brics_<n>_s<seed>.smi`` (``smiles id``), with a
``.json`` sidecar (counts, seconds). The ``_work`` folder is git-ignored.

Usage: ``python benchmarks/brics_library.py --n 1000000 --seed 0 [--workers 2]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / "benchmarks" / "_work"
DATASETS = ("ESOL", "FreeSolv", "Lipophilicity", "BBBP", "BACE", "ClinTox", "SIDER", "Tox21", "HIV")


def library_path(n: int, seed: int) -> Path:
    return WORK / f"brics_{n}_s{seed}.smi"


def source_smiles(seed: int) -> list[str]:
    import pandas as pd
    from rdkit import Chem, RDLogger

    from discovery.data.loaders import resolve

    RDLogger.DisableLog("rdApp.*")
    out: set[str] = set()
    for name in DATASETS:
        path, info = resolve(name)
        df = pd.read_csv(path)
        col = info.smiles_column or "smiles"
        for s in df[col].astype(str):
            m = Chem.MolFromSmiles(s)
            if m is not None:
                out.add(Chem.MolToSmiles(m))
    smi = sorted(out)
    order = np.random.default_rng(seed).permutation(len(smi))
    return [smi[i] for i in order]


def _decompose(smiles: list[str]) -> list[str]:
    from rdkit import Chem, RDLogger
    from rdkit.Chem import BRICS

    RDLogger.DisableLog("rdApp.*")
    frags: set[str] = set()
    for s in smiles:
        m = Chem.MolFromSmiles(s)
        if m is None or m.GetNumHeavyAtoms() > 60:
            continue
        try:
            frags.update(BRICS.BRICSDecompose(m))
        except Exception:  # noqa: BLE001 - a molecule BRICS cannot cut contributes nothing
            continue
    return sorted(frags)


def _compat() -> dict[str, set[str]]:
    from rdkit.Chem import BRICS

    c: dict[str, set[str]] = {}
    for group in BRICS.reactionDefs:
        for a, b, _ in group:
            c.setdefault(a, set()).add(b)
            c.setdefault(b, set()).add(a)
    return c


def _fragment_table(frags: list[str]):
    from rdkit import Chem

    table = []  # (smiles, [labels])
    for f in frags:
        m = Chem.MolFromSmiles(f)
        if m is None:
            continue
        labels = [str(a.GetIsotope()) for a in m.GetAtoms() if a.GetAtomicNum() == 0]
        heavy = sum(1 for a in m.GetAtoms() if a.GetAtomicNum() > 0)
        if 1 <= len(labels) <= 2 and 3 <= heavy <= 25:
            table.append((f, labels))
    return table


def _generate(args: tuple[list[tuple[str, list[str]]], int, int, int]) -> list[str]:
    """Worker: ``n`` unique products from stream ``stream`` of the seed."""
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")
    table, n, seed, stream = args
    rng = np.random.default_rng([seed, stream])
    compat = _compat()
    mols = [Chem.MolFromSmiles(f) for f, _ in table]
    terminals: dict[str, list[int]] = {}
    for i, (_, labels) in enumerate(table):
        if len(labels) == 1:
            terminals.setdefault(labels[0], []).append(i)
    partners = {lab: np.array(sorted({j for other in compat.get(lab, ()) for j in terminals.get(other, [])}),
                              dtype=np.int64) for lab in compat}
    out: dict[str, None] = {}
    tries = 0
    while len(out) < n and tries < 50 * n:
        tries += 1
        core_i = int(rng.integers(len(table)))
        core = Chem.RWMol(mols[core_i])
        labels = table[core_i][1]
        pieces = []
        ok = True
        for k, lab in enumerate(labels):
            cand = partners.get(lab)
            if cand is None or len(cand) == 0:
                ok = False
                break
            pieces.append(int(cand[rng.integers(len(cand))]))
        if not ok:
            continue
        mapno = 1
        for a in core.GetAtoms():
            if a.GetAtomicNum() == 0:
                a.SetAtomMapNum(mapno)
                a.SetIsotope(0)
                mapno += 1
        combo = core.GetMol()
        for k, j in enumerate(pieces):
            t = Chem.RWMol(mols[j])
            for a in t.GetAtoms():
                if a.GetAtomicNum() == 0:
                    a.SetAtomMapNum(k + 1)
                    a.SetIsotope(0)
            combo = Chem.CombineMols(combo, t.GetMol())
        try:
            prod = Chem.molzip(combo)
            Chem.SanitizeMol(prod)
            if not 12 <= prod.GetNumHeavyAtoms() <= 50:
                continue
            s = Chem.MolToSmiles(prod)
        except Exception:  # noqa: BLE001 - an unsanitisable product is skipped
            continue
        if "*" in s or s in out:
            continue
        out[s] = None
    return list(out)


def build(n: int, seed: int = 0, sources: int = 3000, workers: int = 1, progress: bool = True) -> Path:
    """Build (or reuse) the cached library of ``n`` molecules; return its path."""
    path = library_path(n, seed)
    if path.exists() and path.with_suffix(".json").exists():
        return path
    WORK.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    frag_cache = WORK / f"brics_fragments_s{seed}_{sources}.json"
    if frag_cache.exists():
        frags = json.loads(frag_cache.read_text())
        src = [None] * sources
    else:
        src = source_smiles(seed)[:sources]
        parts = [src[i::workers] for i in range(workers)]
        with ctx.Pool(workers) as pool:
            frags = sorted(set().union(*pool.map(_decompose, parts)))
        frag_cache.write_text(json.dumps(frags))
    table = _fragment_table(frags)
    t1 = time.perf_counter()
    if progress:
        print(f"{len(src)} source molecules -> {len(frags)} BRICS fragments, {len(table)} usable "
              f"({t1 - t0:.0f} s)", file=sys.stderr)
    # streams produce overlapping products sometimes: over-generate a little, dedupe in stream order
    # streams 0..workers-1 first; when products repeat across streams (large n), further rounds
    # draw from streams workers.., so the first n unique products are the same for any n
    per = int(n / workers * 1.06) + 100
    seen: dict[str, None] = {}
    for rnd in range(8):
        with ctx.Pool(workers) as pool:
            results = pool.map(_generate, [(table, per, seed, rnd * workers + s) for s in range(workers)])
        for r in results:
            for s in r:
                seen.setdefault(s, None)
        if len(seen) >= n:
            break
        if progress:
            print(f"round {rnd + 1}: {len(seen):,} unique products of {n:,}; drawing more", file=sys.stderr)
    smiles = list(seen)[:n]
    if len(smiles) < n:
        raise SystemExit(f"only {len(smiles)} unique products; use more --sources")
    tmp = path.with_name(path.name + f".partial-{os.getpid()}")
    with open(tmp, "w") as fh:
        fh.write("smiles id\n")
        for i, s in enumerate(smiles):
            fh.write(f"{s} B{i:07d}\n")
    os.replace(tmp, path)
    meta = {"n": n, "seed": seed, "sources": len(src), "fragments": len(frags), "usable_fragments": len(table),
            "workers": workers, "seconds": round(time.perf_counter() - t0, 1)}
    path.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n")
    if progress:
        print(f"wrote {path} ({n} molecules) in {meta['seconds']} s", file=sys.stderr)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sources", type=int, default=3000)
    ap.add_argument("--workers", type=int, default=1)
    a = ap.parse_args()
    print(build(a.n, a.seed, a.sources, a.workers))


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
