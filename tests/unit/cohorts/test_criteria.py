"""Criteria model: YAML/JSON round trip and clear errors naming the criterion."""

from __future__ import annotations

import json

import pytest

from discovery.cohorts import criteria_from_dict, load_criteria
from discovery.errors import InputError

YAML = """
name: T2D trial
concept_sets:
  - {name: t2d, concepts: [201826], include_descendants: true, exclude_concepts: [201254]}
  - {name: a1c, concepts: [3004410]}
index: {type: fixed, date: 2020-01-01}
inclusion:
  - {name: adult, type: age, gte: 18, lt: 75}
  - {type: condition, concept_set: t2d, window: {start: null, end: 0}}
  - name: HbA1c 7-10.5%
    type: measurement
    concept_set: a1c
    window: {start: -180, end: 0}
    value: {gte: 7, lte: 10.5}
    units: [8554]
    use: last
  - {name: one of, type: at_least, k: 1, criteria: [{name: f, type: sex, sex: [female]}, {name: m, type: sex, sex: [8507]}]}
exclusion:
  - {name: insulin, type: drug, concepts: [21600713], window: {start: -90, end: 0}, count: {at_least: 2}}
"""


def test_yaml_round_trip(tmp_path):
    p = tmp_path / "t.yaml"
    p.write_text(YAML)
    c = load_criteria(p)
    assert [r.name for r in c.rules] == ["adult", "inclusion 2", "HbA1c 7-10.5%", "one of", "insulin"]
    assert c.concept_set("t2d").items[1].exclude
    assert c.inclusion[3].criteria[1].concept_ids == [8507]
    again = criteria_from_dict(__import__("yaml").safe_load(c.to_yaml()))
    assert again == c
    j = tmp_path / "t.json"
    j.write_text(c.to_json())
    assert load_criteria(j) == c


def _err(data) -> str:
    with pytest.raises(InputError) as ei:
        criteria_from_dict(data)
    return str(ei.value)


def test_contradictory_age_names_both_rules():
    msg = _err({"inclusion": [{"name": "elderly", "type": "age", "gte": 65}, {"name": "children", "type": "age", "lt": 18}]})
    assert "contradictory" in msg and "'elderly'" in msg and "'children'" in msg


def test_contradictory_bounds_in_one_rule():
    msg = _err({"inclusion": [{"name": "a1c", "type": "measurement", "concepts": [1], "value": {"gte": 10, "lt": 7}}]})
    assert "inclusion 'a1c'" in msg and "admits no value" in msg


def test_contradictory_sex_and_exclusion_covering_inclusion():
    assert "admit no sex" in _err({"inclusion": [{"name": "f", "type": "sex", "sex": ["female"]},
                                                 {"name": "m", "type": "sex", "sex": ["male"]}]})
    assert "excludes every age" in _err({"inclusion": [{"name": "adult", "type": "age", "gte": 18, "lt": 65}],
                                         "exclusion": [{"name": "over 16", "type": "age", "gt": 16}]})


def test_impossible_dates_and_windows():
    assert "index > date" in _err({"index": {"type": "fixed", "date": "2023-02-30"}})
    assert "outside 1900-2300" in _err({"index": {"type": "fixed", "date": "1850-01-01"}})
    msg = _err({"inclusion": [{"name": "recent mi", "type": "condition", "concepts": [1], "window": {"start": 10, "end": -10}}]})
    assert "inclusion 'recent mi'" in msg and "impossible window" in msg


def test_other_errors_name_the_rule():
    assert "undefined concept set 'nope'" in _err({"inclusion": [{"name": "x", "type": "drug", "concept_set": "nope"}]})
    assert "'dup'" in _err({"inclusion": [{"name": "dup", "type": "age", "gte": 1}], "exclusion": [{"name": "dup", "type": "age", "gte": 90}]})
    assert "at_least k=3" in _err({"inclusion": [{"name": "g", "type": "at_least", "k": 3, "criteria": [{"type": "age", "gte": 1}]}]})
    assert "value bounds apply to measurement" in _err({"inclusion": [{"name": "c", "type": "condition", "concepts": [1], "value": {"gt": 1}}]})
    assert "age bound 200" in _err({"inclusion": [{"name": "a", "type": "age", "lt": 200}]})


def test_file_errors(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_criteria(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("inclusion: [unclosed")
    with pytest.raises(InputError, match="cannot parse"):
        load_criteria(bad)
    bad.write_text(json.dumps({"inclusion": [{"name": "x", "type": "wrong"}]}))
    with pytest.raises(InputError, match="bad.yaml"):
        load_criteria(bad)


CIRCE = {
    "ConceptSets": [
        {"id": 0, "name": "Diabetes", "expression": {"items": [
            {"concept": {"CONCEPT_ID": 201820}, "includeDescendants": True},
            {"concept": {"CONCEPT_ID": 201254}, "includeDescendants": True, "isExcluded": True}]}},
        {"id": 1, "name": "HbA1c", "expression": {"items": [{"concept": {"CONCEPT_ID": 3004410}}]}},
        {"id": 2, "name": "Metformin", "expression": {"items": [{"concept": {"CONCEPT_ID": 1503297}, "includeDescendants": True}]}},
    ],
    "PrimaryCriteria": {"CriteriaList": [{"ConditionOccurrence": {"CodesetId": 0}}], "PrimaryCriteriaLimit": {"Type": "First"}},
    "InclusionRules": [
        {"name": "HbA1c >= 7 in prior 180d", "expression": {"Type": "ALL", "CriteriaList": [
            {"Criteria": {"Measurement": {"CodesetId": 1, "ValueAsNumber": {"Op": "gte", "Value": 7}, "Unit": [{"CONCEPT_ID": 8554}]}},
             "StartWindow": {"Start": {"Days": 180, "Coeff": -1}, "End": {"Days": 0, "Coeff": 1}},
             "Occurrence": {"Type": 2, "Count": 1}}],
            "DemographicCriteriaList": [{"Age": {"Op": "bt", "Value": 18, "Extent": 64}, "Gender": [{"CONCEPT_ID": 8532}]}]}},
        {"name": "metformin within 30d after", "expression": {"Type": "ANY", "CriteriaList": [
            {"Criteria": {"DrugExposure": {"CodesetId": 2}},
             "StartWindow": {"Start": {"Days": 0, "Coeff": 1}, "End": {"Days": 30, "Coeff": 1}},
             "Occurrence": {"Type": 2, "Count": 1}}]}},
    ],
}


def test_circe_import(tmp_path, tiny_cdm):
    from discovery.cohorts import screen

    p = tmp_path / "cohort.json"
    p.write_text(json.dumps(CIRCE))
    c = load_criteria(p)
    assert c.index.type == "first_event" and c.index.concept_set == "Diabetes"
    assert c.concept_set("Diabetes").items[1].exclude
    r1 = c.inclusion[0]
    assert r1.type == "all" and [k.type for k in r1.criteria] == ["measurement", "age", "sex"]
    m = r1.criteria[0]
    assert m.window.start == -180 and m.window.end == 0 and m.value.gte == 7 and m.units == [8554]
    assert r1.criteria[1].gte == 18 and r1.criteria[1].lte == 64 and r1.criteria[2].sex == [8532]
    # on the hand-made CDM: index = first diabetes (T1D excluded); person 4 (male) fails, person 1 (69 y) fails age
    res = screen(tiny_cdm, c)
    assert res.n_initial == 2  # persons 1 and 4 (person 2 has only T1D; person 3's T2D is after observation)
    assert res.eligible_ids() == []
    bad = dict(CIRCE, InclusionRules=[{"name": "weird", "expression": {"Type": "AT_MOST", "Count": 1, "CriteriaList": [
        {"Criteria": {"DrugExposure": {"CodesetId": 2}}}]}}])
    p.write_text(json.dumps(bad))
    with pytest.raises(InputError, match="weird.*AT_MOST|AT_MOST.*weird"):
        load_criteria(p)
