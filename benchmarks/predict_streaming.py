"""Streaming prediction at library scale: ours vs Chemprop v2, memory and speed.

``discovery molprop predict`` reads its input in chunks (featurize a chunk,
predict it, append the rows to the output), so peak memory should not grow
with the number of molecules. This benchmark shows it: it builds a screening
library of real molecules (every valid SMILES of the registered MoleculeNet
sets, repeated in a seeded shuffled order up to N rows), trains one small
model with each tool on ESOL (the model's quality does not matter here, its
size does: both use the same default architecture, hidden 300, depth 3), and
predicts the library with both tools, each in its own subprocess with wall
time and peak RSS measured.

Runs: ours at ``--small`` and ``--large`` rows (default 100k and 1M), Chemprop
at ``--small`` rows (Chemprop's predict holds every datapoint in memory, so
its peak RSS grows with N; the 1M run would need several GB and more than an
hour here, so it is left out unless ``--chemprop-large``).

Usage::

    python benchmarks/predict_streaming.py            # 100k and 1M (about 15 min on 2 cores)
    python benchmarks/predict_streaming.py --small 20000 --large 100000 --no-write   # quick
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench_utils import (  # noqa: E402
    REPO_ROOT,
    fmt_ratio,
    git_commit,
    machine_info,
    markdown_table,
    now_iso,
    ratio,
    replace_section,
    run_measured,
    versions,
)

SECTION = "predict_streaming"
SOURCES = ["esol", "freesolv", "lipophilicity", "bbbp", "bace", "clintox", "sider", "tox21", "hiv"]


def build_library(path: Path, n_rows: int, seed: int = 0) -> int:
    """Write ``n_rows`` valid SMILES (column ``smiles``) drawn from the registry's molecule sets."""
    from rdkit import Chem, RDLogger

    from discovery import data

    RDLogger.DisableLog("rdApp.*")
    pool: list[str] = []
    for name in SOURCES:
        info = data.get(name)
        df = data.load(name)
        pool.extend(str(s) for s in df[info.smiles_column].tolist())
    unique = sorted({s for s in pool if s and Chem.MolFromSmiles(s) is not None})
    rng = np.random.default_rng(seed)
    order = np.concatenate([rng.permutation(len(unique)) for _ in range(n_rows // len(unique) + 1)])[:n_rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fh.write("smiles\n")
        for i in order:
            fh.write(unique[i] + "\n")
    return len(unique)


def head(src: Path, dst: Path, n_rows: int) -> None:
    with open(src) as fin, open(dst, "w") as fout:
        for i, line in enumerate(fin):
            if i > n_rows:
                break
            fout.write(line)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", type=int, default=100_000)
    ap.add_argument("--large", type=int, default=1_000_000)
    ap.add_argument("--chunksize", type=int, default=10_000)
    ap.add_argument("--chemprop-large", action="store_true", help="also run Chemprop on the large library")
    ap.add_argument("--skip-chemprop", action="store_true")
    ap.add_argument("--workdir", type=Path, default=REPO_ROOT / "benchmarks" / "_work" / "predict_streaming")
    ap.add_argument("--no-write", action="store_true", help="do not update RESULTS.md / results JSON")
    args = ap.parse_args(argv)

    # like the Makefile and CI: the data mirror beside the checkout unless set
    os.environ.setdefault("DISCOVERY_DATA_MIRROR", str(REPO_ROOT.parent / "shared" / "data"))
    work: Path = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    bin_dir = Path(sys.executable).parent
    env = dict(os.environ)

    lib_large = work / f"library_{args.large}.csv"
    lib_small = work / f"library_{args.small}.csv"
    if not lib_large.exists():
        n_unique = build_library(lib_large, args.large)
    else:
        n_unique = None
    head(lib_large, lib_small, args.small)

    from discovery import data

    esol = data.fetch("esol")[0]
    runs: dict[str, dict] = {}

    def measured(name: str, cmd: list[str]) -> dict:
        m = run_measured(cmd, log=work / f"{name}.log", env=env)
        if m.returncode != 0:
            print(m.log_tail(), file=sys.stderr)
            raise SystemExit(f"{name} failed with exit code {m.returncode}: see {m.log}")
        rec = {"wall_s": round(m.wall_s, 2), "peak_rss_mb": round(m.peak_rss_mb, 1), "command": " ".join(cmd)}
        runs[name] = rec
        print(f"{name}: {rec['wall_s']} s, peak RSS {rec['peak_rss_mb']} MB", flush=True)
        return rec

    # one model per tool, same architecture defaults, 5 epochs
    ours_model = work / "model_ours"
    if not (ours_model / "model" / "bundle.json").exists():
        measured("train_ours", [str(bin_dir / "discovery"), "molprop", "train", "--data", str(esol),
                                "--smiles-col", "smiles", "--target", "logp", "--split", "random",
                                "--epochs", "5", "--seed", "0", "--out", str(ours_model)])
    cp_model_dir = work / "model_chemprop"
    if not args.skip_chemprop and not list(cp_model_dir.rglob("best*.pt")):
        shutil.rmtree(cp_model_dir, ignore_errors=True)
        measured("train_chemprop", [str(bin_dir / "chemprop"), "train", "--data-path", str(esol), "-s", "smiles",
                                    "--target-columns", "logp", "--epochs", "5", "--save-dir", str(cp_model_dir),
                                    "--accelerator", "cpu", "--devices", "1"])

    def ours(n: int, lib: Path) -> dict:
        out = work / f"preds_ours_{n}.csv"
        rec = measured(f"predict_ours_{n}", [str(bin_dir / "discovery"), "molprop", "predict", "--model", str(ours_model),
                                             "--data", str(lib), "--smiles-col", "smiles", "--out", str(out),
                                             "--chunksize", str(args.chunksize)])
        with open(out) as fh:
            rec["rows_out"] = sum(1 for _ in fh) - 1
        rec["mol_per_s"] = round(rec["rows_out"] / rec["wall_s"], 1)
        return rec

    def chemprop(n: int, lib: Path) -> dict:
        model = sorted(cp_model_dir.rglob("best*.pt"))[0]
        out = work / f"preds_chemprop_{n}.csv"
        rec = measured(f"predict_chemprop_{n}", [str(bin_dir / "chemprop"), "predict", "-i", str(lib), "-s", "smiles",
                                                 "--model-paths", str(model), "-o", str(out),
                                                 "--accelerator", "cpu", "--devices", "1"])
        with open(out) as fh:
            rec["rows_out"] = sum(1 for _ in fh) - 1
        rec["mol_per_s"] = round(rec["rows_out"] / rec["wall_s"], 1)
        return rec

    small_ours = ours(args.small, lib_small)
    large_ours = ours(args.large, lib_large)
    small_cp = None if args.skip_chemprop else chemprop(args.small, lib_small)
    large_cp = chemprop(args.large, lib_large) if (args.chemprop_large and not args.skip_chemprop) else None

    rows = [
        ["discovery", f"{args.small:,}", small_ours["wall_s"], small_ours["mol_per_s"], small_ours["peak_rss_mb"]],
        ["discovery", f"{args.large:,}", large_ours["wall_s"], large_ours["mol_per_s"], large_ours["peak_rss_mb"]],
    ]
    if small_cp:
        rows.append(["chemprop", f"{args.small:,}", small_cp["wall_s"], small_cp["mol_per_s"], small_cp["peak_rss_mb"]])
    if large_cp:
        rows.append(["chemprop", f"{args.large:,}", large_cp["wall_s"], large_cp["mol_per_s"], large_cp["peak_rss_mb"]])
    table = markdown_table(["tool", "molecules", "wall s", "mol/s", "peak RSS MB"], rows)
    growth = ratio(large_ours["peak_rss_mb"], small_ours["peak_rss_mb"])
    lines = [
        f"ours, peak RSS at {args.large:,} / at {args.small:,} molecules: {fmt_ratio(growth)} "
        f"(input read in chunks of {args.chunksize:,}; 1.00x would mean no growth with input size)",
    ]
    if small_cp:
        lines.append(f"ours / chemprop at {args.small:,}: wall time {fmt_ratio(ratio(small_ours['wall_s'], small_cp['wall_s']))}, "
                     f"peak RSS {fmt_ratio(ratio(small_ours['peak_rss_mb'], small_cp['peak_rss_mb']))}")
    mi = machine_info()
    ver = versions(["torch", "rdkit", "chemprop", "lightning"])
    body = "\n".join([
        "## Streaming prediction (`benchmarks/predict_streaming.py`)",
        "",
        f"Date {now_iso()}; machine: {mi['cpu']}, {mi['cores']} cores, {mi.get('ram_gib')} GiB, GPU: {mi.get('gpu')}; "
        f"versions: {', '.join(f'{k} {v}' for k, v in ver.items())}; discovery commit {git_commit()}.",
        "",
        f"Command: `.venv/bin/python benchmarks/predict_streaming.py --small {args.small} --large {args.large}`. "
        "Library: valid SMILES of the nine registered MoleculeNet sets, repeated in seeded shuffled order; "
        "one single model per tool (D-MPNN defaults, hidden 300, depth 3, trained 5 epochs on ESOL); "
        "each run is its own process; wall time includes start-up, parsing, featurization and writing the CSV.",
        "",
        table,
        "",
        *[f"- {ln}" for ln in lines],
    ])
    print()
    print(body)
    if not args.no_write:
        res = REPO_ROOT / "benchmarks" / "RESULTS.md"
        res.write_text(replace_section(res.read_text() if res.exists() else "# Benchmark results\n\n", SECTION, body))
        out_json = REPO_ROOT / "benchmarks" / "results" / "predict_streaming.json"
        out_json.parent.mkdir(parents=True, exist_ok=True)
        out_json.write_text(json.dumps({"date": now_iso(), "machine": mi, "versions": ver, "unique_smiles": n_unique,
                                        "args": {k: str(v) for k, v in vars(args).items()}, "runs": runs}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
