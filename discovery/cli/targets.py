"""``discovery targets``: knowledge-graph target discovery, drug repurposing and proteins.

Each subcommand is one call into :mod:`discovery.targets`; torch, PyG, scikit-learn and
Biopython are imported inside the handlers so ``discovery --help`` stays fast.

Examples
--------
discovery targets summary --kg hetionet-16
discovery targets evaluate --kg hetionet-16 --split disease --model degree --model pathcount --seeds 0 1 2 --out runs/kg-eval
discovery targets rank --disease DOID:1612 --top 50 --out runs/breast-cancer-targets
discovery targets repurpose --disease "breast cancer" --hide-known --json
discovery targets proteins --input proteins.fasta --out descriptors.csv
discovery targets dta --out runs/davis
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

KG_HELP = "registered KG (hetionet-16, hetionet-5k, hetionet-tiny), a .sif(.gz), a folder of Neo4j TSVs or a triple table"


def _kg_args(p: argparse.ArgumentParser, default: str = "hetionet-16") -> None:
    p.add_argument("--kg", default=default, help=f"{KG_HELP} (default {default})")
    p.add_argument("--nodes", help="nodes TSV (id, name, kind) for a path --kg")
    p.add_argument("--on-error", choices=("report", "raise"), default="report",
                   help="malformed lines / unknown nodes: skip and list in problems.tsv (default) or fail")


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")

    p = sub.add_parser("summary", help="read a knowledge graph and print node and edge counts",
                       description="Read a KG; print counts per node and edge type; with --out write "
                       "summary.json, problems.tsv and manifest.json.")
    _kg_args(p)
    p.add_argument("--out", help="result folder")
    p.set_defaults(func=_summary)

    p = sub.add_parser("evaluate", help="split, train and evaluate link predictors over seeds",
                       description="Random or disease-held-out split of the target relations; each model trained "
                       "per seed; filtered MRR/Hits@k against all candidates, AUROC/AUPRC against all non-linked "
                       "candidates; mean ± sd over seeds. Writes OUT/{metrics.json, runs.json, manifest.json}.")
    _kg_args(p)
    p.add_argument("--relation", action="append", dest="relations", metavar="ET",
                   help="target relation (repeatable; default DaG and CtD)")
    p.add_argument("--split", choices=("random", "disease"), default="random")
    p.add_argument("--model", action="append", dest="models", metavar="NAME",
                   help="degree, pathcount, distmult, rgcn, hgt (repeatable; default degree and pathcount)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--hparams", default="{}", help='JSON {model: {param: value}}, e.g. \'{"rgcn": {"epochs": 20}}\'')
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("--out", required=True, help="result folder (replaced atomically when complete)")
    p.set_defaults(func=_evaluate)

    for name, rel, what in (("rank", "DaG", "genes (targets)"), ("repurpose", "CtD", "compounds (drugs)")):
        p = sub.add_parser(name, help=f"rank {what} for a disease, with evidence",
                           description=f"Rank {what} for a disease with score, rank, known/novel flag, top "
                           "metapaths with concrete paths, and per-source evidence combined Open Targets-style. "
                           "Prints a table (or --json); with --out writes ranking.tsv, ranking.json, manifest.json.")
        _kg_args(p)
        p.add_argument("--disease", required=True, help="Disease Ontology id (DOID:1612) or name ('breast cancer')")
        p.add_argument("--top", type=int, default=50)
        p.add_argument("--model", default="pathcount", help="scoring model (default pathcount)")
        p.add_argument("--hide-known", action="store_true", help="only novel predictions (no known edge)")
        p.add_argument("--weights", default="", help="source weights, e.g. model=1,DisGeNET=0.5")
        p.add_argument("--evidence", help="extra triple table (head, relation, tail, source, score), e.g. literature")
        p.add_argument("--no-curated", action="store_true", help="skip Hetionet/PharmacotherapyDB source tables")
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--json", action="store_true", help="print JSON instead of the table")
        p.add_argument("--out", help="result folder")
        p.set_defaults(func=_rank, relation=rel, question=name)

    p = sub.add_parser("proteins", help="protein sequence descriptors (ProtParam) from FASTA or UniProt files",
                       description="Read FASTA or UniProt/SwissProt flat files with Biopython; write length, "
                       "molecular weight, pI, GRAVY, instability, aromaticity, amino-acid (and with --dipeptides "
                       "dipeptide) composition per sequence.")
    p.add_argument("--input", required=True, nargs="+", help="FASTA (.fa/.fasta) or UniProt (.txt/.dat) files")
    p.add_argument("--format", choices=("auto", "fasta", "swiss"), default="auto")
    p.add_argument("--dipeptides", action="store_true", help="add the 400 dipeptide frequencies")
    p.add_argument("--on-error", choices=("report", "raise"), default="report")
    p.add_argument("--out", required=True, help="CSV of descriptors (invalid sequences go to <out>.invalid.csv)")
    p.set_defaults(func=_proteins)

    p = sub.add_parser("dta", help="drug-target affinity on DAVIS: unseen-protein split, ours vs gradient boosting",
                       description="DAVIS binary interactions; proteins split so test proteins are unseen; "
                       "a neural model (molprop D-MPNN encoder + protein composition/CNN encoder) vs gradient "
                       "boosting on Morgan fingerprints + composition, same split, ROC-AUC and PR-AUC per seed.")
    p.add_argument("--data", default="davis", help="registered dataset (davis) or CSV with SMILES, Target Sequence, Label")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--protein-encoder", choices=("composition", "cnn"), default="composition")
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--max-rows", type=int, help="subsample rows (quick runs)")
    p.add_argument("--on-error", choices=("report", "raise"), default="report")
    p.add_argument("--out", required=True)
    p.set_defaults(func=_dta)


def _load(args):
    from ..targets.kg import load_kg

    return load_kg(args.kg, nodes=args.nodes, on_error=args.on_error)


def _summary(args) -> int:
    import time

    from ..targets.kg import write_problems

    t0 = time.perf_counter()
    kg = _load(args)
    s = kg.summary()
    print(f"{s['n_nodes']:,} nodes, {s['n_edges']:,} edges, {s['n_problems']} skipped record(s)")
    for t, n in s["nodes"].items():
        print(f"  node {t:<25} {n:>9,}")
    for t, n in s["edges"].items():
        print(f"  edge {t:<40} {n:>9,}")
    for p in kg.problems[:5]:
        print(f"  skipped {p.file}:{p.line}: {p.reason}", file=sys.stderr)
    if args.out:
        from ..fsutil import atomic_dir
        from ..provenance import build_manifest, write_manifest

        with atomic_dir(args.out) as tmp:
            (tmp / "summary.json").write_text(json.dumps(s, indent=1))
            write_problems(kg, tmp / "problems.tsv")
            write_manifest(tmp, build_manifest(kind="targets.summary", inputs={Path(p).name: p for p in kg.inputs},
                                               config={"kg": args.kg}, timings={"read": time.perf_counter() - t0}))
        print(f"wrote {args.out}")
    return 0


def _evaluate(args) -> int:
    from ..targets.run import evaluate_models

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    try:
        hp = json.loads(args.hparams)
    except json.JSONDecodeError as err:
        from ..errors import ConfigError

        raise ConfigError("--hparams is not valid JSON", value=args.hparams, hint=str(err)) from None
    res = evaluate_models(args.kg, relations=args.relations or ["DaG", "CtD"], split=args.split,
                          models=args.models or ["degree", "pathcount"], seeds=args.seeds, hparams=hp,
                          out=args.out, nodes=args.nodes, on_error=args.on_error)
    for rel, models in res["summary"].items():
        print(f"{rel} ({args.split} split, seeds {args.seeds})")
        for m, d in models.items():
            print(f"  {m:<10} MRR {d['mrr']['mean']:.3f} ± {d['mrr']['sd']:.3f}  Hits@10 {d['hits@10']['mean']:.3f}"
                  f"  AUROC {d['auroc']['mean']:.3f} ± {d['auroc']['sd']:.3f}")
    print(f"wrote {args.out}")
    return 0


def _parse_weights(text: str) -> dict[str, float]:
    from ..errors import InputError

    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        k, sep, v = part.partition("=")
        try:
            out[k.strip()] = float(v)
        except ValueError:
            raise InputError("source weight must be NAME=NUMBER", column="--weights", value=part) from None
        if not sep:
            raise InputError("source weight must be NAME=NUMBER", column="--weights", value=part)
    return out


def _rank(args) -> int:
    from ..targets.run import rank_to_folder

    res = rank_to_folder(
        args.kg, args.disease, question=args.question, model=args.model, top=args.top, hide_known=args.hide_known,
        weights=_parse_weights(args.weights), evidence=args.evidence, curated=not args.no_curated, seed=args.seed,
        out=args.out, nodes=args.nodes, on_error=args.on_error,
    )
    if args.json:
        print(json.dumps(res.to_dict(), indent=1))
    else:
        import pandas as pd

        df = res.to_frame()
        print(f"{res.query['name']} ({res.query['id']}): {res.relation}, model {res.model}, "
              f"{res.n_candidates:,} candidates, {res.n_known} known")
        with pd.option_context("display.max_colwidth", 60, "display.width", 200):
            print(df.drop(columns=["top_path"]).to_string(index=False))
    if args.out:
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


def _proteins(args) -> int:
    from ..targets.proteins import descriptor_table, read_sequences

    recs, invalid = [], []
    for f in args.input:
        r, bad = read_sequences(f, fmt=args.format, on_error=args.on_error)
        recs += r
        invalid += bad
    df = descriptor_table(recs, dipeptides=args.dipeptides)
    from ..fsutil import atomic_path

    with atomic_path(args.out) as tmp:
        df.to_csv(tmp, index=False)
    if invalid:
        import pandas as pd

        bad_path = str(Path(args.out).with_suffix("")) + ".invalid.csv"
        with atomic_path(bad_path) as tmp:
            pd.DataFrame([b.__dict__ for b in invalid]).to_csv(tmp, index=False)
        print(f"{len(invalid)} invalid sequence(s) listed in {bad_path}", file=sys.stderr)
    print(f"wrote {len(df)} sequences x {df.shape[1] - 1} descriptors to {args.out}")
    return 0


def _dta(args) -> int:
    from ..targets.dta import run_dta

    res = run_dta(args.data, seeds=args.seeds, protein_encoder=args.protein_encoder, epochs=args.epochs,
                  max_rows=args.max_rows, out=args.out, on_error=args.on_error)
    for m, d in res["summary"].items():
        print(f"  {m:<22} ROC-AUC {d['roc_auc']['mean']:.3f} ± {d['roc_auc']['sd']:.3f}  "
              f"PR-AUC {d['pr_auc']['mean']:.3f} ± {d['pr_auc']['sd']:.3f}")
    print(f"wrote {args.out}")
    return 0
