"""Report section for ``screening.*`` result folders.

Kinds and the files read (all written by ``discovery screen ...`` or the
notebook / benchmark):

=============================  =====================================================
kind                           files
=============================  =====================================================
``screening.index``            ``index.json`` (counts, fingerprint), manifest counts
``screening.search``           ``hits.csv`` (query, query_smiles, rank, target_smiles,
                               score), ``summary.json``
``screening.cluster``          ``clusters.csv``, ``summary.json``
``screening.pick``             ``picks.csv``
``screening.select``           ``batch.csv`` (scores and reasons), ``gp.json``, ``summary.json``
``screening.active_learning``  ``curves.csv`` (strategy, seed, round, n_measured,
                               best_found, rmse_unmeasured)
=============================  =====================================================

Nearest neighbours of the first queries are drawn side by side with their
scores; the chosen batch is listed with its reasons and its first molecules
drawn; active-learning curves are plotted. Missing files are reported as such.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..html import esc, figure, fmt_num, table
from ..registry import Reference, ReportOptions, Section, SummaryItem
from ..results import ResultFolder

#: Queries drawn with their neighbours; neighbours per query; batch molecules drawn.
N_QUERIES_DRAWN = 4
N_NEIGHBOURS_DRAWN = 4
N_BATCH_DRAWN = 8

_REFS = [
    Reference("ecfp", "Rogers, D.; Hahn, M. Extended-Connectivity Fingerprints. J. Chem. Inf. Model. "
              "2010, 50, 742-754.", doi="10.1021/ci100060z"),
    Reference("bitbound", "Swamidass, S. J.; Baldi, P. Bounds and Algorithms for Fast Exact Searches of Chemical "
              "Fingerprints in Linear and Sublinear Time. J. Chem. Inf. Model. 2007, 47, 302-317.",
              doi="10.1021/ci600358f"),
    Reference("butina", "Butina, D. Unsupervised Data Base Clustering Based on Daylight's Fingerprint and "
              "Tanimoto Similarity: A Fast and Automated Way To Cluster Small and Large Data Sets. "
              "J. Chem. Inf. Comput. Sci. 1999, 39, 747-750.", doi="10.1021/ci9803381"),
    Reference("maxmin", "Ashton, M.; Barnard, J.; Casset, F.; Charlton, M.; Downs, G.; Gorse, D.; Holliday, J.; "
              "Lahana, R.; Willett, P. Identification of Diverse Database Subsets using Property-Based and "
              "Fragment-Based Molecular Descriptions. Quant. Struct.-Act. Relat. 2002, 21, 598-604.",
              doi="10.1002/qsar.200290002"),
    Reference("minmax-kernel", "Ralaivola, L.; Swamidass, S. J.; Saigo, H.; Baldi, P. Graph kernels for chemical "
              "informatics. Neural Networks 2005, 18, 1093-1110.", doi="10.1016/j.neunet.2005.07.009"),
    Reference("gauche", "Griffiths, R.-R. et al. GAUCHE: A Library for Gaussian Processes in Chemistry. "
              "Advances in Neural Information Processing Systems 36 (NeurIPS) 2023. arXiv:2212.04450."),
    Reference("ei", "Jones, D. R.; Schonlau, M.; Welch, W. J. Efficient Global Optimization of Expensive "
              "Black-Box Functions. J. Global Optim. 1998, 13, 455-492.", doi="10.1023/A:1008306431147"),
    Reference("ucb", "Srinivas, N.; Krause, A.; Kakade, S.; Seeger, M. Gaussian Process Optimization in the Bandit "
              "Setting: No Regret and Experimental Design. ICML 2010. arXiv:0912.3995."),
    Reference("thompson", "Thompson, W. R. On the Likelihood that One Unknown Probability Exceeds Another in View "
              "of the Evidence of Two Samples. Biometrika 1933, 25, 285-294.", doi="10.2307/2332286"),
    Reference("kriging-believer", "Ginsbourger, D.; Le Riche, R.; Carraro, L. Kriging Is Well-Suited to "
              "Parallelize Optimization. In Computational Intelligence in Expensive Optimization Problems; "
              "Springer, 2010; pp 131-162.", doi="10.1007/978-3-642-10701-6_6"),
    Reference("jax", "Bradbury, J. et al. JAX: composable transformations of Python+NumPy programs. Software, "
              "2018.", url="http://github.com/jax-ml/jax"),
    Reference("rdkit", "RDKit: Open-source cheminformatics software.", url="www.rdkit.org"),
]


def _mols_row(items: Sequence[tuple[str, str]]) -> str:
    """Molecule drawings in a row, each with a caption."""
    from ..molecules import mol_svg

    cells = []
    for smiles, caption in items:
        svg = mol_svg(str(smiles), 180, 140) or f"<code>{esc(smiles)}</code>"
        cells.append(f'<div class="mol-cell" style="display:inline-block;vertical-align:top;width:190px;'
                     f'margin:2px;text-align:center">{svg}<div class="small">{esc(caption)}</div></div>')
    return '<div class="mol-row">' + "".join(cells) + "</div>"


def _fp(r: ResultFolder) -> str:
    c = r.config
    if "fp_radius" in c:
        return f"Morgan radius {c['fp_radius']}, {c.get('fp_nbits')} bits"
    return "Morgan fingerprints"


def _search_part(r: ResultFolder) -> tuple[str, list[SummaryItem], int]:
    df = r.frame("hits.csv")
    summ = r.json("summary.json") or {}
    if df is None:
        return f"<h3>Similarity search</h3><p>hits.csv not reported ({esc(r.path)})</p>", [], 0
    mode = (f"Tanimoto ≥ {summ.get('threshold')}" if summ.get("mode") == "threshold"
            else f"top-{summ.get('k', '?')}")
    stats = summ.get("stats") or {}
    head = (f"<h3>Similarity search ({esc(mode)})</h3><p>{fmt_num(summ.get('n_queries'))} queries against "
            f"{fmt_num(summ.get('n_library'))} library molecules ({esc(_fp(r))}); {fmt_num(len(df))} hits; "
            f"{fmt_num(summ.get('n_invalid_queries', 0))} invalid queries skipped; "
            f"{100 * float(stats.get('pruned_fraction', 0)):.0f}% of pairs skipped by BitBound [@bitbound]. "
            "Scores are exact Tanimoto similarities (identical to RDKit's).</p>")
    parts = [head]
    nfig = 0
    for q in list(dict.fromkeys(df["query"].tolist()))[:N_QUERIES_DRAWN]:
        g = df[df["query"] == q].sort_values("rank").head(N_NEIGHBOURS_DRAWN)
        items = [(g["query_smiles"].iloc[0], f"query {g['query_id'].iloc[0]}")]
        items += [(s, f"#{int(k)} {t} · {float(sc):.2f}") for s, k, t, sc in
                  zip(g["target_smiles"], g["rank"], g["target_id"], g["score"])]
        parts.append(figure(_mols_row(items), f"Query {g['query_id'].iloc[0]} and its nearest library neighbours "
                                             "(rank, id, Tanimoto)."))
        nfig += 1
    best = df.groupby("query")["score"].max()
    summary = [SummaryItem(f"similarity search · {mode}", f"{fmt_num(len(df))} hits for {fmt_num(len(best))} queries",
                           f"median best Tanimoto {np.median(best):.2f}; library {fmt_num(summ.get('n_library'))}")]
    return "".join(parts), summary, nfig


def _select_part(r: ResultFolder) -> tuple[str, list[SummaryItem], int]:
    df = r.frame("batch.csv")
    summ = r.json("summary.json") or {}
    gp = r.json("gp.json") or {}
    if df is None:
        return f"<h3>Next batch</h3><p>batch.csv not reported ({esc(r.path)})</p>", [], 0
    acq = str(summ.get("acquisition", r.config.get("acquisition", "?")))
    head = (f"<h3>Next batch ({esc(acq)}, {len(df)} molecules)</h3>"
            f"<p>A Gaussian process with the {esc(gp.get('kernel', 'MinMax'))} kernel [@minmax-kernel] was fitted to "
            f"{fmt_num(summ.get('n_train'))} measured molecules (target {esc(summ.get('target'))}; noise sd "
            f"{fmt_num(np.sqrt(gp['noise_variance']) if 'noise_variance' in gp else None)}, signal sd "
            f"{fmt_num(np.sqrt(gp['signal_variance']) if 'signal_variance' in gp else None)}) and "
            f"{len(df)} of {fmt_num(summ.get('n_library'))} candidates chosen; best measured value "
            f"{fmt_num(summ.get('best_measured'))}; no two picks more similar than Tanimoto "
            f"{fmt_num(r.config.get('max_sim'))}.</p>")
    rows = [[int(x.rank), esc(x.id), f"<code>{esc(x.smiles)}</code>", esc(fmt_num(x.mean)), esc(fmt_num(x.sd)),
             esc(fmt_num(x.nearest_measured_sim)), esc(x.reason)] for x in df.head(24).itertuples()]
    tbl = table(["rank", "id", "SMILES", "predicted", "sd", "nearest measured", "reason"], rows, raw=True)
    items = [(s, f"#{int(k)} {m:.2f} ± {sd:.2f}") for s, k, m, sd in
             zip(df["smiles"].head(N_BATCH_DRAWN), df["rank"], df["mean"], df["sd"])]
    fig = figure(_mols_row(items), "First molecules of the chosen batch (rank, predicted value ± sd).")
    summary = [SummaryItem(f"next batch · {acq}", f"{len(df)} molecules chosen",
                           f"mean prediction {fmt_num(float(df['mean'].mean()))}; "
                           f"GP on {fmt_num(summ.get('n_train'))} measured")]
    more = "" if len(df) <= 24 else f"<p class='small'>First 24 of {len(df)} shown; all in batch.csv.</p>"
    return head + fig + tbl + more, summary, 1


def _al_part(r: ResultFolder) -> tuple[str, list[SummaryItem], int]:
    df = r.frame("curves.csv")
    if df is None:
        return f"<h3>Active learning</h3><p>curves.csv not reported ({esc(r.path)})</p>", [], 0
    from ..plots import PALETTE, _plt, _style, _to_svg

    plt = _plt()
    with plt.rc_context(_style()):
        fig, axes = plt.subplots(1, 2, figsize=(8, 3))
        for i, (strat, g) in enumerate(df.groupby("strategy", sort=False)):
            m = g.groupby("round").agg(n=("n_measured", "first"), best=("best_found", "mean"),
                                       rmse=("rmse_unmeasured", "mean"))
            axes[0].plot(m["n"], m["best"], marker="o", ms=3, color=PALETTE[i % len(PALETTE)], label=strat)
            axes[1].plot(m["n"], m["rmse"], marker="o", ms=3, color=PALETTE[i % len(PALETTE)], label=strat)
        if "best_possible" in df:
            axes[0].axhline(float(df["best_possible"].iloc[0]), color="grey", lw=0.8, ls="--")
        axes[0].set(xlabel="molecules measured", ylabel="best value found")
        axes[1].set(xlabel="molecules measured", ylabel="RMSE on unmeasured")
        axes[0].legend(fontsize=7)
        svg = _to_svg(fig)
    seeds = sorted(set(df["seed"].tolist())) if "seed" in df else []
    last = df[df["round"] == df["round"].max()].groupby("strategy", sort=False).agg(
        best=("best_found", "mean"), rmse=("rmse_unmeasured", "mean"))
    rows = [[s, fmt_num(x.best), fmt_num(x.rmse)] for s, x in last.iterrows()]
    cfg = r.config
    head = (f"<h3>Active learning (retrospective, {esc(cfg.get('data', ''))})</h3><p>Start from "
            f"{esc(cfg.get('n_init', '?'))} random molecules, then {esc(cfg.get('rounds', '?'))} rounds of "
            f"{esc(cfg.get('batch', '?'))}; mean over {len(seeds)} seed(s). Dashed line: best value in the set.</p>")
    best_strat = last["best"].idxmax() if len(last) else "?"
    summary = [SummaryItem("active learning", f"best after last round: {best_strat} ({fmt_num(last['best'].max())})",
                           ", ".join(f"{s} {fmt_num(x.best)}" for s, x in last.iterrows()))]
    return (head + figure(svg, "Best value found and GP error on the unmeasured molecules per round.")
            + table(["strategy", "best found (last round)", "RMSE unmeasured"], rows)), summary, 1


def _simple_part(r: ResultFolder) -> tuple[str, list[SummaryItem], int]:
    if r.kind == "screening.index":
        meta = r.json("index.json") or {}
        return (f"<h3>Fingerprint index</h3><p>{fmt_num(meta.get('n'))} molecules indexed "
                f"({fmt_num(meta.get('n_invalid'))} invalid, listed in invalid.csv); {esc(_fp(r))}; "
                f"{fmt_num(meta.get('n', 0) * meta.get('n_words', 0) * 8 / 2 ** 20)} MiB packed.</p>"), [], 0
    if r.kind == "screening.cluster":
        s = r.json("summary.json") or {}
        df = r.frame("clusters.csv")
        html = (f"<h3>Butina clusters</h3><p>{fmt_num(s.get('n'))} molecules, distance cutoff {fmt_num(s.get('cutoff'))}"
                f" [@butina]: {fmt_num(s.get('n_clusters'))} clusters, {fmt_num(s.get('n_singletons'))} singletons, "
                f"largest {fmt_num(s.get('largest_cluster'))}.</p>")
        nfig = 0
        if df is not None and "centroid" in df:
            cent = df[df["centroid"].astype(str).str.lower() == "true"].sort_values("cluster").head(6)
            if len(cent):
                html += figure(_mols_row([(x.smiles, f"cluster {x.cluster} · {x.cluster_size} members")
                                          for x in cent.itertuples()]), "Centroids of the largest clusters.")
                nfig = 1
        return html, [SummaryItem("Butina clustering", f"{fmt_num(s.get('n_clusters'))} clusters",
                                  f"{fmt_num(s.get('n'))} molecules at cutoff {fmt_num(s.get('cutoff'))}")], nfig
    if r.kind == "screening.pick":
        df = r.frame("picks.csv")
        if df is None:
            return "<h3>Diversity picks</h3><p>picks.csv not reported</p>", [], 0
        html = (f"<h3>Diversity picks (MaxMin [@maxmin], seed {esc(r.seed)})</h3><p>{len(df)} molecules picked; "
                f"largest Tanimoto of a pick to the earlier picks {fmt_num(float(df['max_sim_to_picked'].max()))}.</p>")
        html += figure(_mols_row([(x.smiles, f"pick {x.pick}") for x in df.head(N_BATCH_DRAWN).itertuples()]),
                       "First MaxMin picks.")
        return html, [SummaryItem("diversity picks", f"{len(df)} molecules", "MaxMin")], 1
    return f"<p>{esc(r.kind)}: {esc(r.path)}</p>", [], 0


def build_section(results: Sequence[ResultFolder], options: ReportOptions) -> Section:
    """One section for every ``screening.*`` result folder."""
    order = ["screening.index", "screening.search", "screening.cluster", "screening.pick", "screening.select",
             "screening.active_learning"]
    parts: list[str] = []
    summary: list[SummaryItem] = []
    nfig = 0
    for r in sorted(results, key=lambda x: (order.index(x.kind) if x.kind in order else 99, str(x.path))):
        fn = {"screening.search": _search_part, "screening.select": _select_part,
              "screening.active_learning": _al_part}.get(r.kind, _simple_part)
        h, s, n = fn(r)
        parts.append(h)
        summary += s
        nfig += n
    kinds = {r.kind for r in results}
    fp = ("Molecules were encoded as Morgan/ECFP fingerprints [@ecfp] with RDKit [@rdkit], packed into 64-bit "
          "words. ")
    methods_by_kind = {
        "screening.index": fp,
        "screening.search": fp + ("Similarity search is exact Tanimoto top-k and threshold search in JAX [@jax], "
                                  "with popcount bounds to skip library blocks that cannot qualify [@bitbound]; ties "
                                  "are broken by library order and scores equal RDKit's BulkTanimotoSimilarity (two "
                                  "empty fingerprints score 0). "),
        "screening.cluster": fp + "Clusters follow Taylor-Butina [@butina] (RDKit's order of centroids). ",
        "screening.pick": fp + "Diverse subsets were chosen by MaxMin [@maxmin], seeded. ",
        "screening.select": ("The next batch comes from a Gaussian process with the MinMax (Tanimoto) kernel on "
                             "Morgan count fingerprints [@minmax-kernel; @gauche], noise and signal variance fitted "
                             "by marginal likelihood, and expected improvement [@ei], upper confidence bound [@ucb] "
                             "or Thompson sampling [@thompson], kept diverse by the kriging believer "
                             "[@kriging-believer] and a similarity cap between picks. "),
        "screening.active_learning": ("Active learning was simulated retrospectively: a GP with the MinMax kernel "
                                      "[@minmax-kernel] refitted each round, batches chosen by EI [@ei], UCB [@ucb], "
                                      "Thompson sampling [@thompson] or at random. "),
    }
    titles = {"screening.index": ("screening-index", "Fingerprint index"),
              "screening.search": ("screening-search", "Similarity search"),
              "screening.cluster": ("screening-clusters", "Clustering"),
              "screening.pick": ("screening-picks", "Diversity picks"),
              "screening.select": ("screening-batch", "Next batch to measure (active learning)"),
              "screening.active_learning": ("screening-active-learning", "Active-learning simulation")}
    sid, title = titles[next(iter(kinds))] if len(kinds) == 1 and next(iter(kinds)) in titles else \
        ("screening", "Similarity screening and active learning")
    methods = "".join(dict.fromkeys(methods_by_kind.get(k, "") for k in order if k in kinds)).strip()
    return Section(id=sid, title=title, html="".join(parts), summary=summary, methods=methods,
                   references=list(_REFS), n_figures=nfig)
