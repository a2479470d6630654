"""Synthetic CDM (deterministic, vocabulary-backed units), result folders, small cells, report section."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from discovery.cohorts import criteria_from_dict, load_cdm, load_criteria, screen, synthesize_cdm, write_screen
from discovery.cohorts.output import suppress

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def syn(tmp_path_factory):
    d = tmp_path_factory.mktemp("syn") / "a"
    info = synthesize_cdm(d, persons=1500, seed=3)
    return d, info


def test_deterministic_per_seed(syn, tmp_path):
    d, info = syn
    again = synthesize_cdm(tmp_path / "b", persons=1500, seed=3)
    synthesize_cdm(tmp_path / "c", persons=1500, seed=4)
    assert again["tables"] == info["tables"]
    for t in ("person", "condition_occurrence", "measurement", "drug_exposure"):
        assert pq.read_table(d / f"{t}.parquet").equals(pq.read_table(tmp_path / "b" / f"{t}.parquet"))
    assert not pq.read_table(d / "measurement.parquet").equals(pq.read_table(tmp_path / "c" / "measurement.parquet"))


def test_structure_and_units(syn):
    d, info = syn
    assert info["events"] / 1500 > 50  # >= 50M events at 1M persons
    cdm = load_cdm(d)
    assert cdm.version == "5.4" and cdm.n_persons == 1500
    # every unit used is a Unit concept of the vocabulary (taken from Synthea27Nj)
    bad = cdm.sql("SELECT DISTINCT m.unit_concept_id FROM measurement m LEFT JOIN concept c ON c.concept_id = m.unit_concept_id "
                  "AND c.domain_id = 'Unit' WHERE c.concept_id IS NULL")
    assert bad.empty
    assert cdm.vocab.concept(8554)["concept_code"] == "%"
    # diabetics have higher HbA1c than others
    q = cdm.sql("""SELECT (p.person_id IN (SELECT person_id FROM condition_occurrence WHERE condition_concept_id = 201826)) AS dm,
                   avg(value_as_number) AS a1c FROM measurement m JOIN person p USING (person_id)
                   WHERE measurement_concept_id = 3004410 GROUP BY 1""").set_index("dm")["a1c"]
    assert q[True] > q[False] + 1.0
    assert cdm.vocab.descendants([201820]) >= {201826, 201254}
    sexes = cdm.sql("SELECT gender_concept_id, count(*) n FROM person GROUP BY 1").set_index("gender_concept_id")["n"]
    assert set(sexes.index) == {8507, 8532} and 0.4 < sexes[8507] / 1500 < 0.6


def test_example_trial_is_the_benchmark_trial():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import cohorts as bench  # benchmarks/cohorts.py

    crit = criteria_from_dict(bench.TRIAL)
    assert crit == load_criteria(ROOT / "discovery/cohorts/examples/synthetic_t2d_trial.yaml")
    assert len(crit.rules) == 12 and {r.type for r in crit.rules} == {"age", "condition", "drug", "measurement"}


def test_engine_matches_pandas_and_sql_peers(syn):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import cohorts as bench

    d, _ = syn
    ours, _ = bench.run_ours(d)
    sql, _ = bench.run_sql(d)
    pds, _ = bench.run_pandas(d)
    assert list(ours) == list(sql) == list(pds)


def test_suppress():
    assert [suppress(v) for v in (0, 1, 4, 5, 120)] == ["0", "<5", "<5", "5", "120"]
    assert suppress(3, 0) == "3" and suppress(9, 11) == "<11"


def test_write_screen_and_report(syn, tmp_path):
    d, _ = syn
    cdm = load_cdm(d)
    res = screen(cdm, load_criteria(ROOT / "discovery/cohorts/examples/synthetic_t2d_trial.yaml"))
    out = write_screen(res, tmp_path / "r", small_cell=5)
    man = json.loads((out / "manifest.json").read_text())
    assert man["kind"] == "cohorts.screen" and man["metrics"]["n_initial"] == 1500
    summ = json.loads((out / "summary.json").read_text())
    assert summ["n_eligible"] == res.n_eligible and summ["small_cell"] == 5
    from discovery.reports.build import build_report

    rep = build_report([out, d])  # the screen and the synthetic CDM it ran on (kind cohorts.synth)
    html = rep if isinstance(rep, str) else getattr(rep, "html", str(rep))
    assert "Trial-cohort screening" in html and "<svg" in html and "Attrition funnel" in html
    assert "Synthetic OMOP CDM" in html and "1500 persons" in html and "Walonoski" in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
