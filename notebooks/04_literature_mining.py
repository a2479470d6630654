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
# # Literature mining: entities, relations and cited evidence
#
# Read PubMed records, find chemicals, diseases and genes with an offline dictionary tagger, extract
# chemical-induced disease relations and gene co-mentions **each with the sentence that says so**,
# check the whole thing against the BioCreative V CDR test set, and write a short cited summary for a
# target. No model server is needed; an LLM extractor (`discovery.llm`, any OpenAI-compatible local
# server) is used when `llm_url` is set.
#
# *Parameters* (papermill): `profile="full"` evaluates on all 500 BC5CDR test abstracts;
# `profile="ci"` on 60 of them, in seconds once the model is cached.

# %% tags=["parameters"]
profile = "full"            # "full" or "ci"
out_dir = "runs/notebook-04"
entity = "HGNC:11730"       # target to summarize (TERT); any prefixed id: HGNC:..., MESH:D...
llm_url = None              # e.g. "http://127.0.0.1:8080/v1" to run the LLM extractor too
llm_dialect = "llamacpp"    # openai | llamacpp | ollama

# %%
import time
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from discovery import literature as lit
from discovery.data.fetcher import fetch

settings = {"full": dict(n_eval=None, n_corpus=500), "ci": dict(n_eval=60, n_corpus=40)}[profile]
out = Path(out_dir)
out.mkdir(parents=True, exist_ok=True)
settings

# %% [markdown]
# ## A corpus
#
# Real PubMed XML and MEDLINE records (the registry's `pubmed-samples`) plus BC5CDR test abstracts
# in PubTator format go into one DuckDB store. Upserts are keyed by PMID, so running this cell twice
# leaves the same number of documents; records that cannot be read are listed, never dropped silently.

# %%
samples = [p for p in fetch("pubmed-samples")]
bc5cdr_test = [p for p in fetch("bc5cdr") if p.name == "CDR_TestSet.PubTator.txt"][0]
report = lit.ReadReport()
docs = list(lit.read_documents(samples, report=report))
test_docs = list(lit.read_pubtator(bc5cdr_test))
with lit.CorpusStore(out / "corpus.duckdb") as store:
    store.upsert(docs + test_docs[: settings["n_corpus"]])
    store.upsert(docs)  # idempotent
    n_store = store.count()
print(report.summary(), "documents in store:", n_store)
pd.DataFrame([d.record() for d in docs])[["pmid", "year", "journal", "title"]].head(8)

# %% [markdown]
# ## Entities
#
# The offline model: a dictionary compiled from MeSH, CTD MEDIC, the DrugBank open vocabulary and
# HGNC, enriched and pruned on the BC5CDR training and development annotations, with
# Schwartz-Hearst abbreviations. It is built once (about half a minute) and cached.

# %%
t0 = time.perf_counter()
model = lit.default_model()
print(f"model ready in {time.perf_counter() - t0:.1f}s; threshold {model.cid.threshold}")
d0 = test_docs[0]
pd.DataFrame([m.__dict__ for m in model.mentions(d0)])

# %% [markdown]
# ## Evaluation on the BC5CDR test set
#
# Strict mention-level precision/recall/F1 (start, end and type must match), document-level ids,
# and chemical-induced-disease relations end to end (from our own entities), next to the anchors:
# goals 0.85 / 0.80 / 0.45, a naive train-mention dictionary (0.79 / 0.75), scispaCy
# `en_ner_bc5cdr_md` (0.84 overall) and the best 2015 relation system (0.57).

# %%
ev = lit.evaluate_bc5cdr(model, "test", docs=test_docs[: settings["n_eval"]] if settings["n_eval"] else test_docs)
rows = []
for t in ("Chemical", "Disease"):
    m = ev["ner"]["mention"][t]
    rows.append({"measure": f"NER {t}", "precision": m["precision"], "recall": m["recall"], "f1": m["f1"],
                 "goal": ev["anchors"]["ner_goal"][t]})
c = ev["cid"]
rows.append({"measure": "CID relations", "precision": c["precision"], "recall": c["recall"], "f1": c["f1"],
             "goal": ev["anchors"]["cid_goal"]})
table = pd.DataFrame(rows)
print(ev["n_docs"], "abstracts;", ev["throughput"])
table

# %%
fig, ax = plt.subplots(figsize=(6, 2.6))
ax.barh(table["measure"], table["f1"], color="#0072B2", label="ours")
ax.scatter(table["goal"], table["measure"], color="#D55E00", zorder=3, label="goal")
ax.set_xlim(0, 1)
ax.set_xlabel("F1 on BC5CDR test")
ax.legend(loc="lower right")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Relations with evidence
#
# Every relation quotes a sentence that occurs verbatim in its abstract, with character offsets.

# %%
extract_dir = out / "extract"
summary = lit.extract([out / "corpus.duckdb"], extract_dir)
evidence = lit.load_evidence(extract_dir)
print(summary["documents_processed"], "documents;", summary["relations_by_predicate"])
evidence[["subject_name", "predicate", "object_name", "pmid", "score", "sentence"]].head(10)

# %%
# the same table as knowledge-graph edges for the targets module
edges = lit.evidence_to_edges(evidence)
edges.sort_values("n_pmids", ascending=False).head(8)

# %% [markdown]
# ## A cited summary for a target
#
# Extractive without an LLM: one bullet per partner entity, the strongest sentence quoted, PMIDs cited.

# %%
s = lit.summarize_entity(evidence, entity)
lit.write_summary(s, out / "summary")
print(s.markdown())

# %% [markdown]
# ## Optional: the LLM extractor
#
# With `llm_url` set, the same abstracts go to a local OpenAI-compatible server with JSON-schema
# constrained output; relations whose evidence sentence is not in the abstract are dropped and counted.

# %%
if llm_url:
    from discovery.llm import ChatClient, LLMConfig

    client = ChatClient(LLMConfig(base_url=llm_url, dialect=llm_dialect))
    print(client.policy_line())
    ex = lit.LLMRelationExtractor(client=client, ner=model.ner)
    sub = test_docs[:10]
    rows = ex.extract_many(sub, [model.mentions(d) for d in sub])
    print({k: v for k, v in ex.stats().items() if k != "problems"})

# %% [markdown]
# ## Results folder
#
# `evaluate/` (kind `literature.evaluate`), `extract/` (`literature.extract`) and `summary/`
# (`literature.summary`) are result folders with `manifest.json`; `discovery report` turns them into
# the PI report's literature sections.

# %%
import json

from discovery.fsutil import atomic_dir
from discovery.provenance import build_manifest, write_manifest

with atomic_dir(out / "evaluate") as tmp:
    (tmp / "metrics.json").write_text(json.dumps(ev, indent=2))
    write_manifest(tmp, build_manifest(kind="literature.evaluate", config={"split": "test", "profile": profile,
                                                                           "n_docs": ev["n_docs"]},
                                       extra={"metrics": ev, "model": model.info}))
sorted(p.name for p in out.iterdir())
