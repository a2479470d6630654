"""The report section of screening result folders (search, batch, active-learning curve)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from discovery.cli import main as cli_main
from discovery.provenance import build_manifest, write_manifest
from discovery.reports.build import build_report


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    d = tmp_path_factory.mktemp("screen-report")
    assert cli_main.main(["screen", "search", "--library", "ESOL", "--query", "c1ccccc1O", "--query",
                          "CC(=O)Oc1ccccc1C(=O)O", "--k", "3", "--out", str(d / "search")]) == 0
    # a hand-made batch and active-learning curve with known values
    sel = d / "select"
    sel.mkdir()
    pd.DataFrame({"rank": [1, 2], "position": [5, 9], "id": ["L5", "L9"], "smiles": ["CCO", "c1ccncc1"],
                  "acquisition": "ei", "score": [0.4, 0.2], "mean": [3.1, 2.9], "sd": [0.5, 0.7],
                  "nearest_measured_sim": [0.41, 0.22], "max_sim_in_batch": [None, 0.1],
                  "reason": ["expected improvement 0.4; predicted 3.1 ± 0.5", "expected improvement 0.2"]}
                 ).to_csv(sel / "batch.csv", index=False)
    (sel / "summary.json").write_text(json.dumps({"n_train": 50, "n_library": 100, "acquisition": "ei",
                                                  "target": "lipo", "best_measured": 4.0}))
    (sel / "gp.json").write_text(json.dumps({"kernel": "minmax", "noise_variance": 0.25, "signal_variance": 1.0}))
    write_manifest(sel, build_manifest(kind="screening.select", config={"acquisition": "ei", "max_sim": 0.9}))
    al = d / "al"
    al.mkdir()
    rows = [{"strategy": s, "seed": 0, "round": r, "n_measured": 50 + 20 * r, "best_found": b + 0.1 * r,
             "best_possible": 4.5, "rmse_unmeasured": 1.0 - 0.02 * r}
            for s, b in (("ei", 3.9), ("random", 3.5)) for r in range(3)]
    pd.DataFrame(rows).to_csv(al / "curves.csv", index=False)
    write_manifest(al, build_manifest(kind="screening.active_learning",
                                      config={"data": "Lipophilicity", "n_init": 50, "batch": 20, "rounds": 2}))
    return d


def test_report_has_neighbours_batch_and_curve(folders):
    rep = build_report([folders / "search", folders / "select", folders / "al"])
    titles = [s.title for s in rep.sections]
    assert titles == ["Active-learning simulation", "Similarity search", "Next batch to measure (active learning)"]
    search = rep.sections[1].html
    assert search.count('class="mol-row"') == 2  # one row of drawings per query
    assert "c1ccccc1O" in search and "1.00" in search  # phenol is in ESOL: itself at Tanimoto 1
    batch = rep.sections[2].html
    assert "expected improvement 0.4" in batch and "L9" in batch and "<svg" in batch
    curve = rep.sections[0].html
    assert "<svg" in curve and "random" in curve and "4.1" in curve  # ei's last best 3.9 + 0.2
    assert "[@" not in rep.html  # every citation resolved
    assert "Swamidass" in rep.html and "Butina" not in rep.sections[1].methods
