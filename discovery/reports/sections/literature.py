"""Report section for ``literature.*`` result folders.

- ``literature.evaluate`` (``metrics.json``): BC5CDR NER and CID scores next to the anchors
  (goals, a naive train dictionary, scispaCy, tmChem/DNorm, the best 2015 system), throughput.
- ``literature.extract`` (``evidence.parquet``, ``summary.json``): counts, and the evidence for the
  top entities (genes first) with their strongest sentences and PMIDs.
- ``literature.summary`` (``summary.json``): cited bullets per entity.
- ``literature.ingest``: corpus counts and skipped items.

The report calls the builder once per kind; each kind becomes one section.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..html import esc, figure, table
from ..references import dataset_references
from ..registry import Reference, ReportOptions, Section, SummaryItem
from ..results import ResultFolder

_REFS = (
    Reference("schwartz-hearst", "Schwartz, A. S.; Hearst, M. A. A simple algorithm for identifying abbreviation "
              "definitions in biomedical text. Pac. Symp. Biocomput. 2003, 451-462."),
    Reference("scispacy", "Neumann, M.; King, D.; Beltagy, I.; Ammar, W. ScispaCy: Fast and Robust Models for "
              "Biomedical Natural Language Processing. BioNLP 2019, 319-327.", doi="10.18653/v1/W19-5034"),
    Reference("llama-cpp", "Gerganov, G. et al. llama.cpp: LLM inference in C/C++.",
              url="https://github.com/ggml-org/llama.cpp"),
)

_ANCHOR_ROWS = (
    ("Goal (issue 5)", "ner_goal"),
    ("Naive dictionary from train mentions", "ner_naive_train_dictionary"),
)


def _f(x: Any) -> str:
    return "–" if x is None else f"{float(x):.3f}"


def _bars_svg(rows: Sequence[tuple[str, float, bool]], width: int = 640) -> str:
    """Horizontal bars of F1 values (ours highlighted), inline SVG."""
    bar_h, gap, left, right = 18, 6, 300, 60
    h = len(rows) * (bar_h + gap) + 20
    span = width - left - right
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {h}" role="img" '
             f'style="max-width:100%;height:auto" font-family="DejaVu Sans, Arial, sans-serif" font-size="11">']
    for i, (label, v, ours) in enumerate(rows):
        y = 8 + i * (bar_h + gap)
        w = max(1.0, span * max(0.0, min(1.0, v)))
        parts.append(f'<text x="{left - 6}" y="{y + bar_h * 0.72:.1f}" text-anchor="end">{esc(label)}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" '
                     f'fill="{"#0072B2" if ours else "#BBBBBB"}"/>')
        parts.append(f'<text x="{left + w + 4:.1f}" y="{y + bar_h * 0.72:.1f}">{v:.2f}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _evaluate_part(r: ResultFolder) -> tuple[str, list[SummaryItem], int]:
    m = r.json("metrics.json") or r.manifest.get("metrics") or {}
    ner = (m.get("ner") or {}).get("mention", {})
    docid = (m.get("ner") or {}).get("doc_id", {})
    cid = m.get("cid") or {}
    a = m.get("anchors") or {}
    thr = m.get("throughput") or {}
    rows = []
    for t in ("Chemical", "Disease"):
        x = ner.get(t, {})
        rows.append([f"NER {t} (strict mention)", _f(x.get("precision")), _f(x.get("recall")), _f(x.get("f1")),
                     _f((a.get("ner_goal") or {}).get(t)), _f((a.get("ner_naive_train_dictionary") or {}).get(t))])
    for t in ("Chemical", "Disease"):
        x = docid.get(t, {})
        anchor = a.get("ner_tmchem_chemical_normalization_f1") if t == "Chemical" else a.get(
            "ner_dnorm_disease_normalization_f1")
        rows.append([f"{t} ids per document", _f(x.get("precision")), _f(x.get("recall")), _f(x.get("f1")),
                     "–", f"{_f(anchor)} ({'tmChem' if t == 'Chemical' else 'DNorm'})"])
    rows.append([f"CID relations ({m.get('extractor', 'rules')}, end to end)", _f(cid.get("precision")),
                 _f(cid.get("recall")), _f(cid.get("f1")), _f(a.get("cid_goal")),
                 f"{_f(a.get('cid_best_2015_challenge'))} (best 2015 system)"])
    html = [f"<h3>BC5CDR {esc(m.get('split', 'test'))} set ({esc(m.get('n_docs', '?'))} abstracts)</h3>",
            table(["measure", "precision", "recall", "F1", "goal", "anchor"], rows,
                  caption="Ours against the anchors of the issue; anchors are published figures, not rerun here.")]
    bars = [("ours: Chemical NER", float(ner.get("Chemical", {}).get("f1", 0)), True),
            ("ours: Disease NER", float(ner.get("Disease", {}).get("f1", 0)), True),
            ("scispaCy en_ner_bc5cdr_md (overall)", float(a.get("ner_scispacy_en_ner_bc5cdr_md_overall") or 0), False),
            ("naive train dictionary: Chemical", float((a.get("ner_naive_train_dictionary") or {}).get("Chemical", 0)), False),
            ("naive train dictionary: Disease", float((a.get("ner_naive_train_dictionary") or {}).get("Disease", 0)), False),
            ("ours: CID end to end", float(cid.get("f1", 0)), True),
            ("best 2015 challenge system: CID", float(a.get("cid_best_2015_challenge") or 0), False)]
    html.append(figure(_bars_svg(bars), "F1 on the BC5CDR test set: ours (blue) and published anchors (grey)."))
    if thr:
        html.append(f"<p>Throughput (one core): NER {esc(thr.get('ner_abstracts_per_cpu_s', thr.get('ner_abstracts_per_s')))} "
                    f"abstracts per CPU-second; NER + CID {esc(thr.get('ner_plus_cid_abstracts_per_cpu_s', '–'))} "
                    f"(goal {esc(a.get('throughput_goal_abstracts_per_s_per_core', 2000))}).</p>")
    if m.get("llm"):
        llm = m["llm"]
        html.append(f"<p>LLM extractor: model <code>{esc(llm.get('model'))}</code> at {esc(llm.get('endpoint'))}; "
                    f"{esc(llm.get('proposed'))} relations proposed, {esc(llm.get('kept'))} kept, "
                    f"{esc(llm.get('dropped_unverified'))} dropped because the evidence sentence was not in the abstract, "
                    f"{esc(llm.get('requests_failed'))} failed requests.</p>")
    s = [SummaryItem("Literature · BC5CDR NER", f"F1 Chemical {_f(ner.get('Chemical', {}).get('f1'))}, "
                     f"Disease {_f(ner.get('Disease', {}).get('f1'))}",
                     f"{m.get('n_docs', '?')} {m.get('split', 'test')} abstracts; goals 0.85 / 0.80"),
         SummaryItem("Literature · BC5CDR CID", f"F1 {_f(cid.get('f1'))}", "end to end; goal 0.45, best 2015 system 0.57")]
    return "".join(html), s, 1


def _read_parquet(p):
    import pandas as pd

    return pd.read_parquet(p)


def _extract_part(r: ResultFolder) -> tuple[str, list[SummaryItem]]:
    summ = r.json("summary.json") or {}
    html = [f"<h3>Evidence from {esc(summ.get('documents_processed', summ.get('documents', '?')))} abstracts</h3>",
            f"<p>{esc(summ.get('mentions', '?'))} entity mentions, {esc(summ.get('evidence_rows', '?'))} evidence "
            f"sentences ({esc(', '.join(f'{k}: {v}' for k, v in (summ.get('relations_by_predicate') or {}).items()))}); "
            f"extractor <code>{esc(summ.get('extractor', 'rules'))}</code>; "
            f"{esc(summ.get('skipped', 0))} input items skipped (listed in problems.tsv).</p>"]
    df = r._cached("parquet", "evidence.parquet", _read_parquet)
    if df is not None and len(df):
        rows = []
        genes = df[(df["subject_type"] == "Gene") | (df["object_type"] == "Gene")]
        focus = genes if len(genes) else df
        ent = focus.apply(lambda x: (x["subject_id"], x["subject_name"]) if x["subject_type"] == "Gene" or not len(genes)
                          else (x["object_id"], x["object_name"]), axis=1)
        focus = focus.assign(_eid=[e[0] for e in ent], _ename=[e[1] for e in ent])
        top = (focus.groupby("_eid")["pmid"].nunique().sort_values(ascending=False).head(8))
        for eid, n in top.items():
            g = focus[focus["_eid"] == eid].sort_values("score", ascending=False)
            best = g.iloc[0]
            pmids = sorted(set(g["pmid"]), key=lambda p: (len(p), p))[:6]
            partner = best["object_name"] if best["subject_id"] == eid else best["subject_name"]
            rows.append([f"{best['_ename']} ({eid})", f"{best['predicate']} {partner}", esc(best["sentence"][:300]),
                         ", ".join(f"PMID:{p}" for p in pmids), str(n)])
        html.append(table(["entity", "relation (strongest)", "evidence sentence", "PMIDs", "abstracts"],
                          [[esc(c) if i != 2 else c for i, c in enumerate(row)] for row in rows], raw=True,
                          numeric_from=4, caption="Top entities by number of abstracts with evidence "
                          "(genes first); each sentence is quoted verbatim from its abstract."))
    s = [SummaryItem("Literature · evidence", f"{summ.get('evidence_rows', '?')} evidence sentences",
                     f"{summ.get('documents_processed', '?')} abstracts, extractor {summ.get('extractor', 'rules')}")]
    return "".join(html), s


def _summary_part(r: ResultFolder) -> str:
    s = r.json("summary.json") or {}
    items = "".join(f"<li>{esc(b.get('text'))} <span class=cite>[{esc(', '.join('PMID:' + p for p in b.get('pmids', [])))}]"
                    f"</span></li>" for b in s.get("bullets", [])) or "<li>No evidence found in the corpus.</li>"
    return (f"<h3>{esc(s.get('name', s.get('entity')))} ({esc(s.get('entity'))})</h3>"
            f"<p>{esc(s.get('method', 'extractive'))} summary of {esc(s.get('n_evidence', 0))} evidence sentences.</p>"
            f"<ul>{items}</ul>")


def _ingest_part(r: ResultFolder) -> str:
    s = r.json("summary.json") or {}
    return (f"<p>Corpus: {esc(s.get('documents', '?'))} documents from {esc(s.get('files', '?'))} files "
            f"({esc(s.get('empty_abstracts', 0))} without abstract, {esc(s.get('deleted', 0))} deletions, "
            f"{esc(s.get('skipped', 0))} skipped items with reasons in problems.tsv); "
            f"{esc(s.get('rows_in_store', '?'))} documents in the store.</p>")


def build_section(results: Sequence[ResultFolder], options: ReportOptions) -> Section:
    """One "Literature mining" section for every ``literature.*`` result folder."""
    parts: list[str] = []
    summary: list[SummaryItem] = []
    nfig = 0
    order = {"literature.evaluate": 0, "literature.ingest": 1, "literature.extract": 2, "literature.summary": 3}
    for r in sorted(results, key=lambda x: (order.get(x.kind, 9), str(x.label))):
        if r.kind == "literature.evaluate":
            h, s, n = _evaluate_part(r)
            parts.append(h)
            summary += s
            nfig += n
        elif r.kind == "literature.extract":
            h, s = _extract_part(r)
            parts.append(h)
            summary += s
        elif r.kind == "literature.summary":
            parts.append(_summary_part(r))
        elif r.kind == "literature.ingest":
            parts.append(_ingest_part(r))
    refs = list(_REFS)
    for name in ("bc5cdr", "mesh-descriptors", "ctd-diseases", "drugbank-vocabulary", "hgnc-genes"):
        _, drefs, _ = dataset_references(name)
        refs += [d for d in drefs if d.key not in {x.key for x in refs}]
    keys = {x.key for x in refs}
    cite = lambda *ks: "".join(f"[@{k}]" for k in ks if k in keys)  # noqa: E731
    methods = ("Abstracts were tagged with a dictionary matcher compiled from MeSH " + cite("data:mesh") +
               ", the CTD MEDIC disease vocabulary " + cite("data:ctd") + ", the DrugBank open vocabulary " +
               cite("data:drugbank") + " and HGNC " + cite("data:hgnc") + " (longest match, case and plural "
               "normalization, stop-list), with abbreviations resolved by the Schwartz-Hearst algorithm " +
               cite("schwartz-hearst") + "; the dictionary was enriched and pruned with the BioCreative V CDR "
               "training and development annotations " + cite("data:bc5cdr", "data:bc5cdr-overview") + " and "
               "evaluated on its test set. Chemical-induced disease relations were scored by weighted rules "
               "(sentence co-occurrence, trigger words, negation, title position, a prior of annotated pairs) fitted "
               "on the training set; gene co-mentions were kept with their sentences. The optional LLM extractor "
               "queried an OpenAI-compatible local server (e.g. llama.cpp " + cite("llama-cpp") + ") with JSON-schema "
               "constrained output and kept only relations whose evidence sentence occurs verbatim in the abstract. "
               "scispaCy " + cite("scispacy") + " is quoted as an anchor, not rerun.")
    kinds = {r.kind for r in results}
    # the report calls this once per kind: one section each, the methods paragraph with the evaluation
    # (or with the evidence when no evaluation was run)
    kind = sorted(kinds)[0] if kinds else "literature.extract"
    titles = {"literature.evaluate": "Literature mining: BC5CDR evaluation",
              "literature.extract": "Literature mining: evidence",
              "literature.summary": "Literature mining: cited summaries",
              "literature.ingest": "Literature mining: corpus"}
    if kind not in ("literature.evaluate", "literature.extract"):
        methods = ""
    return Section(id=kind.replace(".", "-"), title=titles.get(kind, "Literature mining"), html="".join(parts),
                   summary=summary, methods=methods, references=refs if methods else [], n_figures=nfig)
