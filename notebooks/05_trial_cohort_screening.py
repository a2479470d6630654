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
# # Trial-cohort screening over OMOP patient data
#
# A coordinator has a protocol's eligibility criteria and a health system's records in the OMOP Common
# Data Model. Here the criteria **text** goes in; out come structured criteria (each with the span of text
# it came from, and a list of items that need a human), a per-patient, per-criterion **evidence** table
# (met / not met / unknown, with the record that decided it), an ATLAS-style **attrition funnel**, and
# **near misses** a recruiter can follow up.
#
# Two CDMs: the MIMIC-IV demo (100 ICU patients, OMOP 5.3, no measurement table, so lab criteria are
# *unknown*) and a synthetic CDM from `discovery.cohorts.synthesize_cdm` (deterministic per seed).
# Everything goes through the public API; `discovery cohorts screen ...` and the Snakemake rules do the same.
#
# *Parameters* (papermill): `profile="full"` synthesises 100,000 persons; `profile="ci"` 2,000.

# %% tags=["parameters"]
profile = "full"             # "full" or "ci"
out_dir = "runs/notebook-05"
seed = 0
small_cell = 5               # counts 1..4 shown as "<5" in written tables (0: off)

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from discovery import cohorts
from discovery.cohorts.parser import parse_eligibility, to_trial_criteria

EXAMPLES = Path(cohorts.__file__).parent / "examples"
OUT = Path(out_dir)
OUT.mkdir(parents=True, exist_ok=True)
persons = {"full": 100_000, "ci": 2_000}[profile]

# %% [markdown]
# ## 1. The MIMIC-IV demo in OMOP CDM 5.3
#
# Loaded from the data registry (cache → mirror, sha256-checked) into DuckDB. MIMIC's `concept` table only
# holds local concepts, so diagnoses in the text are matched against the Synthea27Nj vocabulary: standard
# concept ids are the same in every OMOP CDM.

# %%
mimic = cohorts.load_cdm("mimic-iv-demo-omop")
vocab_cdm = cohorts.load_cdm("synthea27nj")
pd.Series(mimic.summary()["tables"], name="rows").to_frame().T

# %%
text = (EXAMPLES / "mimic_eligibility.txt").read_text()
print(text)

# %%
parsed = parse_eligibility(text, vocab=vocab_cdm.vocab, trial_id="mimic-example")


def parsed_table(p):
    rows = []
    for it in p.items:
        desc = "; ".join(
            f"{c.kind}: {c.variable or '/'.join(c.sex or [])}"
            + (f" {'>=' if c.lower_incl else '>'} {c.lower:g}" if c.lower is not None else "")
            + (f" {'<=' if c.upper_incl else '<'} {c.upper:g}" if c.upper is not None else "")
            + (f" concepts {c.concept_ids[:3]}" if c.concept_ids else "")
            + (f" within {c.window_days} d" if c.window_days else "")
            for c in it.criteria) or "NEEDS MANUAL REVIEW"
        rows.append({"section": it.section, "source text": it.text, "span": f"{it.start}-{it.end}", "parsed as": desc})
    return pd.DataFrame(rows)


parsed_table(parsed)

# %%
crit = to_trial_criteria(parsed, name="AF + hypertension (parsed)")
print(crit.to_yaml())

# %% [markdown]
# ## 2. Screen, evidence, funnel, near misses

# %%
res = cohorts.screen(mimic, crit, strict_concepts=False)
for w in res.warnings:
    print("warning:", w)
funnel = res.funnel()
funnel


# %%
def plot_funnel(f, title):
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(f) + 0.8))
    colours = ["#999999" if not e else ("#D55E00" if s == "exclusion" else "#0072B2") for s, e in zip(f.section, f.enabled)]
    ax.barh(range(len(f)), f["remaining"], color=colours)
    ax.set_yticks(range(len(f)), [f"{s}. {r[:45]}" for s, r in zip(f.step, f.rule)])
    ax.invert_yaxis()
    ax.set_xlabel("persons remaining")
    ax.set_title(title)
    for i, v in enumerate(f["remaining"]):
        ax.text(v, i, f" {v}", va="center", fontsize=8)
    plt.tight_layout()
    plt.show()


plot_funnel(funnel, "MIMIC-IV demo: attrition")

# %%
res.rule_counts()

# %% [markdown]
# Evidence for the first near misses: which rule failed, and the record (date, value) behind each status.
# Lab criteria are *unknown* here — the demo has no measurement table — and an exclusion's unknown passes.

# %%
near = res.near_misses()
near.head(10)

# %%
res.evidence(persons=near["person_id"].head(3).tolist())

# %% [markdown]
# Switching a rule off recomputes the cohort from the evidence table — no rescan of the CDM.

# %%
first_rule = crit.inclusion[-1].name
relaxed = res.with_rules(disable=[first_rule])
print(f"eligible: {res.n_eligible} -> {relaxed.n_eligible} without '{first_rule}'")

# %% [markdown]
# ## 3. A synthetic cohort
#
# `synthesize_cdm` writes an OMOP-shaped Parquet CDM (age/sex mix, visits, chronic conditions with
# age-dependent prevalence, drugs tied to them, vitals and labs whose values depend on the conditions;
# units from the Synthea vocabulary). The T2D criteria text is parsed against its own vocabulary.

# %%
syn_dir = OUT / f"synthetic_{persons}_s{seed}"
info = cohorts.synthesize_cdm(syn_dir, persons=persons, seed=seed)
print(f"{info['persons']:,} persons, {info['events']:,} events")
syn = cohorts.load_cdm(syn_dir)

# %%
t2d_text = (EXAMPLES / "t2d_eligibility.txt").read_text()
t2d_parsed = parse_eligibility(t2d_text, vocab=syn.vocab, trial_id="t2d-example")
parsed_table(t2d_parsed)

# %%
t2d = to_trial_criteria(t2d_parsed, name="T2D add-on (parsed)")
syn_res = cohorts.screen(syn, t2d)
plot_funnel(syn_res.funnel(), f"synthetic CDM ({persons:,} persons): attrition")
syn_res.near_misses().head(10)

# %% [markdown]
# ## 4. Result folders for the report
#
# Each folder holds eligible.csv, evidence.parquet, funnel.csv (small cells as "<5"), rule_counts.csv,
# near_misses.csv, the criteria (with source spans), and manifest.json (kind `cohorts.screen`), which
# `discovery report` turns into the trial-cohort section.

# %%
written = [
    cohorts.write_screen(res, OUT / "mimic", small_cell=small_cell, parsed=parsed,
                         config={"notebook": "05", "profile": profile, "cdm": "mimic-iv-demo-omop"}),
    cohorts.write_screen(syn_res, OUT / "synthetic", small_cell=small_cell, parsed=t2d_parsed,
                         config={"notebook": "05", "profile": profile, "persons": persons, "seed": seed}),
]
for w in written:
    print(w, sorted(p.name for p in w.iterdir()))
