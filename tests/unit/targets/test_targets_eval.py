"""Splits (no leakage through reverse edges) and the filtered ranking protocol on known answers."""

from __future__ import annotations

import numpy as np
import pytest

from discovery.targets.evaluate import Task, evaluate_task, mean_sd, realistic_rank, task_for
from discovery.targets.kg import REVERSE_PREFIX
from discovery.targets.splits import make_link_split

DAG = ("Disease", "associates", "Gene")
CTD = ("Compound", "treats", "Disease")
DRD = ("Disease", "resembles", "Disease")


def _pairs_in_heterodata(data, et):
    fwd = data[et].edge_index.numpy()
    rev = data[(et[2], REVERSE_PREFIX + et[1], et[0])].edge_index.numpy()
    return set(map(tuple, fwd.T.tolist())) | set(map(tuple, rev[::-1].T.tolist()))


@pytest.mark.parametrize("kind", ["random", "disease"])
def test_no_leakage_through_reverse_edges(planted, kind):
    sp = make_link_split(planted, ["DaG", "CtD", "DrD"], kind=kind, seed=3)
    data = sp.train_graph.to_heterodata(add_reverse=True)
    for et in (DAG, CTD, DRD):
        seen = _pairs_in_heterodata(data, et)
        held = sp.positives[et]["val"].T.tolist() + sp.positives[et]["test"].T.tolist()
        assert held, et
        for a, b in held:
            assert (a, b) not in seen, (et, a, b)
            if et[0] == et[2]:   # undirected: the mirrored pair must be gone too
                assert (b, a) not in seen
        # every edge of the graph is in exactly one part
        n = sum(v.shape[1] for v in sp.positives[et].values())
        assert n == planted.num_edges(et)


def test_disease_split_removes_every_edge_of_held_out_diseases(planted):
    sp = make_link_split(planted, ["DaG", "CtD"], kind="disease", seed=1)
    test_d = set(sp.held_out["test"].tolist())
    assert test_d and not test_d & set(sp.held_out["val"].tolist())
    g = sp.train_graph
    assert not test_d & set(g.edges[DAG][0].tolist())
    assert not test_d & set(g.edges[CTD][1].tolist())
    assert set(sp.positives[DAG]["test"][0].tolist()) <= test_d
    # other relations of the held-out diseases are kept (zero-shot: only the indications are hidden)
    assert test_d & set(g.edges[DRD].ravel().tolist())


def test_split_is_seeded(planted):
    a = make_link_split(planted, ["DaG"], seed=5).positives[DAG]["test"]
    b = make_link_split(planted, ["DaG"], seed=5).positives[DAG]["test"]
    c = make_link_split(planted, ["DaG"], seed=6).positives[DAG]["test"]
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_realistic_rank_known_answers():
    s = np.array([0.9, 0.8, 0.7, 0.7, 0.1])
    assert realistic_rank(s, 0) == 1.0
    assert realistic_rank(s, 2) == 3.5            # tie with index 3 counts half
    assert realistic_rank(s, 2, exclude=np.array([0, 2])) == 2.5  # filtered: 0 removed, 2 itself kept
    assert realistic_rank(np.zeros(5), 3) == 3.0  # constant scorer -> middle rank


class _FixedScorer:
    def __init__(self, S):
        self.S = S

    def scores(self, task, queries):
        return self.S[np.asarray(queries)]


def test_filtered_mrr_and_auc_hand_made(planted):
    """3 diseases x 5 genes; known answer computed by hand."""
    from discovery.targets.kg import KnowledgeGraph
    from discovery.targets.splits import LinkSplit

    kg = KnowledgeGraph()
    for i in range(3):
        kg.add_node("Disease", f"D{i}")
    for i in range(5):
        kg.add_node("Gene", f"G{i}")
    e = lambda pairs: np.array(pairs, dtype=np.int64).T.reshape(2, -1)  # noqa: E731
    pos = {DAG: {"train": e([(0, 0), (1, 1)]), "val": e([]), "test": e([(0, 1), (1, 4), (2, 2)])}}
    kg.edges[DAG] = e([(0, 0), (1, 1)])
    sp = LinkSplit("random", 0, kg, pos)
    S = np.array([
        [5.0, 4.0, 3.0, 2.0, 1.0],   # D0: test answer G1 (score 4); G0 (5) is a train positive -> filtered -> rank 1
        [1.0, 9.0, 8.0, 7.0, 6.0],   # D1: answer G4 (6); G1 filtered; G2, G3 above -> rank 3
        [1.0, 2.0, 2.0, 0.0, 0.0],   # D2: answer G2 (2) tied with G1 -> rank 1.5
    ])
    r = evaluate_task(_FixedScorer(S), sp, Task(DAG, "head"), return_ranks=True)
    assert r["ranks"] == [1.0, 3.0, 1.5]
    assert r["mrr"] == pytest.approx((1 + 1 / 3 + 1 / 1.5) / 3)
    assert r["hits@1"] == pytest.approx(1 / 3) and r["hits@3"] == 1.0
    # AUROC over test positives vs all non-linked candidates of their disease (train positives excluded):
    # D0: pos 4 vs {3,2,1}; D1: pos 6 vs {1,8,7}; D2: pos 2 vs {1,2,0,0}
    from sklearn.metrics import roc_auc_score

    y = [1, 0, 0, 0] + [0, 0, 0, 1] + [0, 0, 1, 0, 0]
    p = [4, 3, 2, 1] + [1, 8, 7, 6] + [1, 2, 2, 0, 0]
    assert r["auroc"] == pytest.approx(roc_auc_score(y, p))
    assert r["n_negatives"] == 10 and r["n_positives"] == 3


def test_task_for_query_side():
    assert task_for(CTD).query_side == "tail" and task_for(CTD).answer_type == "Compound"
    assert task_for(DAG).query_side == "head" and task_for(DAG).answer_type == "Gene"


def test_mean_sd():
    out = mean_sd([{"mrr": 0.1}, {"mrr": 0.3}, {"mrr": 0.2}])
    assert out["mrr"]["mean"] == pytest.approx(0.2) and out["mrr"]["sd"] == pytest.approx(0.1) and out["mrr"]["n"] == 3
