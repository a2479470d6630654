"""Post-hoc: the two views of models trained with feature dropout, and their mean.

A model trained with ``--feature-dropout`` has seen its descriptor block both
present and dropped (replaced by the training mean). This script loads the
models a :mod:`benchmarks.molprop_sweep` run saved and scores, on each
split's validation and test molecules, three predictions: descriptors
present ("full", what the model predicts by default), descriptors dropped
("graph": the learned graph vector alone) and the mean of the two ("avg",
in original units for regression and of the probabilities for
classification; ``--feature-average`` averages the outputs before the
sigmoid, the same for regression. A model *trained* with that flag also
validates with the mean, so its kept epoch can differ from these).

    python benchmarks/molprop_feature_views.py --runs /tmp/sweep/runs --variants FEI50,FE50 \\
        --splits-dir benchmarks/_work/mvc_full --out views.jsonl

One JSON line per (variant, dataset, seed): ``{val,test}_{full,graph,avg}``
(RMSE for regression, ROC-AUC for classification).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

DATASETS = ("lipo", "bace", "bbbp", "esol", "freesolv")


def score_views(model_dir: Path, data_csv: Path) -> dict[str, float | None]:
    """Validation and test scores of the full, graph-only and averaged views of one saved model."""
    import pandas as pd
    import torch
    from rdkit import Chem, rdBase

    from discovery.molprop import load_bundle
    from discovery.molprop.metrics import roc_auc

    bundle = load_bundle(model_dir)
    df = pd.read_csv(data_csv)
    blocker = rdBase.BlockLogs()  # RDKit's per-molecule warnings; invalid SMILES are dropped just below
    mols = [Chem.MolFromSmiles(s) for s in df.iloc[:, 0]]
    del blocker
    ok = np.array([m is not None for m in mols])
    df, mols = df[ok].reset_index(drop=True), [m for m in mols if m is not None]
    graphs = bundle.featurize(mols)
    batch = graphs.collate(np.arange(len(graphs)))
    preds: list[list[np.ndarray]] = [[], []]
    for m in bundle.members:
        m.eval()
        if not m.n_mol_features or m.feature_dropout <= 0:
            raise SystemExit(f"{model_dir}: the model was not trained with feature dropout")
        with torch.no_grad():
            views = m.feature_views(batch)
        for k, out in enumerate(views):
            preds[k].append(m.to_original(out)[:, 0].numpy())
    full, graph = (np.mean(p, axis=0) for p in preds)
    y = df.iloc[:, 1].to_numpy(float)
    row: dict[str, float | None] = {}
    for part in ("val", "test"):
        sel = (df["split"] == part).to_numpy()
        for name, p in (("full", full), ("graph", graph), ("avg", (full + graph) / 2)):
            if bundle.members[0].task_type == "classification":
                row[f"{part}_{name}"] = roc_auc(y[sel], p[sel])
            else:
                row[f"{part}_{name}"] = float(np.sqrt(np.mean((p[sel] - y[sel]) ** 2)))
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=Path, required=True, help="a sweep's WORKDIR/runs folder")
    ap.add_argument("--variants", required=True, help="comma-separated variant names")
    ap.add_argument("--datasets", default=",".join(DATASETS))
    ap.add_argument("--splits-dir", type=Path, required=True, help="folder with <dataset>/seed<k>/data.csv")
    ap.add_argument("--out", type=Path, required=True, help="JSON lines")
    args = ap.parse_args(argv)
    n = 0
    with args.out.open("a") as fh:
        for v in args.variants.split(","):
            for ds in args.datasets.split(","):
                for seed in range(3):
                    model = args.runs / v / ds / f"seed{seed}" / "out" / "model"
                    if not model.is_dir():
                        print(f"skip {model}: no model", file=sys.stderr)
                        continue
                    row = {"variant": v, "dataset": ds, "seed": seed,
                           **score_views(model, args.splits_dir / ds / f"seed{seed}" / "data.csv")}
                    fh.write(json.dumps(row) + "\n")
                    n += 1
    print(f"{n} models scored into {args.out}")
    return 0 if n else 1


if __name__ == "__main__":
    raise SystemExit(main())
