"""A synthetic knowledge graph with planted, path-predictable links (for tests, demos and sanity checks).

Diseases fall into clusters; each cluster shares a gene module (Disease-associates-Gene), similar diseases
resemble each other (DrD), genes of a module interact (GiG), compounds bind a module's genes (CbG) and treat
its diseases (CtD). A model that reads paths (DrDaG, DaGiG, CbGaD, ...) can recover held-out links; a
degree prior cannot, which makes the graph a known-answer check for link predictors.
"""

from __future__ import annotations

import numpy as np

from .kg import KnowledgeGraph


def planted_graph(n_dis: int = 24, n_genes: int = 120, n_comp: int = 40, seed: int = 0) -> KnowledgeGraph:
    """The planted graph: ``n_dis`` diseases in 4 clusters, ``n_genes`` genes, ``n_comp`` compounds; seeded."""
    rng = np.random.default_rng(seed)
    kg = KnowledgeGraph()
    for i in range(n_dis):
        kg.add_node("Disease", f"DOID:{i}", f"disease {i}")
    for i in range(n_genes):
        kg.add_node("Gene", str(i), f"G{i}")
    for i in range(n_comp):
        kg.add_node("Compound", f"DB{i:05d}", f"drug {i}")
    k = 4
    dclu, gclu, cclu = np.arange(n_dis) % k, np.arange(n_genes) % k, np.arange(n_comp) % k
    dag, drd, gig, cbg, ctd = [], [], [], [], []
    for d in range(n_dis):
        genes = np.flatnonzero(gclu == dclu[d])
        for g in rng.choice(genes, size=12, replace=False):
            dag.append((d, g))
        for d2 in range(d + 1, n_dis):
            if dclu[d2] == dclu[d] and rng.random() < 0.5:
                drd.append((d, d2))
        for c in np.flatnonzero(cclu == dclu[d]):
            if rng.random() < 0.35:
                ctd.append((c, d))
    for g in range(n_genes):
        for g2 in rng.choice(np.flatnonzero(gclu == gclu[g]), size=3, replace=False):
            if g2 != g:
                gig.append((g, g2))
    for c in range(n_comp):
        for g in rng.choice(np.flatnonzero(gclu == cclu[c]), size=4, replace=False):
            cbg.append((c, g))
    for et, pairs in ((("Disease", "associates", "Gene"), dag), (("Disease", "resembles", "Disease"), drd),
                      (("Gene", "interacts", "Gene"), gig), (("Compound", "binds", "Gene"), cbg),
                      (("Compound", "treats", "Disease"), ctd)):
        e = np.unique(np.array(pairs, dtype=np.int64), axis=0).T
        kg.edges[et] = e
    return kg
