"""``discovery screen``: fingerprint index, similarity search, clustering, diversity picks, next-batch selection.

Every ``--data``/``--library``/``--queries``/``--train`` option takes a
registered dataset name (e.g. ``ESOL``), a molecule file (CSV/TSV/SMI/SDF), or
(where a library is read) an index folder from ``discovery screen index``.
JAX, RDKit and pandas are imported inside the handlers.

Examples
--------
discovery screen index --data HIV --out runs/hiv-index
discovery screen search --library runs/hiv-index --queries hits.smi --k 10 --out runs/search
discovery screen search --library runs/hiv-index --query 'c1ccccc1O' --threshold 0.7 --out runs/search
discovery screen cluster --data ESOL --cutoff 0.4 --out runs/clusters
discovery screen pick --data lib.smi --n 96 --seed 0 --out runs/pick
discovery screen select --train measured.csv --target pIC50 --library lib.smi --budget 96 --out runs/next
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def _fp_args(p: argparse.ArgumentParser, default: bool = True) -> None:
    p.add_argument("--radius", type=int, default=2 if default else None, help="Morgan radius (default 2)")
    p.add_argument("--nbits", type=int, default=2048 if default else None,
                   help="fingerprint size in bits, a multiple of 64 (default 2048)")
    p.add_argument("--chirality", action="store_true", help="chirality in the Morgan invariants")


def _spec(args: argparse.Namespace):
    from discovery.screening.fingerprints import FingerprintSpec

    if getattr(args, "radius", None) is None and getattr(args, "nbits", None) is None:
        return None
    return FingerprintSpec(radius=args.radius if args.radius is not None else 2,
                           nbits=args.nbits if args.nbits is not None else 2048, chirality=bool(args.chirality))


def _progress(args: argparse.Namespace) -> bool:
    return (not getattr(args, "no_progress", False)) and sys.stderr.isatty()


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")

    p = sub.add_parser("index", help="fingerprint a library into a memory-mapped index folder",
                       description="Morgan fingerprints of DATA, packed uint64, sorted by popcount, in OUT "
                       "(fingerprints.npy, popcounts.npy, positions.npy, molecules.parquet, invalid.csv, manifest.json).")
    p.add_argument("--data", required=True, help="dataset name or .smi/.csv/.tsv file (.gz allowed)")
    p.add_argument("--out", required=True, help="index folder (replaced atomically)")
    _fp_args(p)
    p.add_argument("--smiles-col")
    p.add_argument("--id-col", help="id column (default: id/name/..., else the file row)")
    p.add_argument("--chunksize", type=int, default=50000, help="records per chunk (default 50000)")
    p.add_argument("--jobs", type=int, help="worker processes (default: CPUs available)")
    p.add_argument("--on-error", choices=("report", "raise"), default="report")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_index)

    p = sub.add_parser("search", help="top-k or threshold Tanimoto search (exact)",
                       description="Nearest neighbours of each query in LIBRARY; writes OUT/hits.csv, summary.json, "
                       "invalid_queries.csv, manifest.json.")
    p.add_argument("--library", required=True, help="index folder, dataset name or molecule file")
    q = p.add_mutually_exclusive_group(required=True)
    q.add_argument("--queries", help="dataset name or molecule file of queries")
    q.add_argument("--query", action="append", metavar="SMILES", help="a query SMILES (repeatable)")
    p.add_argument("--k", type=int, default=10, help="neighbours per query (default 10)")
    p.add_argument("--threshold", type=float, help="return every neighbour with Tanimoto >= this instead of top-k")
    p.add_argument("--kernel", choices=("jax", "numpy"), help="default: jax when installed")
    p.add_argument("--block-rows", type=int,
                   help="library rows per kernel call (default: 4096 on the CPU, 65536 when JAX runs on a GPU)")
    p.add_argument("--query-batch", type=int, default=256)
    p.add_argument("--no-bitbound", action="store_true", help="disable popcount pruning (same results, slower)")
    p.add_argument("--smiles-col")
    _fp_args(p, default=False)
    p.add_argument("--out", required=True)
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_search)

    p = sub.add_parser("cluster", help="Butina clustering at a Tanimoto distance cutoff",
                       description="Taylor-Butina clusters of DATA (RDKit's algorithm and tie order); writes "
                       "OUT/clusters.csv, summary.json, manifest.json.")
    p.add_argument("--data", required=True, help="index folder, dataset name or molecule file")
    p.add_argument("--cutoff", type=float, default=0.4, help="distance cutoff 1 - Tanimoto (default 0.4)")
    p.add_argument("--smiles-col")
    _fp_args(p, default=False)
    p.add_argument("--out", required=True)
    p.set_defaults(func=_cluster)

    p = sub.add_parser("pick", help="MaxMin diversity picking",
                       description="Pick N diverse molecules of DATA by MaxMin; writes OUT/picks.csv, manifest.json.")
    p.add_argument("--data", required=True, help="index folder, dataset name or molecule file")
    p.add_argument("--n", type=int, required=True, help="molecules to pick")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--chosen", help="molecule file of compounds already chosen (picks avoid their neighbourhood)")
    p.add_argument("--smiles-col")
    _fp_args(p, default=False)
    p.add_argument("--out", required=True)
    p.set_defaults(func=_pick)

    p = sub.add_parser("select", help="choose the next batch to measure (GP + acquisition)",
                       description="Fit a Tanimoto-kernel GP to TRAIN and choose BUDGET molecules of LIBRARY by "
                       "the acquisition, kept diverse; writes OUT/batch.csv (scores and reasons), gp.json, "
                       "summary.json, manifest.json.")
    p.add_argument("--train", required=True, help="measured molecules: dataset name or CSV with SMILES and target")
    p.add_argument("--target", help="target column of TRAIN (default: registry's, else the only numeric column)")
    p.add_argument("--library", required=True, help="candidates: index folder, dataset name or molecule file")
    p.add_argument("--budget", type=int, default=96, help="batch size (default 96)")
    p.add_argument("--acquisition", default="ei", help="ei (default), ucb, thompson, greedy or random")
    p.add_argument("--minimize", action="store_true", help="lower values are better")
    p.add_argument("--beta", type=float, default=2.0, help="UCB exploration weight")
    p.add_argument("--xi", type=float, default=0.0, help="EI margin in target units")
    p.add_argument("--max-sim", type=float, default=0.9, help="max Tanimoto between two picks (default 0.9)")
    p.add_argument("--pool", type=int, help="candidates kept for batch building (default max(2000, 20*budget))")
    p.add_argument("--kernel", default="minmax",
                   help="GP kernel: minmax (counts, default), tanimoto (binary) or minmax+physchem "
                        "(MinMax mixed with a kernel on 64 RDKit descriptors, mix chosen by marginal likelihood)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--smiles-col", help="SMILES column of TRAIN and LIBRARY files")
    p.add_argument("--include-measured", action="store_true",
                   help="allow library molecules that are already in TRAIN (default: excluded)")
    p.add_argument("--out", required=True)
    p.set_defaults(func=_select)


# ----------------------------------------------------------------------------- handlers
def _write_invalid(df: Any, path: Path) -> None:
    df.loc[:, ["row", "smiles", "reason"]].to_csv(path, index=False)


def _index(args: argparse.Namespace) -> int:
    from discovery.screening.index import build_index

    summary = build_index(args.data, args.out, _spec(args), smiles_col=args.smiles_col, id_col=args.id_col,
                          chunksize=args.chunksize, n_jobs=args.jobs, on_error=args.on_error,
                          progress=_progress(args))
    print(summary.line())
    return 0


def _library(args: argparse.Namespace, source: str):
    from discovery.screening.index import load_library

    return load_library(source, _spec(args), smiles_col=args.smiles_col)


def _input(source: str) -> dict[str, Path]:
    p = Path(source)
    if p.is_dir():
        return {"library_index": p / "fingerprints.npy"}
    from discovery.data.loaders import resolve

    return {"data": resolve(source)[0]}


def _search(args: argparse.Namespace) -> int:
    from discovery.screening.runtime import lean_allocator

    lean_allocator()  # before JAX starts its threads (discovery/screening/runtime.py)
    import numpy as np
    import pandas as pd

    from discovery.fsutil import atomic_dir
    from discovery.provenance import Timer, build_manifest, write_manifest
    from discovery.screening.fingerprints import fingerprint_smiles
    from discovery.screening.search import default_block_rows, threshold_search, topk_search

    args.block_rows = args.block_rows or default_block_rows(args.kernel)  # resolved here: the manifest records it
    timer = Timer()
    with timer("load"):
        lib, lib_invalid = _library(args, args.library)
        if args.queries:
            from discovery.screening.index import load_library

            qidx, q_invalid = load_library(args.queries, lib.spec, smiles_col=args.smiles_col)
            q_smiles = qidx.smiles_at(np.arange(len(qidx)))
            q_ids = qidx.molecules(["id"])["id"].astype(str).tolist()
            qfp = qidx.fingerprints()
        else:
            qfp, ok, reasons = fingerprint_smiles(args.query, lib.spec, on_error="report")
            q_invalid = pd.DataFrame({"row": [i + 1 for i in np.flatnonzero(~ok)],
                                      "smiles": [args.query[i] for i in np.flatnonzero(~ok)],
                                      "reason": [reasons[i] for i in np.flatnonzero(~ok)]})
            q_smiles = [args.query[i] for i in np.flatnonzero(ok)]
            q_ids = [f"query{i + 1}" for i in np.flatnonzero(ok)]
            if len(q_smiles) == 0:
                from discovery.errors import InputError

                raise InputError("no valid query SMILES", value=args.query[0], hint="check the --query values")
    common = dict(kernel=args.kernel, block_rows=args.block_rows, query_batch=args.query_batch,
                  bitbound=not args.no_bitbound, progress=_progress(args))
    with timer("search"):
        if args.threshold is not None:
            res = threshold_search(qfp, lib, args.threshold, **common)
            df = res.to_frame()
            df.insert(1, "rank", df.groupby("query").cumcount() + 1)
        else:
            res = topk_search(qfp, lib, args.k, **common)
            df = res.to_frame()
    mols = lib.molecules(["position", "id", "smiles"]).set_index("position")
    df["query_id"] = np.asarray(q_ids, dtype=object)[df["query"].to_numpy()]
    df["query_smiles"] = np.asarray(q_smiles, dtype=object)[df["query"].to_numpy()]
    df["target_id"] = mols["id"].reindex(df["target"]).to_numpy()
    df["target_smiles"] = mols["smiles"].reindex(df["target"]).to_numpy()
    df = df.loc[:, ["query", "query_id", "query_smiles", "rank", "target", "target_id", "target_smiles", "score"]]
    stats = res.stats.to_dict()
    summary = {"mode": "threshold" if args.threshold is not None else "topk", "k": args.k,
               "threshold": args.threshold, "n_queries": len(q_smiles), "n_invalid_queries": int(len(q_invalid)),
               "n_library": len(lib), "n_library_invalid": int(len(lib_invalid)), "n_hits": int(len(df)),
               "stats": stats}
    with atomic_dir(args.out) as tmp:
        df.to_csv(tmp / "hits.csv", index=False)
        _write_invalid(q_invalid, tmp / "invalid_queries.csv")
        _write_invalid(lib_invalid, tmp / "invalid_library.csv")
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
        inputs = _input(args.library)
        if args.queries:
            inputs.update({("queries" if k == "data" else "queries_index"): v for k, v in _input(args.queries).items()})
        write_manifest(tmp, build_manifest(
            kind="screening.search", inputs=inputs,
            config={"library": args.library, "queries": args.queries or args.query, "k": args.k,
                    "threshold": args.threshold, "kernel": stats["kernel"], "block_rows": args.block_rows,
                    "query_batch": args.query_batch, "bitbound": not args.no_bitbound,
                    **{f"fp_{k}": v for k, v in lib.spec.to_dict().items()}},
            timings=timer.timings, extra={"counts": {k: v for k, v in summary.items() if k.startswith("n_")}}))
    what = f"Tanimoto >= {args.threshold}" if args.threshold is not None else f"top-{args.k}"
    print(f"{len(q_smiles)} queries x {len(lib):,} library molecules ({what}): {len(df):,} hits, "
          f"{stats['pruned_fraction']:.0%} of pairs pruned by BitBound, {res.stats.seconds:.2f} s; wrote {args.out}")
    return 0


def _cluster(args: argparse.Namespace) -> int:
    from discovery.fsutil import atomic_dir
    from discovery.provenance import Timer, build_manifest, write_manifest
    from discovery.screening.diversity import butina_cluster

    timer = Timer()
    with timer("load"):
        lib, invalid = _library(args, args.data)
    with timer("cluster"):
        df = butina_cluster(lib, args.cutoff)
    mols = lib.molecules(["position", "id", "smiles"])
    df.insert(1, "id", mols["id"].to_numpy())
    df.insert(2, "smiles", mols["smiles"].to_numpy())
    n_clusters = int(df["cluster"].max()) + 1
    sizes = df.loc[df["centroid"], "cluster_size"]
    summary = {"cutoff": args.cutoff, "n": len(df), "n_invalid": int(len(invalid)), "n_clusters": n_clusters,
               "n_singletons": int((sizes == 1).sum()), "largest_cluster": int(sizes.max())}
    with atomic_dir(args.out) as tmp:
        df.to_csv(tmp / "clusters.csv", index=False)
        _write_invalid(invalid, tmp / "invalid_rows.csv")
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        write_manifest(tmp, build_manifest(kind="screening.cluster", inputs=_input(args.data),
                                           config={"data": args.data, "cutoff": args.cutoff,
                                                   **{f"fp_{k}": v for k, v in lib.spec.to_dict().items()}},
                                           timings=timer.timings, extra={"counts": summary}))
    print(f"{len(df):,} molecules in {n_clusters:,} clusters ({summary['n_singletons']:,} singletons, largest "
          f"{summary['largest_cluster']}) at distance cutoff {args.cutoff}; wrote {args.out}")
    return 0


def _pick(args: argparse.Namespace) -> int:
    from discovery.fsutil import atomic_dir
    from discovery.provenance import Timer, build_manifest, write_manifest
    from discovery.screening.diversity import maxmin_pick

    timer = Timer()
    with timer("load"):
        lib, invalid = _library(args, args.data)
        chosen_fps = None
        if args.chosen:
            from discovery.screening.index import load_library

            chosen_fps = load_library(args.chosen, lib.spec, smiles_col=args.smiles_col)[0].fingerprints()
    with timer("pick"):
        res = maxmin_pick(lib, args.n, seed=args.seed, chosen_fps=chosen_fps)
    df = res.to_frame()
    mols = lib.molecules(["position", "id", "smiles"]).set_index("position")
    df["id"] = mols["id"].reindex(df["position"]).to_numpy()
    df["smiles"] = mols["smiles"].reindex(df["position"]).to_numpy()
    with atomic_dir(args.out) as tmp:
        df.to_csv(tmp / "picks.csv", index=False)
        _write_invalid(invalid, tmp / "invalid_rows.csv")
        inputs = _input(args.data)
        if args.chosen:
            inputs["chosen"] = Path(args.chosen)
        write_manifest(tmp, build_manifest(kind="screening.pick", inputs=inputs, seed=args.seed,
                                           config={"data": args.data, "n": args.n, "chosen": args.chosen,
                                                   **{f"fp_{k}": v for k, v in lib.spec.to_dict().items()}},
                                           timings=timer.timings,
                                           extra={"counts": {"n_library": len(lib), "n_invalid": int(len(invalid)),
                                                             "n_picked": int(len(df))}}))
    print(f"picked {len(df)} of {len(lib):,} molecules (seed {args.seed}); largest similarity of a pick to "
          f"earlier picks: {float(df['max_sim_to_picked'].max()):.2f}; wrote {args.out}")
    return 0


def _select(args: argparse.Namespace) -> int:
    import numpy as np

    from discovery.chem.io import read_molecules
    from discovery.data.loaders import resolve
    from discovery.errors import InputError
    from discovery.fsutil import atomic_dir
    from discovery.provenance import Timer, build_manifest, write_manifest
    from discovery.screening.acquisition import ACQUISITIONS, select_batch
    from discovery.screening.gp import KERNELS, fit_gp

    if args.acquisition not in ACQUISITIONS:
        raise InputError(f"unknown acquisition {args.acquisition!r}", hint=f"choose one of {', '.join(ACQUISITIONS)}")
    if args.kernel not in KERNELS:
        raise InputError(f"unknown GP kernel {args.kernel!r}", hint=f"choose one of {', '.join(KERNELS)}")
    timer = Timer()
    with timer("load"):
        tpath, tinfo = resolve(args.train)
        target = args.target or (tinfo.target_columns[0] if tinfo is not None and tinfo.target_columns else None)
        smiles_col = args.smiles_col or (tinfo.smiles_column if tinfo is not None else None)
        train = read_molecules(tpath, smiles_col=smiles_col, target_cols=[target] if target else None,
                               require_targets=True)
        if train.targets is None or train.targets.shape[1] != 1:
            raise InputError(f"choose one target column with --target (found {train.target_cols})", file=str(tpath))
        y = train.targets[:, 0]
        keep = np.isfinite(y)
        from discovery.screening.index import load_library

        lib, lib_invalid = load_library(args.library, smiles_col=args.smiles_col)
        lib_smiles = lib.smiles_at(np.arange(len(lib)))
    with timer("fit"):
        gp = fit_gp([s for s, k in zip(train.smiles, keep) if k], y[keep], spec=lib.spec, kernel=args.kernel,
                    seed=args.seed)
    exclude = None
    if not args.include_measured:
        from rdkit import Chem

        def canon(s: str) -> str:
            m = Chem.MolFromSmiles(s)
            return Chem.MolToSmiles(m) if m is not None else s

        measured = {canon(s) for s in train.smiles}
        exclude = [i for i, s in enumerate(lib_smiles) if canon(s) in measured]
    with timer("select"):
        batch = select_batch(gp, lib_smiles, args.budget, acquisition=args.acquisition, maximize=not args.minimize,
                             beta=args.beta, xi=args.xi, max_sim=args.max_sim, pool=args.pool, seed=args.seed,
                             exclude=exclude, library_fps=lib.fingerprints())
    mols = lib.molecules(["position", "id"]).set_index("position")
    batch.insert(2, "id", mols["id"].reindex(batch["position"]).to_numpy())
    tid = np.asarray(train.rows)[keep]
    batch["nearest_measured_row"] = tid[batch["nearest_measured"].to_numpy()]
    batch = batch.drop(columns=["nearest_measured"])
    summary = {"n_train": int(keep.sum()), "n_train_invalid": int(train.n_invalid), "target": train.target_cols[0],
               "n_library": len(lib), "n_library_invalid": int(len(lib_invalid)),
               "n_excluded_measured": len(exclude or []), "budget": args.budget, "acquisition": args.acquisition,
               "maximize": not args.minimize, "best_measured": float(np.max(y[keep]) if not args.minimize
                                                                     else np.min(y[keep])),
               "batch_mean_prediction": float(batch["mean"].mean()),
               "batch_max_pairwise_sim": float(np.nanmax(batch["max_sim_in_batch"])) if len(batch) > 1 else None}
    with atomic_dir(args.out) as tmp:
        batch.to_csv(tmp / "batch.csv", index=False)
        train.write_invalid(tmp / "invalid_train.csv")
        _write_invalid(lib_invalid, tmp / "invalid_library.csv")
        (tmp / "gp.json").write_text(json.dumps(gp.to_dict(), indent=2, default=str) + "\n")
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        inputs = {"train": tpath, **_input(args.library)}
        write_manifest(tmp, build_manifest(
            kind="screening.select", inputs=inputs, seed=args.seed,
            config={"train": args.train, "target": train.target_cols[0], "library": args.library,
                    "budget": args.budget, "acquisition": args.acquisition, "maximize": not args.minimize,
                    "beta": args.beta, "xi": args.xi, "max_sim": args.max_sim, "pool": args.pool,
                    "kernel": args.kernel, **{f"fp_{k}": v for k, v in lib.spec.to_dict().items()}},
            timings=timer.timings, extra={"counts": summary}))
    print(f"GP on {summary['n_train']} measured molecules (noise sd {np.sqrt(gp.noise) * gp.y_std:.3g}); chose "
          f"{len(batch)} of {len(lib):,} candidates by {args.acquisition}; wrote {args.out}/batch.csv")
    return 0
