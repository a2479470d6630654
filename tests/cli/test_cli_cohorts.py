"""`discovery cohorts load|parse|screen|synth|evaluate-parser` through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from discovery.cli import main as cli_main

EXAMPLES = Path(__file__).resolve().parents[2] / "discovery" / "cohorts" / "examples"


@pytest.fixture
def run(monkeypatch, capsys):
    monkeypatch.setattr(cli_main, "COMMANDS", {"cohorts": cli_main.COMMANDS["cohorts"],
                                               "report": cli_main.COMMANDS["report"]})

    def _run(*argv: str) -> tuple[int, str, str]:
        try:
            code = cli_main.main([*argv])
        except SystemExit as exc:
            code = exc.code
        out, err = capsys.readouterr()
        return code, out, err

    return _run


def test_load(run):
    code, out, err = run("cohorts", "load", "synthea27nj")
    assert code == 0 and "OMOP CDM 5.4" in out and "measurement" in out and "concept_relationship" in out.split("descendants via:")[1]


def test_load_bad_input_exit_2(run, tmp_path):
    (tmp_path / "person.csv").write_text("person_id,gender_concept_id\n1,8507\n")
    code, out, err = run("cohorts", "load", str(tmp_path))
    assert code == 2 and "lacks required column" in err and "year_of_birth" in err


def test_parse_nct(run, tmp_path):
    code, out, err = run("cohorts", "parse", "--nct-file", "trials/clinical_trials.csv", "--nct", "NCT04346355",
                         "--out", str(tmp_path / "p"))
    assert code == 0 and "age > 18 years" in out and "needs_review" in out
    assert "need manual review" in err
    pj = json.loads((tmp_path / "p" / "parsed_criteria.json").read_text())
    assert pj["trial_id"] == "NCT04346355" and any(not i["parsed"] for i in pj["items"])
    assert json.loads((tmp_path / "p" / "manifest.json").read_text())["kind"] == "cohorts.parse"
    code, out, err = run("cohorts", "parse", "--nct-file", "trials/clinical_trials.csv", "--nct", "NCT0")
    assert code == 2 and "no such trial" in err


def test_screen_mimic_small_cells_and_report(run, tmp_path):
    out_dir = tmp_path / "s"
    code, out, err = run("cohorts", "screen", "--cdm", "mimic-iv-demo-omop", "--criteria",
                         str(EXAMPLES / "mimic_demo_trial.yaml"), "--out", str(out_dir))
    assert code == 0, err
    assert "11 eligible of 100" in out and "no measurement table" in err
    files = {p.name for p in out_dir.iterdir()}
    assert {"eligible.csv", "evidence.parquet", "funnel.csv", "rule_counts.csv", "near_misses.csv",
            "criteria.yaml", "summary.json", "manifest.json"} <= files
    man = json.loads((out_dir / "manifest.json").read_text())
    assert man["kind"] == "cohorts.screen" and man["cdm"]["cdm_version"] == "5.3"
    ev = pd.read_parquet(out_dir / "evidence.parquet")
    assert "person_source_value" not in ev.columns and ev["person_id"].nunique() == 100
    assert (ev[ev.criterion.str.startswith("creatinine")]["status"] == "unknown").all()
    rc = pd.read_csv(out_dir / "rule_counts.csv", dtype=str).set_index("rule")
    assert rc.loc["creatinine > 2 mg/dL (last 30 d)", "unknown"] == "100"
    funnel = pd.read_csv(out_dir / "funnel.csv", dtype=str)
    assert list(funnel["remaining"]) == ["100", "100", "27", "11", "11", "11"]
    # toggling a rule and switching the small-cell rule off
    code, out, err = run("cohorts", "screen", "--cdm", "mimic-iv-demo-omop", "--criteria",
                         str(EXAMPLES / "mimic_demo_trial.yaml"), "--out", str(tmp_path / "s0"),
                         "--disable", "hypertension in the last year", "--small-cell", "0")
    assert code == 0 and "21 eligible of 100" in out and "[off]" in out
    code, out, err = run("cohorts", "screen", "--cdm", "mimic-iv-demo-omop", "--criteria",
                         str(EXAMPLES / "mimic_demo_trial.yaml"), "--out", str(tmp_path / "x"), "--disable", "nope")
    assert code == 2 and "no such rule" in err
    rep = tmp_path / "r.html"
    code, out, err = run("report", str(out_dir), "-o", str(rep))
    assert code == 0, err
    html = rep.read_text()
    assert "Trial-cohort screening" in html and "Attrition funnel" in html and "Near misses" in html


def test_small_cell_suppression(run, tmp_path):
    crit = tmp_path / "t.yaml"
    crit.write_text("index: {type: observation_end}\ninclusion:\n  - {name: dx, type: condition, concepts: [313217]}\n"
                    "  - {name: old, type: age, gte: 88}\n")
    code, out, err = run("cohorts", "screen", "--cdm", "mimic-iv-demo-omop", "--criteria", str(crit), "--out",
                         str(tmp_path / "s"), "--allow-unknown-concepts")
    assert code == 0
    f = pd.read_csv(tmp_path / "s" / "funnel.csv", dtype=str)
    code, _, _ = run("cohorts", "screen", "--cdm", "mimic-iv-demo-omop", "--criteria", str(crit), "--out",
                     str(tmp_path / "s0"), "--small-cell", "0", "--allow-unknown-concepts")
    f0 = pd.read_csv(tmp_path / "s0" / "funnel.csv", dtype=str)
    for a, b in zip(f["remaining"], f0["remaining"]):
        assert a == (b if int(b) == 0 or int(b) >= 5 else "<5")
    assert "<5" in set(f["remaining"])


def test_screen_text_and_synth(run, tmp_path):
    syn = tmp_path / "syn"
    code, out, err = run("cohorts", "synth", "--persons", "3000", "--seed", "1", "--out", str(syn))
    assert code == 0 and "3,000 persons" in out
    code, out, err = run("cohorts", "screen", "--cdm", str(syn), "--text", str(EXAMPLES / "t2d_eligibility.txt"),
                         "--out", str(tmp_path / "s"), "--small-cell", "0")
    assert code == 0, err
    pj = json.loads((tmp_path / "s" / "parsed_criteria.json").read_text())
    assert pj["coverage"] > 0.6
    crit = (tmp_path / "s" / "criteria.yaml").read_text()
    assert "201826" in crit and "3004410" in crit  # T2D from the vocabulary, HbA1c from the lexicon
    code, out, err = run("cohorts", "screen", "--cdm", str(syn), "--criteria", str(EXAMPLES / "synthetic_t2d_trial.yaml"),
                         "--out", str(tmp_path / "s2"))
    assert code == 0, err
    assert len(pd.read_csv(tmp_path / "s2" / "funnel.csv")) == 13  # initial population + 12 rules


def test_evaluate_parser(run, tmp_path):
    code, out, err = run("cohorts", "evaluate-parser", "--out", str(tmp_path / "e"))
    assert code == 0 and "variable_precision" in out
    ev = json.loads((tmp_path / "e" / "evaluation.json").read_text())
    assert ev["numeric"]["n_gold"] == 64 and ev["coverage"]["n_texts"] == 1000
