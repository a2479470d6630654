"""``discovery molprop``: train, predict, evaluate graph property models.

Each subcommand is one call into :mod:`discovery.molprop`; torch, RDKit and
pandas are imported inside the handlers so ``discovery --help`` stays fast.
Model and aggregation names are checked by the library's registries, not here.

Examples
--------
discovery molprop train --data ESOL --split scaffold --seed 0 --ensemble 3 --out runs/esol
discovery molprop predict --model runs/esol --data new.csv --out preds.csv
discovery molprop evaluate --model runs/esol --data other.csv --target logp --out metrics.json
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

SPLITS = ("scaffold", "random", "kfold", "column")


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")

    # ---------------------------------------------------------------- train
    p = sub.add_parser(
        "train",
        help="train a model (ensemble) and write metrics, predictions and a model bundle",
        description="Train a graph model on a molecule table; writes OUT/{metrics.json, test_predictions.csv, "
        "splits.json, invalid_rows.csv, model/, manifest.json} atomically.",
    )
    p.add_argument("--data", required=True, help="registered dataset name (e.g. ESOL) or a CSV/TSV/SMI/SDF path")
    p.add_argument("--smiles-col", help="SMILES column (default: registry's, else detected)")
    p.add_argument("--target", action="append", dest="targets", metavar="COL",
                   help="target column; repeat for multi-task (default: registry's targets)")
    p.add_argument("--task-type", choices=("regression", "classification"),
                   help="default: registry's, else classification when every label is 0/1")
    p.add_argument("--split", choices=SPLITS, default="scaffold", help="default: scaffold")
    p.add_argument("--split-col", help="column holding train/val/test for --split column")
    p.add_argument("--sizes", type=float, nargs=3, default=(0.8, 0.1, 0.1), metavar=("TRAIN", "VAL", "TEST"))
    p.add_argument("--fold", type=int, default=0, help="fold for --split kfold (default 0)")
    p.add_argument("--n-folds", type=int, default=5, help="folds for --split kfold (default 5)")
    p.add_argument("--seed", type=int, default=0, help="drives split and model init; member i uses seed+i")
    p.add_argument("--ensemble", type=int, default=1, help="number of models (default 1)")
    p.add_argument("--model", default="dmpnn", help="dmpnn (default), gin or attentivefp")
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--hidden", type=int, default=300)
    p.add_argument("--depth", type=int, default=3)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--aggregation", default="norm", help="norm (sum/100, default), mean or sum")
    p.add_argument("--ffn-hidden", type=int, default=300)
    p.add_argument("--ffn-layers", type=int, default=1)
    p.add_argument("--batch-norm", action="store_true", help="batch norm on the graph vector")
    p.add_argument("--mol-features", choices=["physchem", "physchem-fragments"], default=None,
                   help="join RDKit molecule descriptors to the graph vector (physchem: 64 values; "
                        "physchem-fragments: those plus RDKit's 85 functional-group counts; default: none)")
    p.add_argument("--feature-scaling", choices=["standard", "quantile"], default=None,
                   help="scaling of --mol-features: standard (mean/sd, clipped at 6 sd; default) or quantile "
                        "(training-set CDF to [0, 1])")
    p.add_argument("--feature-dropout", type=float, default=None, metavar="P",
                   help="in training, replace a molecule's whole --mol-features block by its neutral value with "
                        "probability P (default 0)")
    p.add_argument("--feature-flag", action="store_true", default=None,
                   help="with --feature-dropout: give the head a flag that says whether the descriptors are "
                        "present (1) or dropped (0), so it can tell the two apart")
    p.add_argument("--feature-average", action="store_true", default=None,
                   help="with --feature-dropout: predict (and validate) with the mean of the head's outputs with "
                        "the descriptors present and with them dropped, a two-view ensemble sharing one encoder")
    p.add_argument("--graph-only-members", type=int, default=0, metavar="K",
                   help="with --mol-features and --ensemble N: the last K of the N members learn from the graph "
                        "alone (a mixed ensemble; default 0)")
    p.add_argument("--mix-weight", type=float, default=None, metavar="W",
                   help="with --graph-only-members: share W of the descriptor members in the ensemble mean "
                        "(default: chosen on the validation set from 0, 0.1, ..., 1)")
    p.add_argument("--precision", choices=["32", "bf16-mixed"], default="32",
                   help="training arithmetic: 32 (float32, default) or bf16-mixed (matrix products in bfloat16; "
                        "about 1.8x faster on CPUs with AVX512-BF16/AMX and on recent GPUs, slower on older CPUs; "
                        "bf16 kernels are compiled per batch shape; their caches are kept to 16 entries)")
    p.add_argument("--max-lr", type=float, default=1e-3,
                   help="peak learning rate of Chemprop's schedule (linear warm-up from --init-lr over "
                        "--warmup-epochs, exponential decay to --final-lr at the last epoch; default 1e-3)")
    p.add_argument("--init-lr", type=float, default=1e-4, help="learning rate at the start (default 1e-4)")
    p.add_argument("--final-lr", type=float, default=1e-4, help="learning rate at the last epoch (default 1e-4)")
    p.add_argument("--warmup-epochs", type=int, default=2, help="warm-up epochs (default 2)")
    p.add_argument("--ema", type=float, default=None, metavar="DECAY",
                   help="validate and keep an exponential moving average of the weights (decay per step, e.g. "
                        "0.99; default: off)")
    p.add_argument("--patience", type=int, default=10, help="early-stopping patience in epochs; 0 = off")
    p.add_argument("--select-by", choices=("loss", "metric"), default="loss",
                   help="what early stopping and the kept best epoch follow: the validation loss (default, "
                        "Chemprop v2) or the task's validation metric, ROC-AUC for classification and RMSE for "
                        "regression (Chemprop v1)")
    p.add_argument("--mc-dropout", type=int, default=0, metavar="T",
                   help="uncertainty from T MC-dropout samples per model (default 0: ensemble spread)")
    p.add_argument("--mc-p", type=float, default=0.1, help="MC-dropout rate for models trained without dropout")
    p.add_argument("--on-error", choices=("report", "raise"), default="report",
                   help="invalid rows: skip and list in invalid_rows.csv (default) or fail")
    p.add_argument("--standardize", action="store_true", help="standardize molecules when reading")
    p.add_argument("--threads", type=int, help="torch CPU threads while training")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--out", required=True, help="output folder (replaced atomically when complete)")
    p.set_defaults(func=_train)

    # ---------------------------------------------------------------- predict
    p = sub.add_parser(
        "predict",
        help="predict a file with a trained model, in chunks",
        description="Stream DATA in chunks through a trained bundle; writes OUT (smiles, row, <t>_pred, <t>_std) "
        "and OUT's <stem>.invalid.csv.",
    )
    p.add_argument("--model", required=True, help="train output folder or its model/ bundle")
    p.add_argument("--data", required=True, help="CSV/TSV/SMI/SDF path or registered dataset name")
    p.add_argument("--smiles-col", help="SMILES column (default: detected)")
    p.add_argument("--out", required=True, help="predictions CSV")
    p.add_argument("--chunksize", type=int, default=10000, help="molecules per chunk (default 10000)")
    p.add_argument("--mc-dropout", type=int, default=None, metavar="T",
                   help="T MC-dropout samples per model (default: the bundle's method; 0 = ensemble only)")
    p.add_argument("--mc-p", type=float, default=None, help="MC-dropout rate for models trained without dropout")
    p.add_argument("--batch-size", type=int, default=1024)
    p.add_argument("--on-error", choices=("report", "raise"), default="report")
    p.add_argument("--no-progress", action="store_true")
    ad = p.add_mutually_exclusive_group()
    ad.add_argument("--ad", dest="ad", action="store_true", default=None,
                    help="require the applicability domain (ad_max_sim, ad_nearest_smiles, ad_in_domain: nearest-"
                         "neighbour Tanimoto to the training split); default: added when the model records it")
    ad.add_argument("--no-ad", dest="ad", action="store_false", help="no applicability-domain columns")
    p.add_argument("--ad-threshold", type=float, default=0.35, metavar="SIM",
                   help="ad_in_domain = ad_max_sim >= SIM (default 0.35)")
    p.set_defaults(func=_predict)

    # ---------------------------------------------------------------- evaluate
    p = sub.add_parser(
        "evaluate",
        help="metrics of a trained model on labelled data",
        description="Predict labelled DATA with a bundle and report metrics (and calibration for regression).",
    )
    p.add_argument("--model", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--target", action="append", dest="targets", metavar="COL",
                   help="label column(s), in the order of the model's targets (default: the model's names)")
    p.add_argument("--smiles-col")
    p.add_argument("--out", help="write metrics JSON here")
    p.add_argument("--chunksize", type=int, default=10000)
    p.add_argument("--mc-dropout", type=int, default=None, metavar="T")
    p.add_argument("--on-error", choices=("report", "raise"), default="report")
    p.set_defaults(func=_evaluate)


def _fmt(v: Any) -> str:
    return "n/a" if v is None else f"{v:.4g}"


def _train(args: argparse.Namespace) -> int:
    from discovery.molprop import train

    progress = (not args.no_progress) and sys.stderr.isatty()
    res = train(
        args.data,
        smiles_col=args.smiles_col,
        target_cols=args.targets,
        split=args.split,
        seed=args.seed,
        ensemble=args.ensemble,
        model=args.model,
        epochs=args.epochs,
        out=args.out,
        task_type=args.task_type,
        sizes=tuple(args.sizes),
        split_col=args.split_col,
        fold=args.fold,
        n_folds=args.n_folds,
        on_error=args.on_error,
        standardize=args.standardize,
        batch_size=args.batch_size,
        patience=args.patience if args.patience and args.patience > 0 else None,
        mc_dropout=args.mc_dropout,
        mc_p=args.mc_p,
        progress=progress,
        num_threads=args.threads,
        hidden=args.hidden,
        depth=args.depth,
        dropout=args.dropout,
        aggregation=args.aggregation,
        ffn_hidden=args.ffn_hidden,
        ffn_layers=args.ffn_layers,
        batch_norm=args.batch_norm,
        mol_features=args.mol_features,
        feature_scaling=args.feature_scaling,
        feature_dropout=args.feature_dropout,
        feature_flag=args.feature_flag,
        feature_average=args.feature_average,
        graph_only_members=args.graph_only_members,
        mix_weight=args.mix_weight,
        precision=args.precision,
        ema=args.ema,
        select_by=args.select_by,
        warmup_epochs=args.warmup_epochs,
        init_lr=args.init_lr,
        max_lr=args.max_lr,
        final_lr=args.final_lr,
    )
    m = res.metrics
    out = res.out
    print(f"{m['n_invalid']} invalid rows skipped (listed in {out / 'invalid_rows.csv'})")
    print(f"molecules: train {m['n_train']}, val {m['n_val']}, test {m['n_test']}")
    keys = ("rmse", "mae", "r2") if m["task_type"] == "regression" else ("roc_auc", "pr_auc", "ece")
    for col in m["target_cols"]:
        row = m.get("test", {}).get(col, {})
        print(f"test {col}: " + ", ".join(f"{k} {_fmt(row.get(k))}" for k in keys))
    unc = m.get("uncertainty", {})
    for col, rep in (unc.get("test") or {}).items():
        print(
            f"uncertainty {col} ({unc.get('method')}): 90% coverage {_fmt(rep['coverage90_before'])} -> "
            f"{_fmt(rep['coverage90_after'])} after calibration (scale {_fmt(rep['scale'])}); "
            f"miscalibration area {_fmt(rep['miscalibration_area_before'])} -> {_fmt(rep['miscalibration_area_after'])}"
        )
    print(f"wrote {out} in {m['timings_s'].get('total', 0):.1f} s")
    return 0


def _predict(args: argparse.Namespace) -> int:
    from discovery.molprop import predict

    summary = predict(
        args.model,
        args.data,
        out=args.out,
        chunksize=args.chunksize,
        smiles_col=args.smiles_col,
        mc_dropout=args.mc_dropout,
        mc_p=args.mc_p,
        on_error=args.on_error,
        batch_size=args.batch_size,
        progress=(not args.no_progress) and sys.stderr.isatty(),
        ad=args.ad,
        ad_threshold=args.ad_threshold,
    )
    print(summary.line())
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from discovery.molprop import evaluate

    res = evaluate(
        args.model,
        args.data,
        target_cols=args.targets,
        smiles_col=args.smiles_col,
        out=args.out,
        chunksize=args.chunksize,
        mc_dropout=args.mc_dropout,
        on_error=args.on_error,
    )
    if args.out:
        print(f"{res['n']} molecules evaluated, {res['n_invalid']} invalid rows; metrics -> {args.out}")
    else:
        print(json.dumps(res, indent=2, default=str))
    return 0
