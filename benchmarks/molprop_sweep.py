"""Ablation sweep for ``discovery molprop train`` on the molprop benchmark's own splits.

Runs several variants of our training command over the benchmark's data sets
and seeds, many runs at a time, and compares each variant's test (and
validation) metric with Chemprop's from the last full benchmark
(``benchmarks/results/molprop_vs_chemprop.json``). It is how candidate
settings for the "tuned" configuration of ``benchmarks/molprop_vs_chemprop.py``
are screened; the adopted configuration is then measured by that benchmark,
side by side with Chemprop, which is the only source of the goal figures.

A variant is ``NAME=BASE:FLAGS``: ``BASE`` is ``default`` or ``tuned`` (the
benchmark's :data:`OURS_CONFIGS`) or ``tuned-v1`` (its tuned config before
2026-12-01, the base of the sweeps in ``benchmarks/sweeps/``), ``FLAGS`` are extra ``molprop train`` flags
appended after the base's (argparse keeps the last value of a repeated flag).
Example::

    python benchmarks/molprop_sweep.py --workers 14 --threads 1 \\
        --variant 'tuned=tuned:' --variant 'fd=tuned:--feature-dropout 0.5' \\
        --out benchmarks/_work/sweep/runs.jsonl

The splits are the benchmark's (``discovery.chem.make_split``, scaffold,
80/10/10, per seed), written under ``--workdir`` if not there yet. Each run
appends one JSON line to ``--out`` (variant, data set, seed, validation and
test metric, epochs, wall seconds, the exact command); runs already in that
file are skipped, so an interrupted sweep resumes. Wall seconds of runs that
share the machine are only comparable within one sweep.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Sequence

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import molprop_vs_chemprop as mvc  # noqa: E402

#: rough cost of one run per data set (tuned config, 2-core CPU, s): longest first keeps workers busy
COST = {"lipo": 195, "bace": 72, "bbbp": 56, "esol": 35, "freesolv": 14}


def parse_variant(spec: str) -> tuple[str, list[str]]:
    """``NAME=BASE:FLAGS`` -> (name, full flag list)."""
    if "=" not in spec or ":" not in spec.split("=", 1)[1]:
        raise SystemExit(f"--variant {spec!r}: expected NAME=BASE:FLAGS, e.g. 'lin=tuned:--feature-fusion linear'")
    name, rest = spec.split("=", 1)
    base, flags = rest.split(":", 1)
    bases = {**mvc.OURS_CONFIGS, "tuned-v1": mvc.TUNED_V1}
    if base not in bases:
        raise SystemExit(f"--variant {spec!r}: base {base!r} is not one of {sorted(bases)}")
    cfg = dict(bases[base])
    cfg.setdefault("--epochs", 50)
    return name, mvc._flags(cfg) + shlex.split(flags)


def prepare_splits(datasets: Sequence[str], seeds: Sequence[int], workdir: Path) -> dict[tuple[str, int], Path]:
    """The benchmark's ``data.csv`` (with its ``split`` column) per data set and seed."""
    out = {}
    for key in datasets:
        ds = mvc.DATASETS[key]
        prep = None
        for seed in seeds:
            folder = workdir / key / f"seed{seed}"
            csv = folder / "data.csv"
            if not csv.is_file():
                prep = prep or mvc.prepare_dataset(ds)
                mvc.write_split_inputs(prep, mvc.scaffold_split(prep, seed), folder)
            out[key, seed] = csv
    return out


def run_one(job: dict[str, Any], threads: int) -> dict[str, Any]:
    ds = mvc.DATASETS[job["dataset"]]
    out = Path(job["out"])
    extra = ["--threads", str(threads), "--no-progress", *job["flags"]]
    cmd = mvc.train_command(ds, job["csv"], out, job["seed"], extra)
    env = mvc._subprocess_env(threads, out.parent / "cache")
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    rec = {k: job[k] for k in ("variant", "dataset", "seed")}
    rec.update(wall_s=round(wall, 2), rc=proc.returncode, command=shlex.join(cmd))
    if proc.returncode != 0:
        rec["error"] = (proc.stderr or proc.stdout)[-2000:]
        return rec
    m = json.loads((out / "metrics.json").read_text())
    t = ds.target_col
    rec["val"] = m["val"][t][ds.metric]
    rec["test"] = m["test"][t][ds.metric]
    fits = m["members"]["fit"]
    rec["epochs_run"] = [f["epochs_run"] for f in fits]
    rec["best_epoch"] = [f["best_epoch"] for f in fits]
    return rec


def chemprop_reference(path: Path) -> dict[str, float]:
    if not path.is_file():
        return {}
    summ = json.loads(path.read_text())["summary"]["datasets"]
    return {k: v["configs"]["chemprop"]["metric_mean"] for k, v in summ.items() if "chemprop" in v["configs"]}


def summarize(records: list[dict[str, Any]], variants: Sequence[str], datasets: Sequence[str], ref: dict[str, float]) -> str:
    lines = ["| variant | " + " | ".join(f"{mvc.DATASETS[d].title} test (val)" for d in datasets)
             + " | at least Chemprop | wall s (sum) |", "|---" * (len(datasets) + 3) + "|"]
    if ref:
        lines.append("| Chemprop v2 (benchmark) | " + " | ".join(f"{ref.get(d, float('nan')):.3f}" for d in datasets) + " | | |")
    for v in variants:
        cells, wins, wall, n_ok = [], 0, 0.0, 0
        for d in datasets:
            rs = [r for r in records if r["variant"] == v and r["dataset"] == d and r.get("rc") == 0]
            wall += sum(r["wall_s"] for r in rs)
            n_ok += len(rs)
            if not rs:
                cells.append("-")
                continue
            te = float(np.mean([r["test"] for r in rs]))
            va = float(np.mean([r["val"] for r in rs]))
            ok = d in ref and mvc._better_or_equal(mvc.DATASETS[d].metric, te, ref[d])
            wins += ok
            cells.append(f"{te:.3f} ({va:.3f}){' ✓' if ok else ''} n={len(rs)}")
        lines.append(f"| {v} | " + " | ".join(cells) + f" | {wins} of {len(datasets)} | {wall:.0f} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--variant", action="append", default=[], help="NAME=BASE:FLAGS (repeat)")
    ap.add_argument("--variants-file", type=Path, help="one NAME=BASE:FLAGS per line (# comments)")
    ap.add_argument("--datasets", default="lipo,bace,bbbp,esol,freesolv")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--workers", type=int, default=2, help="runs at a time")
    ap.add_argument("--threads", type=int, default=1, help="torch/OpenMP threads per run")
    ap.add_argument("--workdir", type=Path, default=mvc.BENCH_DIR / "_work" / "sweep")
    ap.add_argument("--splits-dir", type=Path, default=None,
                    help="folder with <dataset>/seed<k>/data.csv (default: WORKDIR/splits, made if missing)")
    ap.add_argument("--out", type=Path, default=None, help="JSON lines, one per run (default WORKDIR/runs.jsonl)")
    ap.add_argument("--reference", type=Path, default=mvc.RESULTS_JSON, help="benchmark results with Chemprop's runs")
    ap.add_argument("--summary-only", action="store_true",
                    help="run nothing: print the table of every variant in --out (in order of appearance)")
    a = ap.parse_args(argv)
    datasets = [d.strip() for d in a.datasets.split(",") if d.strip()]
    unknown = [d for d in datasets if d not in mvc.DATASETS]
    if unknown:
        raise SystemExit(f"unknown data set(s) {unknown}; choose from {sorted(mvc.DATASETS)}")
    if a.summary_only:
        if a.out is None or not a.out.is_file():
            raise SystemExit("--summary-only needs an existing --out file")
        records = [json.loads(x) for x in a.out.read_text().splitlines() if x.strip()]
        names = list(dict.fromkeys(r["variant"] for r in records))
        print(summarize(records, names, datasets, chemprop_reference(a.reference)))
        return 0
    specs = list(a.variant)
    if a.variants_file:
        specs += [x.strip() for x in a.variants_file.read_text().splitlines() if x.strip() and not x.startswith("#")]
    if not specs:
        raise SystemExit("no variants: give --variant NAME=BASE:FLAGS or --variants-file")
    variants = dict(parse_variant(s) for s in specs)
    out_path = a.out or a.workdir / "runs.jsonl"
    out_path.parent.mkdir(parents=True, exist_ok=True)
    csvs = prepare_splits(datasets, a.seeds, a.splits_dir or a.workdir / "splits")
    done = set()
    if out_path.is_file():
        for line in out_path.read_text().splitlines():
            r = json.loads(line)
            if r.get("rc") == 0:
                done.add((r["variant"], r["dataset"], r["seed"]))
    jobs = [
        {"variant": v, "dataset": d, "seed": s, "flags": flags, "csv": str(csvs[d, s]),
         "out": str(a.workdir / "runs" / v / d / f"seed{s}" / "out")}
        for v, flags in variants.items() for d in datasets for s in a.seeds if (v, d, s) not in done
    ]
    jobs.sort(key=lambda j: -COST.get(j["dataset"], 60))
    print(f"{len(jobs)} runs to do ({len(done)} already in {out_path}), {a.workers} at a time", flush=True)
    with ThreadPoolExecutor(a.workers) as pool, out_path.open("a") as fh:
        for fut in as_completed([pool.submit(run_one, j, a.threads) for j in jobs]):
            rec = fut.result()
            fh.write(json.dumps(rec) + "\n")
            fh.flush()
            msg = f"rc {rec['rc']}" if rec["rc"] else f"val {rec['val']:.3f} test {rec['test']:.3f}"
            print(f"{rec['variant']} {rec['dataset']} seed {rec['seed']}: {msg}, {rec['wall_s']:.0f} s", flush=True)
    records = [json.loads(x) for x in out_path.read_text().splitlines()]
    print(summarize(records, list(variants), datasets, chemprop_reference(a.reference)))
    return 0 if all(r.get("rc") == 0 for r in records if r["variant"] in variants) else 1


if __name__ == "__main__":
    raise SystemExit(main())
