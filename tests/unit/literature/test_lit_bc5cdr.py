"""BC5CDR evaluation of the offline model on a test subset (the full set is in benchmarks/literature.py).

The model is built from the mirror's vocabularies and the BC5CDR train/dev sets only (cached per
test session); these thresholds are below the full-test figures in benchmarks/results/literature.md
so that they catch regressions, not noise.
"""

from __future__ import annotations

import pytest

from discovery.literature.evaluate import evaluate_bc5cdr

pytestmark = pytest.mark.slow


def test_bc5cdr_test_subset(lit_model, bc5cdr_test):
    r = evaluate_bc5cdr(lit_model, "test", docs=bc5cdr_test[:150])
    ner = r["ner"]["mention"]
    assert ner["Chemical"]["f1"] >= 0.85, ner["Chemical"]
    assert ner["Disease"]["f1"] >= 0.78, ner["Disease"]
    assert r["ner"]["doc_id"]["all"]["f1"] >= 0.80
    assert r["cid"]["f1"] >= 0.38, r["cid"]
    assert r["n_docs"] == 150 and r["throughput"]["ner_abstracts_per_cpu_s"] > 100


def test_model_never_saw_test_documents(lit_model, bc5cdr_test):
    assert lit_model.info["n_train"] == 500 and lit_model.info["n_dev"] == 500
    from discovery.literature.model import _bc5cdr

    seen = {d.pmid for d in _bc5cdr("train")} | {d.pmid for d in _bc5cdr("dev")}
    assert not seen & {d.pmid for d in bc5cdr_test}


def test_model_save_load_gives_same_predictions(lit_model, bc5cdr_test, tmp_path):
    from discovery.literature.model import LiteratureModel

    lit_model.save(tmp_path / "m")
    back = LiteratureModel.load(tmp_path / "m")
    for d in bc5cdr_test[:20]:
        a = [(m.start, m.end, m.type, m.id) for m in lit_model.mentions(d)]
        assert a == [(m.start, m.end, m.type, m.id) for m in back.mentions(d)]
        assert lit_model.cid.pairs(d, lit_model.mentions(d)) == back.cid.pairs(d, back.mentions(d))
