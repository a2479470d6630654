# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Molecular property prediction
#
# Train a graph neural network (Chemprop-style D-MPNN) on a measured property, check it on a
# **scaffold split** (test molecules have core structures the model never saw), look at how far
# its uncertainty can be trusted, and score new molecules with an applicability-domain flag.
#
# Everything here goes through the public API (`discovery.data`, `discovery.molprop`,
# `discovery.reports`); the same runs come out of `discovery molprop train ...` on the command
# line and out of the Snakemake workflow.
#
# *Parameters* (papermill): `profile="full"` trains the real thing (3 seeds, 3-model ensembles,
# 50 epochs: a few minutes per seed on a laptop CPU); `profile="ci"` is a seconds-long smoke run.

# %% tags=["parameters"]
profile = "full"            # "full" or "ci"
out_dir = "runs/notebook-01"
dataset = "esol"            # any registry name (`discovery data list`) or a CSV path
target = None               # default: the dataset's first target column
library = "bbbp"            # molecules to score afterwards (registry name or CSV path)

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from discovery import data, molprop
from discovery.reports import build_report, write_report

settings = {
    "full": dict(seeds=[0, 1, 2], ensemble=3, epochs=50, hparams={}, n_library=2000),
    "ci": dict(seeds=[0, 1], ensemble=2, epochs=3, hparams=dict(hidden=64, depth=2), n_library=200),
}[profile]
out = Path(out_dir)
out.mkdir(parents=True, exist_ok=True)
settings

# %% [markdown]
# ## The data
#
# The registry knows where each dataset comes from (canonical URL, sha256, license, citation) and
# its quirks; ESOL's target column is called `logp` but holds log10 aqueous solubility (mol/L).

# %%
info = data.get(dataset) if not Path(str(dataset)).suffix else None
if info is not None:
    print(info.description)
    for quirk in info.quirks:
        print(" -", quirk)
    print("License:", info.license)
    print("Cite:", info.citation)
table = data.load(dataset)
target = target or table.attrs["target_columns"][0]
smiles_col = table.attrs["smiles_column"]
print(f"{len(table)} molecules; target column {target!r}")
table.head()

# %%
ax = table[target].plot.hist(bins=40, figsize=(5, 3), title=f"{dataset}: {target}")
ax.set_xlabel(target)
plt.show()

# %% [markdown]
# ## Train one ensemble per seed
#
# Each seed gives a different scaffold split and different initial weights, so the spread over
# seeds is the honest uncertainty of the headline number. Each run is written to its own result
# folder (metrics, test predictions, split, model bundle, `manifest.json`).

# %%
runs = {}
for seed in settings["seeds"]:
    runs[seed] = molprop.train(
        dataset,
        smiles_col=smiles_col,
        target_cols=[target],
        split="scaffold",
        seed=seed,
        ensemble=settings["ensemble"],
        epochs=settings["epochs"],
        out=out / f"seed{seed}",
        **settings["hparams"],
    )
    m = runs[seed].metrics["test"][target]
    print(f"seed {seed}: test RMSE {m['rmse']:.3f}  MAE {m['mae']:.3f}  R2 {m['r2']:.3f}")

# %%
rows = [{"seed": s, **{k: r.metrics["test"][target][k] for k in ("rmse", "mae", "r2")}} for s, r in runs.items()]
scores = pd.DataFrame(rows).set_index("seed")
summary = scores.agg(["mean", "std"])
print(f"test RMSE {summary.loc['mean', 'rmse']:.3f} ± {summary.loc['std', 'rmse']:.3f} over {len(runs)} scaffold splits")
pd.concat([scores, summary])

# %% [markdown]
# ## Parity and calibration
#
# Left: measured against predicted on each seed's test molecules. Right: the fraction of test
# molecules whose error falls inside the central interval of the predicted Gaussian, against the
# nominal level; a calibrated model follows the diagonal (the ensemble spread is rescaled on the
# validation split, with a variance floor, before it is reported).

# %%
from scipy.stats import norm

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
levels = np.linspace(0.05, 0.95, 19)
for seed, r in runs.items():
    p = r.predictions
    ax1.scatter(p[f"{target}_true"], p[f"{target}_pred"], s=8, alpha=0.6, label=f"seed {seed}")
    z = np.abs(p[f"{target}_true"] - p[f"{target}_pred"]) / p[f"{target}_std"]
    ax2.plot(levels, [(z <= norm.ppf(0.5 + lv / 2)).mean() for lv in levels], marker="o", ms=3, label=f"seed {seed}")
lo, hi = table[target].min(), table[target].max()
ax1.plot([lo, hi], [lo, hi], "k--", lw=1)
ax1.set(xlabel=f"measured {target}", ylabel=f"predicted {target}", title="Parity (test, scaffold split)")
ax2.plot([0, 1], [0, 1], "k--", lw=1)
ax2.set(xlabel="nominal coverage", ylabel="observed coverage", title="Calibration (test)")
ax1.legend(); ax2.legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Score new molecules
#
# The first seed's ensemble scores a library it was not trained on. The prediction comes with
# its standard deviation; molecules far from the training data deserve less trust.

# %%
lib = data.load(library)
lib_smiles_col = lib.attrs["smiles_column"] or "smiles"
sample = lib.sample(n=min(settings["n_library"], len(lib)), random_state=0)[[lib_smiles_col]]
sample.to_csv(out / "library.csv", index=False)
first = runs[settings["seeds"][0]]
preds = molprop.predict(first.out, out / "library.csv", smiles_col=lib_smiles_col)
invalid = preds.attrs.get("invalid")
print(f"{len(preds)} molecules scored; {0 if invalid is None else len(invalid)} rejected (with reasons in preds.attrs['invalid'])")
preds.sort_values(f"{target}_pred", ascending=False).head(10)

# %%
ax = preds.plot.scatter(x=f"{target}_pred", y=f"{target}_std", s=6, alpha=0.5, figsize=(5, 3.5),
                        title="Library: prediction vs uncertainty")
plt.show()

# %% [markdown]
# ## Results folder and report
#
# The seed folders under `out_dir` are result folders (each with `manifest.json`); the report
# reads them, aggregates over seeds, and draws the top molecules. Open `report.html` in a browser
# (it is self-contained), or rebuild it with `discovery report OUT_DIR -o report.html`.

# %%
preds.to_csv(out / "library_predictions.csv", index=False)
report = build_report([out], title=f"{dataset}: molecular property prediction")
path = write_report(report, out / "report.html")
print("results:", out.resolve())
print("report: ", path.resolve())
