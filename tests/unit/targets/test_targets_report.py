"""Report sections for targets result folders: metric table with the baseline, ranked answers, path subgraph."""

from __future__ import annotations

import re

from discovery.reports import build_report
from discovery.targets.run import evaluate_models, rank_to_folder


def test_report_sections_from_result_folders(tmp_path, make_planted):
    kg = make_planted()
    evaluate_models(kg, relations=["DaG"], split="random", models=["degree", "pathcount"], seeds=[0, 1, 2],
                    out=tmp_path / "evaluate")
    rank_to_folder(kg, "disease 0", question="rank", top=5, curated=False, out=tmp_path / "rank")
    rep = build_report([tmp_path])
    html = rep.html if hasattr(rep, "html") else str(rep)
    assert "Target discovery: link-prediction evaluation" in html
    assert "degree prior (baseline)" in html and "path counts + LR" in html
    assert re.search(r"\d\.\d{3} ± \d\.\d{3}", html)            # mean ± sd over 3 seeds
    assert "ranked genes (targets)" in html and "disease 0" in html
    assert "<svg" in html and "Evidence paths from disease 0" in html
    assert "Himmelstein" in html                                  # Hetionet cited in the references


def test_dta_section(tmp_path):
    import json

    from discovery.provenance import build_manifest, write_manifest

    d = tmp_path / "dta"
    d.mkdir()
    m = {"summary": {"ours (D-MPNN + composition)": {"roc_auc": {"mean": 0.84, "sd": 0.02, "n": 3},
                                                     "pr_auc": {"mean": 0.6, "sd": 0.05, "n": 3}},
                     "gradient boosting (Morgan + composition)": {"roc_auc": {"mean": 0.9, "sd": 0.01, "n": 3},
                                                                  "pr_auc": {"mean": 0.7, "sd": 0.03, "n": 3}}},
         "n_rows": 5092, "n_proteins": 379, "n_invalid": 0}
    (d / "metrics.json").write_text(json.dumps(m))
    write_manifest(d, build_manifest(kind="targets.dta", config={"data": "davis"}, seed=0))
    html = build_report([tmp_path]).html
    assert "Drug-target interaction (DAVIS)" in html and "0.840 ± 0.020" in html and "0.900 ± 0.010" in html
    assert "Davis, M. I." in html
