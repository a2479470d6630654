"""Report sections for target discovery: ``targets.evaluate``, ``targets.rank`` and ``targets.dta`` folders.

Result folders read here (written by ``discovery targets ...``)::

    targets.evaluate   metrics.json  summary[relation][model][metric] = {mean, sd, n}, runs, config, protocol
    targets.rank       ranking.json  query, relation, model, results[{rank, id, name, score, known,
                                      combined_evidence, sources, metapaths, paths}]
    targets.dta        metrics.json  summary[model][roc_auc|pr_auc] = {mean, sd, n}, n_rows, n_proteins

A value that is missing is shown as "not reported", never estimated.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from ..html import NOT_REPORTED, esc, figure, table
from ..registry import Reference, ReportOptions, Section, SummaryItem
from ..results import ResultFolder

_REFS: dict[str, tuple[str, str | None]] = {
    "hetionet": ("Himmelstein, D. S. et al. Systematic integration of biomedical knowledge prioritizes drugs for "
                 "repurposing. eLife 2017, 6, e26726.", "10.7554/eLife.26726"),
    "rgcn": ("Schlichtkrull, M.; Kipf, T. N.; Bloem, P.; van den Berg, R.; Titov, I.; Welling, M. Modeling "
             "Relational Data with Graph Convolutional Networks. ESWC 2018, LNCS 10843, 593-607.",
             "10.1007/978-3-319-93417-4_38"),
    "hgt": ("Hu, Z.; Dong, Y.; Wang, K.; Sun, Y. Heterogeneous Graph Transformer. Proceedings of The Web "
            "Conference 2020, 2704-2710.", "10.1145/3366423.3380027"),
    "distmult": ("Yang, B.; Yih, W.; He, X.; Gao, J.; Deng, L. Embedding Entities and Relations for Learning and "
                 "Inference in Knowledge Bases. ICLR 2015. arXiv:1412.6575.", None),
    "txgnn": ("Huang, K. et al. A foundation model for clinician-centered drug repurposing. Nat. Med. 2024, 30, "
              "3601-3613.", "10.1038/s41591-024-03233-x"),
    "opentargets": ("Ochoa, D. et al. The next-generation Open Targets Platform: reimagined, redesigned, rebuilt. "
                    "Nucleic Acids Res. 2023, 51, D1353-D1359.", "10.1093/nar/gkac1046"),
    "pyg": ("Fey, M.; Lenssen, J. E. Fast Graph Representation Learning with PyTorch Geometric. ICLR Workshop on "
            "Representation Learning on Graphs and Manifolds 2019. arXiv:1903.02428.", None),
    "davis": ("Davis, M. I. et al. Comprehensive analysis of kinase inhibitor selectivity. Nat. Biotechnol. 2011, "
              "29, 1046-1051.", "10.1038/nbt.1990"),
    "biopython": ("Cock, P. J. A. et al. Biopython: freely available Python tools for computational molecular "
                  "biology and bioinformatics. Bioinformatics 2009, 25, 1422-1423.", "10.1093/bioinformatics/btp163"),
    "dmpnn": ("Yang, K. et al. Analyzing Learned Molecular Representations for Property Prediction. J. Chem. Inf. "
              "Model. 2019, 59, 3370-3388.", "10.1021/acs.jcim.9b00237"),
}
MODEL_LABELS = {"degree": "degree prior (baseline)", "pathcount": "path counts + LR (Rephetio-style)",
                "distmult": "DistMult", "rgcn": "R-GCN + DistMult", "hgt": "HGT + DistMult"}
METRICS = (("mrr", "MRR"), ("hits@10", "Hits@10"), ("auroc", "AUROC"), ("auprc", "AUPRC"))


def _ref(key: str) -> Reference:
    text, doi = _REFS[key]
    return Reference(key, text, doi=doi)


def _ms(d: Any) -> str:
    if not isinstance(d, dict) or d.get("mean") is None or (isinstance(d["mean"], float) and math.isnan(d["mean"])):
        return NOT_REPORTED
    sd = d.get("sd") or 0.0
    n = d.get("n")
    return f"{d['mean']:.3f} ± {sd:.3f}" + (f" (n={n})" if n is not None and n < 3 else "")


# ---------------------------------------------------------------------- evaluate


def build_evaluate(results: Sequence[ResultFolder], options: ReportOptions) -> Section:
    """Metric table of every model (baselines included) per relation and split."""
    rows, summary = [], []
    proto = ""
    for r in results:
        m = r.json("metrics.json") or {}
        cfg = m.get("config", {})
        split = cfg.get("split", r.config.get("split", "?"))
        proto = proto or "; ".join(f"{k}: {v}" for k, v in (m.get("protocol") or {}).items())
        for rel, models in (m.get("summary") or {}).items():
            best = None
            for name, d in models.items():
                rows.append([rel, split, MODEL_LABELS.get(name, name)] + [_ms(d.get(k)) for k, _ in METRICS])
                mrr = (d.get("mrr") or {}).get("mean")
                if name != "degree" and mrr is not None and (best is None or mrr > best[1]):
                    best = (name, mrr, d)
            deg = models.get("degree", {}).get("mrr", {}).get("mean")
            if best:
                summary.append(SummaryItem(
                    what=f"{rel} link prediction · {split} split · {MODEL_LABELS.get(best[0], best[0])}",
                    headline=f"MRR {_ms(best[2].get('mrr'))}, AUROC {_ms(best[2].get('auroc'))}",
                    detail=f"degree prior MRR {deg:.3f}" if deg is not None else "no degree prior run"))
    html = [
        "<p>Link prediction on the knowledge graph: for each held-out edge the disease is the query and "
        "<em>every</em> node of the answer type is a candidate. Rows differ in model; numbers are mean ± sd over "
        "seeds on the test edges. The degree prior (a candidate's number of known links) is the baseline every "
        "model must beat; in the <em>disease</em> split whole diseases are held out (zero-shot).</p>",
        table(["relation", "split", "model"] + [lab for _, lab in METRICS], rows, numeric_from=3),
        f'<p class="note">Protocol: {esc(proto)}.</p>' if proto else "",
    ]
    methods = ("Knowledge-graph link prediction used Hetionet [@hetionet] with random and disease-held-out splits "
               "(zero-shot, as in TxGNN [@txgnn]); filtered ranking against all candidates of the answer type. "
               "Models: degree prior; degree-weighted path counts over metapaths of length <= 3 with elastic-net "
               "logistic regression (Rephetio-style) [@hetionet]; DistMult [@distmult]; R-GCN [@rgcn] and HGT "
               "[@hgt] encoders (PyTorch Geometric [@pyg]) with a DistMult decoder.")
    refs = [_ref(k) for k in ("hetionet", "txgnn", "distmult", "rgcn", "hgt", "pyg")]
    return Section(id="targets-evaluate", title="Target discovery: link-prediction evaluation", html="".join(html),
                   summary=summary, methods=methods, references=refs)


# ---------------------------------------------------------------------- rank


def paths_svg(paths: Sequence[dict[str, Any]], width: int = 760, max_paths: int = 6) -> str | None:
    """A small layered drawing of evidence paths: query left, answer right, intermediates by position.

    Every path drawn is a list of nodes the ranking found in the graph; edges are labelled with their relation.
    """
    paths = [p for p in paths if p.get("nodes")][:max_paths]
    if not paths:
        return None
    depth = max(len(p["nodes"]) for p in paths)
    cols: list[list[tuple[str, str]]] = [[] for _ in range(depth)]
    pos: dict[tuple[str, str], tuple[float, float]] = {}
    for p in paths:
        nodes = p["nodes"]
        for i, n in enumerate(nodes):
            col = 0 if i == 0 else depth - 1 if i == len(nodes) - 1 else i
            key = (n["type"], n["id"])
            if key not in pos and key not in cols[col]:
                cols[col].append(key)
    names = {(n["type"], n["id"]): n["name"] for p in paths for n in p["nodes"]}
    rows = max(len(c) for c in cols)
    height = 60 + 46 * rows
    x0, dx = 70, (width - 140) / max(depth - 1, 1)
    for ci, c in enumerate(cols):
        for ri, key in enumerate(c):
            y = 30 + (height - 60) * (ri + 0.5) / max(len(c), 1)
            pos[key] = (x0 + ci * dx, y)
    colours = {"Disease": "#a4460b", "Gene": "#0b5cad", "Compound": "#1f7a3f", "Anatomy": "#6b4fa0"}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
           f'height="{height}" role="img" font-family="sans-serif" font-size="11">']
    drawn = set()
    for p in paths:
        for (a, b), et in zip(zip(p["nodes"], p["nodes"][1:]), p.get("edges", [])):
            ka, kb = (a["type"], a["id"]), (b["type"], b["id"])
            if (ka, kb) in drawn:
                continue
            drawn.add((ka, kb))
            (xa, ya), (xb, yb) = pos[ka], pos[kb]
            rel = et.split("-")[1] if isinstance(et, str) and et.count("-") >= 2 else str(et)
            out.append(f'<line x1="{xa:.1f}" y1="{ya:.1f}" x2="{xb:.1f}" y2="{yb:.1f}" stroke="#9aa4ae" stroke-width="1.3"/>')
            out.append(f'<text x="{(xa + xb) / 2:.1f}" y="{(ya + yb) / 2 - 3:.1f}" fill="#5b6570" '
                       f'text-anchor="middle" font-size="9">{esc(rel)}</text>')
    for key, (x, y) in pos.items():
        col = colours.get(key[0], "#444")
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="7" fill="{col}"><title>{esc(key[0])} {esc(key[1])}</title></circle>')
        out.append(f'<text x="{x:.1f}" y="{y + 19:.1f}" text-anchor="middle" fill="#1d232a">{esc(names[key])}</text>')
    out.append("</svg>")
    return "".join(out)


def build_rank(results: Sequence[ResultFolder], options: ReportOptions) -> Section:
    """Ranked targets / drugs per disease with evidence, and the top answer's paths as a small subgraph."""
    parts, summary, n_fig = [], [], 0
    for r in results:
        res = r.json("ranking.json") or {}
        q = res.get("query", {})
        rows = res.get("results", [])
        what = "genes (targets)" if "Gene" in res.get("relation", "") else "compounds (repurposing)"
        parts.append(f"<h3>{esc(q.get('name', '?'))} ({esc(q.get('id', '?'))}): ranked {what}</h3>")
        parts.append(f"<p>Model {esc(res.get('model', NOT_REPORTED))}; {res.get('n_candidates', NOT_REPORTED)} "
                     f"candidates, {res.get('n_known', NOT_REPORTED)} already linked in the graph. "
                     "<em>known</em> = the link is already an edge; <em>combined</em> = per-source evidence "
                     "combined Open Targets-style (harmonic sum, normalised) [@opentargets].</p>")
        body = []
        for x in rows[: max(options.top_n * 2, 10)]:
            srcs = ", ".join(f"{k} {v:.2f}" for k, v in (x.get("sources") or {}).items() if v)
            mps = ", ".join(m["metapath"] for m in (x.get("metapaths") or [])[:3])
            path = (x.get("paths") or [{}])[0].get("text", "")
            body.append([x.get("rank"), x.get("name"), x.get("id"), "known" if x.get("known") else "novel",
                         f"{x.get('score', float('nan')):.3f}", f"{x.get('combined_evidence', float('nan')):.3f}",
                         srcs, mps, path])
        parts.append(table(["rank", "name", "id", "status", "score", "combined", "sources", "top metapaths",
                            "strongest path"], body, numeric_from=4))
        if rows:
            svg = paths_svg(rows[0].get("paths") or [])
            if svg:
                parts.append(figure(svg, f"Evidence paths from {q.get('name', '?')} to the top answer "
                                         f"{rows[0].get('name')} (every edge exists in the graph)."))
                n_fig += 1
            top = rows[0]
            summary.append(SummaryItem(what=f"{q.get('name', '?')} · top {what}",
                                       headline=f"{top.get('name')} ({'known' if top.get('known') else 'novel'})",
                                       detail=", ".join(x.get("name", "") for x in rows[1:5])))
    methods = ("Candidates were ranked for each disease by a model trained on every known edge; evidence paths "
               "were enumerated on the graph along the metapaths contributing most to the score [@hetionet], and "
               "per-source scores were combined by a normalised harmonic sum [@opentargets].")
    return Section(id="targets-rank", title="Target discovery: ranked targets and drugs with evidence",
                   html="".join(parts), summary=summary, methods=methods, references=[_ref("hetionet"), _ref("opentargets")],
                   n_figures=n_fig)


# ---------------------------------------------------------------------- dta


def build_dta(results: Sequence[ResultFolder], options: ReportOptions) -> Section:
    """Drug-target interaction on DAVIS, unseen proteins: ours vs gradient boosting."""
    rows, summary = [], []
    for r in results:
        m = r.json("metrics.json") or {}
        for name, d in (m.get("summary") or {}).items():
            rows.append([name, _ms(d.get("roc_auc")), _ms(d.get("pr_auc")), _ms(d.get("train_s"))])
            summary.append(SummaryItem(what=f"DAVIS unseen proteins · {name}", headline=f"ROC-AUC {_ms(d.get('roc_auc'))}",
                                       detail=f"PR-AUC {_ms(d.get('pr_auc'))}; {m.get('n_rows')} pairs, "
                                              f"{m.get('n_proteins')} proteins, {m.get('n_invalid', 0)} rows rejected"))
    html = ("<p>Drug-target interaction on DAVIS [@davis]: test proteins are never seen in training. Ours joins "
            "the molprop D-MPNN molecule encoder [@dmpnn] with a protein encoder over ProtParam composition "
            "features (Biopython [@biopython]); the baseline is gradient boosting on Morgan fingerprints + the "
            "same composition features, on the same split.</p>"
            + table(["model", "ROC-AUC", "PR-AUC", "train s"], rows))
    return Section(id="targets-dta", title="Drug-target interaction (DAVIS)", html=html, summary=summary,
                   methods="Drug-target interactions were modelled on DAVIS [@davis] with an unseen-protein split; "
                           "protein descriptors from Biopython ProtParam [@biopython]; molecule encoder D-MPNN [@dmpnn].",
                   references=[_ref("davis"), _ref("biopython"), _ref("dmpnn")])
