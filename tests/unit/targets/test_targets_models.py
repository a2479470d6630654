"""Models on a planted graph (known structure), ranking with evidence, the harmonic-sum combination."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from discovery.errors import ConfigError
from discovery.targets.evaluate import evaluate_task, task_for
from discovery.targets.evidence import PathFinder, harmonic_sum
from discovery.targets.models import MODELS, get_model
from discovery.targets.pathcount import enumerate_metapaths, metapath_label
from discovery.targets.rank import rank_candidates
from discovery.targets.splits import make_link_split
from discovery.targets.synthetic import planted_graph

DAG = ("Disease", "associates", "Gene")


@pytest.fixture(scope="module")
def planted_split():
    kg = planted_graph()
    return kg, make_link_split(kg, ["DaG", "CtD"], kind="random", seed=0)


def test_metapath_enumeration():
    ets = [DAG, ("Disease", "resembles", "Disease"), ("Gene", "interacts", "Gene")]
    paths = enumerate_metapaths(ets, "Disease", "Gene", 2, exclude=DAG)
    labels = sorted(metapath_label(p) for p in paths)
    # length 1 DaG excluded; DrD symmetric (walked once), GiG symmetric
    assert labels == ["DaGiG", "DrDaG"]
    assert len(enumerate_metapaths(ets, "Disease", "Gene", 3, exclude=DAG)) > 2


def test_pathcount_beats_degree_on_planted_structure(planted_split):
    kg, sp = planted_split
    tasks = [task_for(et) for et in sp.target_types]
    deg = get_model("degree").fit(sp, tasks, seed=0)
    pc = get_model("pathcount").fit(sp, tasks, seed=0)
    for task in tasks:
        d, p = evaluate_task(deg, sp, task), evaluate_task(pc, sp, task)
        assert p["auroc"] > 0.85 and p["auroc"] > d["auroc"] + 0.1, (task.label, p, d)
        assert p["mrr"] > d["mrr"]
    # same seed -> same numbers
    pc2 = get_model("pathcount").fit(sp, tasks, seed=0)
    assert np.allclose(pc.scores(tasks[0], np.arange(3)), pc2.scores(tasks[0], np.arange(3)))


def test_distmult_learns(planted_split):
    kg, sp = planted_split
    tasks = [task_for(et) for et in sp.target_types]
    m = get_model("distmult", dim=32, epochs=60, batch_size=512, lr=0.02, patience=10).fit(sp, tasks, seed=0)
    r = evaluate_task(m, sp, tasks[0])
    assert r["auroc"] > 0.75, r


@pytest.mark.slow
@pytest.mark.parametrize("name,batching", [("rgcn", "full"), ("hgt", "full"), ("rgcn", "neighbor"),
                                           ("hgt", "neighbor")])
def test_gnn_trains_with_lightning(planted_split, name, batching):
    """Full batch, and mini-batches from LinkNeighborLoader (sampled subgraphs, sampled inference)."""
    kg, sp = planted_split
    tasks = [task_for(et) for et in sp.target_types]
    m = get_model(name, hidden=16, layers=1, epochs=40, eval_every=10, patience=3, edge_keep=1.0,
                  lr=0.02, accelerator="cpu", batching=batching, num_neighbors=[10], batch_size=128).fit(
                      sp, tasks, seed=0)
    # BCE at chance is ln 2 = 0.69 unweighted; positives carry the weight of their negatives
    assert len(m.history) >= 2 and m.history[-1]["loss"] < 0.6
    fit = evaluate_task(m, sp, tasks[0], part="train")
    assert fit["auroc"] > 0.8, fit            # it fits its training edges
    if name == "rgcn":                          # and R-GCN generalises on the planted structure
        assert evaluate_task(m, sp, tasks[0])["auroc"] > 0.75
    if batching == "neighbor":                  # sampled inference is seeded: same embeddings twice
        z = {t: v.clone() for t, v in m.z.items()}
        m._embed(m.net, torch.device("cpu"))
        assert all(np.array_equal(z[t].numpy(), m.z[t].numpy()) for t in z)


def test_unknown_model():
    with pytest.raises(ConfigError, match="choose from"):
        get_model("nope")
    assert {"degree", "pathcount", "distmult", "rgcn", "hgt"} <= set(MODELS)


def test_harmonic_sum_known_values():
    assert harmonic_sum({"a": 1.0, "b": 1.0, "c": 1.0}) == pytest.approx(1.0)
    # sorted: 1.0, 0.5 -> (1 + 0.5/4) / (1 + 1/4) = 0.9
    assert harmonic_sum({"a": 0.5, "b": 1.0}) == pytest.approx(0.9)
    # normalised by the number of possible sources
    assert harmonic_sum({"a": 1.0}, n_sources=2) == pytest.approx(1 / 1.25)
    # a weight halves a source's contribution
    assert harmonic_sum({"a": 1.0, "b": 1.0}, {"b": 0.5}) == pytest.approx((1 + 0.5 / 4) / 1.25)


def test_rank_evidence_paths_exist_in_graph(planted_split):
    kg, _ = planted_split
    res = rank_candidates(kg, "disease 0", relation="DaG", top=10, n_paths=3)
    assert res.query["id"] == "DOID:0" and len(res.rows) == 10
    assert [r["rank"] for r in res.rows] == list(range(1, 11))
    n_paths = 0
    for row in res.rows:
        assert row["known"] == kg.has_edge(DAG, 0, kg.index("Gene")[row["id"]])
        assert 0 <= row["combined_evidence"] <= 1
        for p in row["paths"]:
            nodes = p["nodes"]
            assert nodes[0]["id"] == "DOID:0" and nodes[-1]["id"] == row["id"]
            for (a, b), et in zip(zip(nodes, nodes[1:]), p["edges"]):
                src, rel, dst = et.split("-")
                ia, ib = kg.index(a["type"])[a["id"]], kg.index(b["type"])[b["id"]]
                fwd = (src, dst) == (a["type"], b["type"]) and kg.has_edge((src, rel, dst), ia, ib)
                bwd = (src, dst) == (b["type"], a["type"]) and kg.has_edge((src, rel, dst), ib, ia)
                assert fwd or bwd, (p, a, b)
            n_paths += 1
    assert n_paths > 0
    novel = rank_candidates(kg, "DOID:0", relation="DaG", top=10, hide_known=True)
    assert not any(r["known"] for r in novel.rows)


def test_pathfinder_counts_simple_paths(planted_split):
    kg, _ = planted_split
    pf = PathFinder(kg)
    steps = ((("Disease", "resembles", "Disease"), True), (DAG, True))
    d = 0
    genes = kg.adjacency_sets(DAG)
    sims = {int(b) for a, b in kg.edges[("Disease", "resembles", "Disease")].T if a == d} | \
           {int(a) for a, b in kg.edges[("Disease", "resembles", "Disease")].T if b == d}
    target = next(iter(genes[next(iter(sims))]))
    expected = sum(1 for s in sims if target in genes.get(s, set()))
    assert len(pf.paths(steps, d, target, limit=1000)) == expected


def test_gnn_accepts_protein_node_features(planted_split):
    """ProtParam descriptors as Gene input features: shapes checked, training runs, scores differ."""
    from discovery.targets.proteins import protein_feature_matrix

    kg, sp = planted_split
    rng = np.random.default_rng(0)
    seqs = ["".join(rng.choice(list("ACDEFGHIKLMNPQRSTVWY"), size=60)) for _ in range(kg.num_nodes("Gene"))]
    feats = protein_feature_matrix(seqs, dipeptides=False)
    assert feats.shape == (kg.num_nodes("Gene"), 27)
    tasks = [task_for(et) for et in sp.target_types]
    m = get_model("rgcn", hidden=8, layers=1, epochs=4, eval_every=2, accelerator="cpu",
                  node_features={"Gene": feats}).fit(sp, tasks, seed=0)
    assert np.isfinite(m.scores(tasks[0], np.arange(3))).all()
    with pytest.raises(ValueError, match="rows"):
        get_model("rgcn", epochs=1, accelerator="cpu", node_features={"Gene": feats[:5]}).fit(sp, tasks, seed=0)


def test_fold_graph_hides_every_target_relation_of_held_out_queries():
    """Disease split: a fold's diseases lose their CtD edges too, as held-out test diseases do."""
    from discovery.targets.pathcount import fold_graph

    kg = planted_graph()
    ctd = ("Compound", "treats", "Disease")
    for kind in ("disease", "random"):
        sp = make_link_split(kg, ["DaG", "CtD"], kind=kind, seed=0)
        task = task_for(DAG)
        q, _ = task.pairs(sp.positives[DAG]["train"])
        fold_q = np.unique(q)[:3]
        keep = ~np.isin(q, fold_q)
        gk = fold_graph(sp, task, keep)
        assert not np.isin(gk.edges[DAG][0], fold_q).any()
        assert gk.edges[DAG].shape[1] == int(keep.sum())
        ctd_touching = np.isin(sp.train_graph.edges[ctd][1], fold_q).sum()
        assert ctd_touching > 0  # the planted graph's diseases have indications
        left = np.isin(gk.edges[ctd][1], fold_q).sum()
        assert left == (0 if kind == "disease" else ctd_touching)
