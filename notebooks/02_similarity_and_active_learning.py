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
# # Similarity screening, diversity and active learning
#
# Three questions a medicinal chemist asks of a compound library:
#
# 1. *What in our library looks like this hit?* Exact Tanimoto search on Morgan fingerprints (top-k and
#    threshold), in JAX, with results identical to RDKit's `BulkTanimotoSimilarity`.
# 2. *Give me N diverse compounds.* MaxMin picking (seeded) and Butina clustering.
# 3. *Which compounds should we test next?* A Gaussian process with the MinMax (Tanimoto) kernel, and
#    expected improvement / UCB / Thompson sampling with diverse batches; checked here by a retrospective
#    active-learning simulation on Lipophilicity.
#
# Everything goes through the public API (`discovery.screening`); `discovery screen index|search|cluster|pick|select`
# and the Snakemake rules (`workflows/rules/screening.smk`) do the same.
#
# *Parameters* (papermill): `profile="full"` uses the 41k-molecule HIV set as library and the full
# Lipophilicity simulation (3 seeds, 10 rounds of 20); `profile="ci"` a seconds-long version.

# %% tags=["parameters"]
profile = "full"            # "full" or "ci"
out_dir = "runs/notebook-02"
library = "HIV"             # registry name or molecule file to screen
seed = 0

# %%
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from rdkit import Chem
from IPython.display import display
from rdkit.Chem import Draw

from discovery.data.loaders import resolve
from discovery.screening import (FingerprintSpec, applicability_domain, butina_cluster, fit_gp, maxmin_pick,
                                 threshold_search, topk_search)
from discovery.screening.acquisition import select_batch
from discovery.screening.active import simulate_active_learning
from discovery.screening.index import load_library

CI = profile == "ci"
if CI:
    library = "ESOL"
out = Path(out_dir)
out.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## 1. Fingerprint the library
#
# `load_library` reads a registry dataset or a file (invalid SMILES are skipped and listed, never dropped
# silently) and packs Morgan fingerprints (radius 2, 2048 bits) into `uint64` words, sorted by popcount.
# For libraries larger than RAM, `build_index` writes the same thing to disk, memory-mapped.

# %%
t = time.perf_counter()
lib, invalid = load_library(library, FingerprintSpec(radius=2, nbits=2048))
print(f"{len(lib):,} molecules fingerprinted ({len(invalid)} invalid rows skipped) in {time.perf_counter() - t:.1f} s;"
      f" {lib.nbytes / 2**20:.1f} MiB packed")
invalid.head()

# %% [markdown]
# ## 2. Nearest neighbours of some hits
#
# Queries: a few well-known drugs. `topk_search` returns, for each query, the library positions and exact
# Tanimoto scores (ties broken by library order); `threshold_search` every neighbour above a cut-off.

# %%
hits = {"imatinib": "Cc1ccc(NC(=O)c2ccc(CN3CCN(C)CC3)cc2)cc1Nc1nccc(-c2cccnc2)n1",
        "celecoxib": "Cc1ccc(-c2cc(C(F)(F)F)nn2-c2ccc(S(N)(=O)=O)cc2)cc1",
        "zidovudine": "Cc1cn([C@H]2C[C@H](N=[N+]=[N-])[C@@H](CO)O2)c(=O)[nH]c1=O"}
res = topk_search(list(hits.values()), lib, k=5)
print(res.stats)
for qi, name in enumerate(hits):
    smiles = [hits[name]] + lib.smiles_at(res.indices[qi])
    legends = [name] + [f"{s:.2f}" for s in res.scores[qi]]
    display(Draw.MolsToGridImage([Chem.MolFromSmiles(s) for s in smiles], molsPerRow=6, subImgSize=(180, 150),
                                 legends=legends))

# %%
near = threshold_search(list(hits.values()), lib, 0.5)
print(f"{len(near)} library molecules with Tanimoto >= 0.5 to a query; per query: "
      f"{dict(zip(hits, near.counts(len(hits)).tolist()))}")

# %% [markdown]
# ## 3. Diversity: MaxMin picks and Butina clusters
#
# MaxMin picks are deterministic per seed; the first pick is random, each later one the molecule least
# similar to everything picked so far.

# %%
picks = maxmin_pick(lib, 12, seed=seed)
display(Draw.MolsToGridImage([Chem.MolFromSmiles(s) for s in lib.smiles_at(picks.positions)], molsPerRow=6,
                             subImgSize=(180, 150), legends=[f"max sim {x:.2f}" for x in picks.max_sim]))

# %%
sub = lib if len(lib) <= 5000 else None
if sub is None:  # Butina needs all pairs above the cut-off: cluster a random 5,000 of a big library
    from discovery.screening import FingerprintIndex

    pos = np.sort(np.random.default_rng(seed).choice(len(lib), 5000, replace=False))
    sub = FingerprintIndex.from_packed(lib.fingerprints(pos), lib.spec, lib.smiles_at(pos))
clusters = butina_cluster(sub, cutoff=0.4)
sizes = clusters.loc[clusters["centroid"], "cluster_size"]
print(f"{clusters['cluster'].nunique()} clusters of {len(clusters)} molecules; {int((sizes == 1).sum())} singletons")
fig, ax = plt.subplots(figsize=(5, 3))
ax.hist(sizes, bins=np.arange(1, sizes.max() + 2) - 0.5, log=True)
ax.set(xlabel="cluster size", ylabel="clusters", title="Butina clusters (distance cut-off 0.4)")
plt.show()

# %% [markdown]
# ## 4. Gaussian process on a measured property
#
# MinMax kernel on Morgan count fingerprints; noise and signal variance by marginal likelihood. A good
# uncertainty covers the truth about as often as it claims to: the 90 % interval should hold ~90 % of
# the test molecules. Scaffold split, so test molecules have cores the GP never saw.

# %%
from discovery.chem.splits import make_split

esol = pd.read_csv(resolve("ESOL")[0])
smi, y = esol["smiles"].tolist(), esol["logp"].to_numpy()
split = make_split(smi, "scaffold", seed=seed)
train = np.concatenate([split.train, split.val])
gp = fit_gp([smi[i] for i in train], y[train], seed=seed)
mu, sd = gp.predict([smi[i] for i in split.test])
lo, hi = gp.interval([smi[i] for i in split.test], 0.9)
yt = y[split.test]
rmse = float(np.sqrt(np.mean((mu - yt) ** 2)))
cover = float(np.mean((yt >= lo) & (yt <= hi)))
print(f"ESOL scaffold test: RMSE {rmse:.3f} (log S units), 90% interval coverage {cover:.2f}; {gp.to_dict()['noise_variance']:.3f} noise variance")
fig, ax = plt.subplots(figsize=(4, 4))
ax.errorbar(yt, mu, yerr=1.645 * sd, fmt="o", ms=3, alpha=0.6, elinewidth=0.6)
lims = [min(yt.min(), mu.min()) - 0.5, max(yt.max(), mu.max()) + 0.5]
ax.plot(lims, lims, color="grey", lw=0.8)
ax.set(xlabel="measured log S", ylabel="GP mean ± 90% interval", title="ESOL, scaffold split")
plt.show()

# %% [markdown]
# The applicability domain of a prediction: its largest Tanimoto similarity to the training molecules.

# %%
ad = applicability_domain([smi[i] for i in split.test], [smi[i] for i in train], threshold=0.35)
err = np.abs(mu - yt)
print(f"in domain (max sim >= 0.35): {ad['ad_in_domain'].mean():.0%} of test molecules; mean |error| "
      f"{err[ad['ad_in_domain']].mean():.2f} inside vs {err[~ad['ad_in_domain']].mean():.2f} outside")

# %% [markdown]
# ## 5. The next batch to measure
#
# Pretend only 200 Lipophilicity molecules are measured; choose 12 of the rest by expected improvement, with
# no two picks more similar than Tanimoto 0.7. Each pick comes with its reason.

# %%
lipo = pd.read_csv(resolve("Lipophilicity")[0])
n_pool = 800 if CI else len(lipo)
ls, ly = lipo["smiles"].tolist()[:n_pool], lipo["lipo"].to_numpy()[:n_pool]
rng = np.random.default_rng(seed)
measured = rng.choice(len(ls), 100 if CI else 200, replace=False)
rest = np.setdiff1d(np.arange(len(ls)), measured)
gp_l = fit_gp([ls[i] for i in measured], ly[measured], seed=seed)
batch = select_batch(gp_l, [ls[i] for i in rest], 12, acquisition="ei", max_sim=0.7, seed=seed, pool=500)
batch["measured_value"] = ly[rest[batch["position"]]]
batch[["rank", "smiles", "score", "mean", "sd", "nearest_measured_sim", "max_sim_in_batch", "reason"]]

# %% [markdown]
# ## 6. Does active learning help? A retrospective simulation
#
# Start from 50 random molecules, then 10 rounds of 20, each strategy from the same start (paired).
# *Best found*: the highest logD among the molecules measured so far; *RMSE*: the GP's error on the
# molecules not yet measured.

# %%
cfg = dict(n_init=20, batch=10, rounds=3, pool=300) if CI else dict(n_init=50, batch=20, rounds=10, pool=1000)
strategies = ("ucb", "random") if CI else ("ei", "ucb", "thompson", "random")
seeds = [seed] if CI else [seed, seed + 1, seed + 2]
t = time.perf_counter()
curves = pd.concat([simulate_active_learning(ls, ly, strategies=strategies, seed=s, **cfg) for s in seeds],
                   ignore_index=True)
print(f"simulation: {time.perf_counter() - t:.0f} s")
fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
for strat, g in curves.groupby("strategy", sort=False):
    m = g.groupby("round").agg(n=("n_measured", "first"), best=("best_found", "mean"), rmse=("rmse_unmeasured", "mean"))
    axes[0].plot(m["n"], m["best"], marker="o", ms=3, label=strat)
    axes[1].plot(m["n"], m["rmse"], marker="o", ms=3, label=strat)
axes[0].axhline(curves["best_possible"].iloc[0], color="grey", ls="--", lw=0.8)
axes[0].set(xlabel="molecules measured", ylabel="best logD found")
axes[1].set(xlabel="molecules measured", ylabel="RMSE on unmeasured")
axes[0].legend()
plt.show()
curves.groupby(["strategy", "round"])[["best_found", "rmse_unmeasured"]].mean().unstack(0).tail(3)

# %% [markdown]
# ## 7. Results folder for the report
#
# `discovery report runs/notebook-02/...` renders the active-learning curve, the chosen batch and the search.

# %%
from discovery.fsutil import atomic_dir
from discovery.provenance import build_manifest, write_manifest

with atomic_dir(out / "active_learning") as tmp:
    curves.to_csv(tmp / "curves.csv", index=False)
    write_manifest(tmp, build_manifest(
        kind="screening.active_learning", inputs={"data": resolve("Lipophilicity")[0]}, seed=seed,
        config={"data": "Lipophilicity", "target": "lipo", "profile": profile, "strategies": list(strategies),
                "seeds": seeds, "kernel": "minmax", **cfg}))
with atomic_dir(out / "select") as tmp:
    batch.to_csv(tmp / "batch.csv", index=False)
    (tmp / "gp.json").write_text(pd.Series(gp_l.to_dict()).to_json(indent=2, default_handler=str))
    summary = {"n_train": int(len(measured)), "target": "lipo", "n_library": int(len(rest)), "acquisition": "ei",
               "best_measured": float(ly[measured].max())}
    pd.Series(summary).to_json(tmp / "summary.json", indent=2)
    write_manifest(tmp, build_manifest(kind="screening.select", inputs={"data": resolve("Lipophilicity")[0]},
                                       seed=seed, config={"acquisition": "ei", "budget": 12, "max_sim": 0.7,
                                                          "profile": profile}))
print(f"wrote {out / 'active_learning'} and {out / 'select'}")
