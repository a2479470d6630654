"""Streaming prediction at library scale: ours vs Chemprop v2, memory and speed.

``discovery molprop predict`` streams its input (read a small chunk, let the
valid molecules fill one model batch, featurize and predict it, append the rows
to the output, drop it), so peak memory should not grow with the number of
molecules. This benchmark shows it: it builds a screening
library of real molecules (every valid SMILES of the registered MoleculeNet
sets, repeated in a seeded shuffled order up to N rows), trains one small
model with each tool on ESOL (the model's quality does not matter here, its
size does: both use the same default architecture, hidden 300, depth 3), and
predicts the library with both tools, each in its own subprocess with wall
time and peak RSS measured.

Runs: ours at ``--small`` and ``--large`` rows (default 100k and 1M) and, with
``--xlarge N``, at N rows too; Chemprop at ``--small`` rows (Chemprop's
predict holds every datapoint in memory, so its peak RSS grows with N; the 1M
run would need several GB and more than an hour here, so it is left out unless
``--chemprop-large``). The libraries are prefixes of one another and our
predictions do not depend on how the input is chunked, so the benchmark also
checks that the first ``--small`` rows of every larger output are byte-identical
to the small run's output.

Results go to ``benchmarks/results/molprop.md`` (between the
``predict_streaming`` markers; the integrator merges it into RESULTS.md) and
``benchmarks/results/predict_streaming.json``.

Usage::

    python benchmarks/predict_streaming.py            # 100k and 1M (about 25 min on 2 cores)
    python benchmarks/predict_streaming.py --small 20000 --large 200000 --xlarge 1000000
    python benchmarks/predict_streaming.py --small 2000 --large 20000 --skip-chemprop --no-write   # quick
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
    """Write the header and first ``n_rows`` rows of ``src`` to ``dst`` (kept if already identical)."""
    with open(src, "rb") as fin:
        lines = [line for _, line in zip(range(n_rows + 1), fin)]
    data = b"".join(lines)
    if dst.exists() and dst.stat().st_size == len(data) and dst.read_bytes() == data:
        return  # never rewrite a library another run may be reading
    tmp = dst.with_name(dst.name + ".partial")
    tmp.write_bytes(data)
    os.replace(tmp, dst)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", type=int, default=100_000)
    ap.add_argument("--large", type=int, default=1_000_000)
    ap.add_argument("--xlarge", type=int, default=None, help="also predict this many rows with ours")
    ap.add_argument("--chunksize", type=int, default=10_000)
    ap.add_argument("--chemprop-large", action="store_true", help="also run Chemprop on the large library")
    ap.add_argument("--skip-chemprop", action="store_true")
    ap.add_argument("--threads", type=int, default=1,
                    help="OMP/MKL threads of every measured process, both tools (default 1: fair on a shared machine)")
    ap.add_argument("--workdir", type=Path, default=REPO_ROOT / "benchmarks" / "_work" / "predict_streaming")
    ap.add_argument("--resume", action="store_true",
                    help="reuse runs measured earlier in --workdir (<run>.json) with the same command")
    ap.add_argument("--note", action="append", default=[], help="extra note line for the results section (repeatable)")
    ap.add_argument("--no-write", action="store_true", help="do not update results/molprop.md / results JSON")
    args = ap.parse_args(argv)

    # like the Makefile and CI: the data mirror beside the checkout unless set
    os.environ.setdefault("DISCOVERY_DATA_MIRROR", str(REPO_ROOT.parent / "shared" / "data"))
    work: Path = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    bin_dir = Path(sys.executable).parent
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(args.threads)

    sizes = sorted({args.small, args.large, *([args.xlarge] if args.xlarge else [])})
    biggest = work / f"library_{sizes[-1]}.csv"
    n_unique = build_library(biggest, sizes[-1]) if not biggest.exists() else None
    libs = {n: work / f"library_{n}.csv" for n in sizes}
    for n in sizes[:-1]:
        head(biggest, libs[n], n)
    lib_small = libs[args.small]
    load_start = os.getloadavg()

    from discovery import data

    esol = data.fetch("esol")[0]
    runs: dict[str, dict] = {}

    def measured(name: str, cmd: list[str]) -> dict:
        saved = work / f"{name}.json"
        if args.resume and saved.exists():
            rec = json.loads(saved.read_text())
            if rec.get("command") == " ".join(cmd):
                runs[name] = rec
                print(f"{name}: reused {saved} ({rec['wall_s']} s, peak RSS {rec['peak_rss_mb']} MB)", flush=True)
                return rec
        m = run_measured(cmd, log=work / f"{name}.log", env=env)
        if m.returncode != 0:
            print(m.log_tail(), file=sys.stderr)
            raise SystemExit(f"{name} failed with exit code {m.returncode}: see {m.log}")
        rec = {"wall_s": round(m.wall_s, 2), "peak_rss_mb": round(m.peak_rss_mb, 1), "cpu_s": round(m.cpu_s, 2),
               "command": " ".join(cmd)}
        runs[name] = rec
        saved.write_text(json.dumps(rec, indent=2) + "\n")
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
        if "rows_out" not in rec:
            with open(out) as fh:
                rec["rows_out"] = sum(1 for _ in fh) - 1
            rec["mol_per_s"] = round(rec["rows_out"] / rec["wall_s"], 1)
            (work / f"predict_ours_{n}.json").write_text(json.dumps(rec, indent=2) + "\n")
        return rec

    def chemprop(n: int, lib: Path) -> dict:
        model = sorted(cp_model_dir.rglob("best*.pt"))[0]
        out = work / f"preds_chemprop_{n}.csv"
        rec = measured(f"predict_chemprop_{n}", [str(bin_dir / "chemprop"), "predict", "-i", str(lib), "-s", "smiles",
                                                 "--model-paths", str(model), "-o", str(out),
                                                 "--accelerator", "cpu", "--devices", "1"])
        if "rows_out" not in rec:
            with open(out) as fh:
                rec["rows_out"] = sum(1 for _ in fh) - 1
            rec["mol_per_s"] = round(rec["rows_out"] / rec["wall_s"], 1)
            (work / f"predict_chemprop_{n}.json").write_text(json.dumps(rec, indent=2) + "\n")
        return rec

    ours_runs: dict[int, dict] = {}
    cp_runs: dict[int, dict] = {}
    mi = machine_info()
    ver = versions(["torch", "rdkit", "chemprop", "lightning"])

    def report(final: bool) -> str:
        """The results section from the runs done so far (written after every run)."""
        load_now = os.getloadavg()
        small_ours, small_cp = ours_runs.get(args.small), cp_runs.get(args.small)
        # a run may carry a "variant" (set by hand in its <run>.json) when it was measured with other code
        rows = [[f"discovery ({r['variant']})" if r.get("variant") else "discovery", f"{n:,}", r["wall_s"],
                 r["mol_per_s"], r["peak_rss_mb"]] for n, r in sorted(ours_runs.items())]
        rows += [["chemprop", f"{n:,}", r["wall_s"], r["mol_per_s"], r["peak_rss_mb"]] for n, r in sorted(cp_runs.items())]
        table = markdown_table(["tool", "molecules", "wall s", "mol/s", "peak RSS MB"], rows)
        lines = []
        for n in sizes[1:]:
            if small_ours and n in ours_runs and ours_runs[n].get("variant") != small_ours.get("variant"):
                lines.append(f"ours at {n:,} ran another code variant ({ours_runs[n].get('variant') or 'current'}) "
                             f"than at {args.small:,}: no growth ratio computed (see the notes)")
            elif small_ours and n in ours_runs:
                growth = ratio(ours_runs[n]["peak_rss_mb"], small_ours["peak_rss_mb"])
                lines.append(
                    f"ours, peak RSS at {n:,} / at {args.small:,} molecules: {fmt_ratio(growth)} "
                    f"(--chunksize {args.chunksize:,}, --batch-size 1024; 1.00x means no growth with input size)"
                )
        if small_ours and small_cp:
            lines.append(f"ours / chemprop at {args.small:,}: wall time "
                         f"{fmt_ratio(ratio(small_ours['wall_s'], small_cp['wall_s']))}, "
                         f"peak RSS {fmt_ratio(ratio(small_ours['peak_rss_mb'], small_cp['peak_rss_mb']))}")
        if small_ours and small_cp and small_ours.get("cpu_s") and small_cp.get("cpu_s"):
            lines.append(f"ours / chemprop CPU time (user + sys, less sensitive to the shared machine's load) at "
                         f"{args.small:,}: {fmt_ratio(ratio(small_ours['cpu_s'], small_cp['cpu_s']))} "
                         f"({small_ours['cpu_s']:.0f} s vs {small_cp['cpu_s']:.0f} s)")
        # chunking does not change our numbers: the small output is a prefix of every larger one
        if small_ours and len(ours_runs) > 1:
            small_text = (work / f"preds_ours_{args.small}.csv").read_bytes()
            prefix_ok = {}
            for n in ours_runs:
                with open(work / f"preds_ours_{n}.csv", "rb") as fh:
                    prefix_ok[n] = fh.read(len(small_text)) == small_text
            runs["prefix_identical"] = {str(n): ok for n, ok in prefix_ok.items()}
            lines.append(
                "first {:,} rows of every larger output byte-identical to the {:,}-row output: {}".format(
                    args.small, args.small, "yes" if all(prefix_ok.values()) else
                    "NO (" + ", ".join(f"{n:,}" for n, ok in prefix_ok.items() if not ok) + ")")
            )
        planned = [f"ours {n:,}" for n in sizes if n not in ours_runs]
        planned += [f"chemprop {n:,}" for n in cp_sizes if n not in cp_runs]
        if planned and not final:
            lines.append("runs still in progress when this was written: " + ", ".join(planned))
        lines.extend(args.note)
        lines.append(f"load average (1/5/15 min) at start {tuple(round(x, 2) for x in load_start)}, "
                     f"when written {tuple(round(x, 2) for x in load_now)}; torch/OpenMP threads per process: {args.threads}")
        xl = f" --xlarge {args.xlarge}" if args.xlarge else ""
        body = "\n".join([
            "## Streaming prediction (`benchmarks/predict_streaming.py`)",
            "",
            f"Date {now_iso()}; machine: {mi['cpu']}, {mi['cores']} cores, {mi.get('ram_gib')} GiB, GPU: {mi.get('gpu')}; "
            f"versions: {', '.join(f'{k} {v}' for k, v in ver.items())}; discovery commit {git_commit()}.",
            "",
            f"Command: `nice -n 10 .venv/bin/python benchmarks/predict_streaming.py --small {args.small} "
            f"--large {args.large}{xl}`. "
            "Library: valid SMILES of the nine registered MoleculeNet sets, repeated in seeded shuffled order; "
            "one single model per tool (D-MPNN defaults, hidden 300, depth 3, trained 5 epochs on ESOL); "
            "each run is its own process, run one after another; wall time includes start-up, parsing, "
            "featurization and writing the CSV. The machine's 2 cores were shared with other jobs during the run "
            "(see the load average): compare ratios rather than absolute times.",
            "",
            table,
            "",
            *[f"- {ln}" for ln in lines],
        ])
        if not args.no_write:
            res = REPO_ROOT / "benchmarks" / "results" / "molprop.md"
            res.parent.mkdir(parents=True, exist_ok=True)
            res.write_text(replace_section(res.read_text() if res.exists() else "", SECTION, body))
            out_json = REPO_ROOT / "benchmarks" / "results" / "predict_streaming.json"
            out_json.write_text(json.dumps({"date": now_iso(), "machine": mi, "versions": ver, "unique_smiles": n_unique,
                                            "load_avg": {"start": load_start, "written": load_now},
                                            "args": {k: str(v) for k, v in vars(args).items()}, "runs": runs},
                                           indent=2) + "\n")
        return body

    # small sizes first on both sides (the side-by-side ratio), then the large ones
    cp_sizes = [] if args.skip_chemprop else [args.small] + ([args.large] if args.chemprop_large else [])
    ours_runs[args.small] = ours(args.small, lib_small)
    report(False)
    if args.small in cp_sizes:
        cp_runs[args.small] = chemprop(args.small, lib_small)
        report(False)
    for n in sizes:
        if n not in ours_runs:
            ours_runs[n] = ours(n, libs[n])
            report(False)
    for n in cp_sizes:
        if n not in cp_runs:
            cp_runs[n] = chemprop(n, libs[n])
            report(False)
    body = report(True)
    print()
    print(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
