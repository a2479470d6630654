"""Engine on hand-made patients with known answers.

Index 2020-01-01 (fixed). Persons:

== ===== ========== ====== =========================================================
id sex   born       age    records
== ===== ========== ====== =========================================================
1  F     1950-06-15 69     T2D 2019-06-01, HTN 2015; metformin 2019-12-15; HbA1c 7.5 (2019-10-01), 6.8 (2019-12-01) %
2  M     2005-03-01 14     T1D 2019-12-01
3  F     1980-01-01 40     T2D 2021-01-01 (after index); HbA1c 53 mmol/L (wrong unit)
4  M     1980-01-02 39     T2D 2018-01-01, 2019-01-01, 2019-12-31; metformin 2015; HbA1c 8.0 % (2019-09-01)
5  ?     ?          ?      nothing
6  F     1960       60     observation ends 2019-01-01; HbA1c without value
== ===== ========== ====== =========================================================
"""

from __future__ import annotations

import pytest

from discovery.cohorts import criteria_from_dict, screen
from discovery.errors import InputError

IDX = {"type": "fixed", "date": "2020-01-01", "require_observation": False}
SETS = [
    {"name": "diabetes", "concepts": [201820]},
    {"name": "t2d_only", "items": [{"concept_id": 201820}, {"concept_id": 201254, "exclude": True}]},
    {"name": "a1c", "concepts": [3004410]},
    {"name": "metformin", "concepts": [1503297]},
    {"name": "htn", "concepts": [316866]},
]


def run(cdm, rule, index=IDX):
    crit = criteria_from_dict({"concept_sets": SETS, "index": index, "inclusion": [{"name": "r", **rule}]})
    res = screen(cdm, crit)
    ev = res.evidence(level="all")
    top = ev[ev["criterion"] == "r"].set_index("person_id")
    return dict(top["status"]), top, res


def test_age_with_birthday_rules(tiny_cdm):
    st, top, _ = run(tiny_cdm, {"type": "age", "gte": 18, "lt": 65})
    assert st == {1: "not_met", 2: "not_met", 3: "met", 4: "met", 5: "unknown", 6: "met"}
    assert top.loc[3, "value"] == 40 and top.loc[4, "value"] == 39 and top.loc[1, "value"] == 69


def test_sex(tiny_cdm):
    st, _, _ = run(tiny_cdm, {"type": "sex", "sex": ["female"]})
    assert st == {1: "met", 2: "not_met", 3: "met", 4: "not_met", 5: "unknown", 6: "met"}


def test_condition_window_with_descendants(tiny_cdm):
    st, top, _ = run(tiny_cdm, {"type": "condition", "concept_set": "diabetes", "window": {"start": -365, "end": 0}})
    assert st == {1: "met", 2: "met", 3: "not_met", 4: "met", 5: "not_met", 6: "not_met"}
    # deciding record: the latest in the window
    assert top.loc[4, "record_id"] == 43 and str(top.loc[4, "record_date"].date()) == "2019-12-31"
    assert top.loc[4, "n_records"] == 2  # 2019-01-01 (day -365, inclusive) and 2019-12-31


def test_excluded_concept(tiny_cdm):
    st, _, _ = run(tiny_cdm, {"type": "condition", "concept_set": "t2d_only", "window": {"start": -365, "end": 0}})
    assert st[2] == "not_met" and st[1] == "met"


def test_no_descendants(tiny_cdm):
    st, _, _ = run(tiny_cdm, {"type": "condition", "concepts": [201820], "include_descendants": False})
    assert set(st.values()) == {"not_met"}


@pytest.mark.parametrize("count,expected_met", [
    ({"at_least": 3}, {4}),
    ({"exactly": 1}, {1, 2}),
    ({"at_most": 0}, {3, 5, 6}),
])
def test_counts(tiny_cdm, count, expected_met):
    st, _, _ = run(tiny_cdm, {"type": "condition", "concept_set": "diabetes", "window": {"start": None, "end": 0}, "count": count})
    assert {p for p, s in st.items() if s == "met"} == expected_met


def test_measurement_any_with_units_and_unknowns(tiny_cdm):
    st, top, _ = run(tiny_cdm, {"type": "measurement", "concept_set": "a1c", "window": {"start": -180, "end": 0},
                                "value": {"gte": 7}, "units": [8554]})
    assert st == {1: "met", 2: "unknown", 3: "unknown", 4: "met", 5: "unknown", 6: "unknown"}
    assert top.loc[1, "value"] == 7.5 and top.loc[1, "record_id"] == 1001


def test_measurement_last_value(tiny_cdm):
    st, top, _ = run(tiny_cdm, {"type": "measurement", "concept_set": "a1c", "window": {"start": -180, "end": 0},
                                "value": {"gte": 7}, "units": [8554], "use": "last"})
    assert st[1] == "not_met" and st[4] == "met"
    assert top.loc[1, "value"] == 6.8  # the record that decided it


def test_measurement_strict_bound(tiny_cdm):
    st, _, _ = run(tiny_cdm, {"type": "measurement", "concept_set": "a1c", "window": {"start": -180, "end": 0},
                              "value": {"gt": 8.0}, "units": [8554]})
    assert st[4] == "not_met"  # 8.0 is not > 8.0
    st, _, _ = run(tiny_cdm, {"type": "measurement", "concept_set": "a1c", "window": {"start": -180, "end": 0},
                              "value": {"gte": 8.0}, "units": [8554]})
    assert st[4] == "met"


def test_drug_window(tiny_cdm):
    st, _, _ = run(tiny_cdm, {"type": "drug", "concept_set": "metformin", "window": {"start": -30, "end": 0}})
    assert st == {1: "met", 2: "not_met", 3: "not_met", 4: "not_met", 5: "not_met", 6: "not_met"}


def test_groups_three_valued(tiny_cdm):
    st, _, _ = run(tiny_cdm, {"type": "any", "criteria": [{"name": "f", "type": "sex", "sex": ["female"]},
                                                          {"name": "old", "type": "age", "gte": 65}]})
    assert st == {1: "met", 2: "not_met", 3: "met", 4: "not_met", 5: "unknown", 6: "met"}
    st, _, _ = run(tiny_cdm, {"type": "at_least", "k": 2, "criteria": [
        {"name": "f", "type": "sex", "sex": ["female"]},
        {"name": "dm", "type": "condition", "concept_set": "diabetes", "window": {"start": -365, "end": 0}},
        {"name": "met", "type": "drug", "concept_set": "metformin", "window": {"start": -30, "end": 0}}]})
    assert st == {1: "met", 2: "not_met", 3: "not_met", 4: "not_met", 5: "not_met", 6: "not_met"}
    st, _, _ = run(tiny_cdm, {"type": "all", "criteria": [
        {"name": "f", "type": "sex", "sex": ["female"]},
        {"name": "nest", "type": "any", "criteria": [{"name": "old", "type": "age", "gte": 65},
                                                      {"name": "young", "type": "age", "lt": 45}]}]})
    assert st == {1: "met", 2: "not_met", 3: "met", 4: "not_met", 5: "unknown", 6: "not_met"}


def _trial(cdm, index=None):
    crit = criteria_from_dict({
        "concept_sets": SETS, "index": index or {"type": "fixed", "date": "2020-01-01"},
        "inclusion": [{"name": "adult", "type": "age", "gte": 18, "lt": 65}, {"name": "female", "type": "sex", "sex": ["female"]}],
        "exclusion": [{"name": "hypertension", "type": "condition", "concept_set": "htn"}],
    })
    return screen(cdm, crit)


def test_funnel_eligible_near_misses(tiny_cdm):
    res = _trial(tiny_cdm)
    f = res.funnel()
    # person 6 is not observed on 2020-01-01
    assert list(f["remaining"]) == [5, 2, 1, 1]
    assert list(f["removed"]) == [0, 3, 1, 0]
    assert res.eligible_ids() == [3]
    nm = res.near_misses()
    assert list(nm["person_id"]) == [4, 5, 1, 2]
    assert list(nm["n_failed"]) == [1, 2, 2, 2]
    assert nm.iloc[0]["failed_rules"] == "female"
    assert nm.iloc[1]["n_failed_unknown"] == 2
    assert nm.iloc[2]["failed_rules"] == "adult; hypertension"
    rc = res.rule_counts().set_index("rule")
    assert rc.loc["hypertension", "met"] == 1 and rc.loc["hypertension", "passing"] == 4


def test_toggle_uses_evidence_only(tiny_cdm):
    res = _trial(tiny_cdm)
    # the CDM tables are gone: a toggle must not need them
    for t in ("condition_occurrence", "person", "observation_period"):
        tiny_cdm.con.execute(f"DROP TABLE {t}")
    off = res.with_rules(disable=["female"])
    assert off.eligible_ids() == [3, 4]
    assert list(off.funnel()["removed"]) == [0, 3, 0, 0]
    assert off.with_rules(enable=["adult", "female", "hypertension"]).eligible_ids() == [3]
    with pytest.raises(InputError, match="no such rule"):
        res.with_rules(disable=["nope"])


def test_if_unknown_pass(tiny_cdm):
    crit = criteria_from_dict({"concept_sets": SETS, "index": IDX, "inclusion": [
        {"name": "a1c", "type": "measurement", "concept_set": "a1c", "window": {"start": -180, "end": 0},
         "value": {"gte": 7}, "units": [8554], "if_unknown": "pass"}]})
    assert screen(tiny_cdm, crit).eligible_ids() == [1, 2, 3, 4, 5, 6]


def test_index_observation_end_and_first_event(tiny_cdm):
    res = _trial(tiny_cdm, index={"type": "observation_end"})
    assert res.n_initial == 6
    crit = criteria_from_dict({"concept_sets": SETS, "index": {"type": "first_event", "domain": "condition", "concept_set": "diabetes"},
                               "inclusion": [{"name": "metformin after", "type": "drug", "concept_set": "metformin",
                                              "window": {"start": 0, "end": 365}}]})
    res = screen(tiny_cdm, crit)
    idx = dict(res.con.execute(f"SELECT person_id, index_date::VARCHAR FROM {res._P}idx").fetchall())
    assert idx == {1: "2019-06-01", 2: "2019-12-01", 4: "2018-01-01"}  # person 3's first T2D is outside observation
    assert res.eligible_ids() == [1]


def test_missing_table_gives_unknown_and_warning(make_cdm_dir):
    from discovery.cohorts import load_cdm

    cdm = load_cdm(make_cdm_dir(drop=("measurement",)))
    st, _, res = run(cdm, {"type": "measurement", "concept_set": "a1c", "value": {"gte": 7}})
    assert set(st.values()) == {"unknown"}
    assert any("no measurement table" in w for w in res.warnings)


def test_unknown_concept_names_criterion(tiny_cdm):
    crit = criteria_from_dict({"index": IDX, "inclusion": [{"name": "bogus dx", "type": "condition", "concepts": [999999999]}]})
    with pytest.raises(InputError, match="bogus dx.*999999999"):
        screen(tiny_cdm, crit)
    res = screen(tiny_cdm, crit, strict_concepts=False)
    assert any("999999999" in w for w in res.warnings)


def test_evidence_has_person_id_only(tiny_cdm):
    res = _trial(tiny_cdm)
    ev = res.evidence()
    assert "person_source_value" not in ev.columns
    assert set(ev.columns) == {"person_id", "criterion", "section", "status", "passes", "n_records", "record_id",
                               "record_date", "value", "unit_concept_id", "concept_id"}
    assert len(ev) == 5 * 3


def test_impossible_dates_warn(make_cdm_dir):
    from cohorts_fixture import TABLES

    from discovery.cohorts import load_cdm

    tables = dict(TABLES)
    header, rows = TABLES["observation_period"]
    tables["observation_period"] = (header, [*rows[:-1], (6, 6, "2019-01-01", "2010-01-01", 44814724)])
    cdm = load_cdm(make_cdm_dir(tables=tables))
    assert any("end before they start" in w for w in cdm.warnings)
    crit = criteria_from_dict({"index": {"type": "fixed", "date": "2250-01-01"},
                               "inclusion": [{"name": "adult", "type": "age", "gte": 18}]})
    res = screen(cdm, crit)
    assert res.n_initial == 0 and any("fixed date 2250-01-01" in w and "span 2010-01-01" in w for w in res.warnings)


def test_unit_conversion(tiny_cdm):
    # glucose >= 120 mg/dL: person 1 has 7.0 mmol/L (= 126 mg/dL), person 4 110 mg/dL, person 3 a value in %
    rule = {"type": "measurement", "concepts": [3004501], "include_descendants": False,
            "window": {"start": -30, "end": 0}, "value": {"gte": 120}, "units": [8840]}
    st, top, _ = run(tiny_cdm, rule)
    assert st[1] == "met" and st[4] == "not_met" and st[3] == "unknown"
    assert top.loc[1, "value"] == 7.0 and top.loc[1, "unit_concept_id"] == 8753  # the record as stored
    st, _, _ = run(tiny_cdm, {**rule, "convert_units": False})
    assert st[1] == "unknown" and st[4] == "not_met"
    from discovery.cohorts.units import factor

    assert factor(8753, 8840, [3004501]) == pytest.approx(18.016)
    assert factor(8749, 8840, [3016723]) == pytest.approx(1 / 88.42)
    assert factor(8753, 8840, [3004410]) is None  # no molar factor for HbA1c
    assert factor(8636, 8713) == pytest.approx(0.1) and factor(9444, 8848) == 1.0


def test_procedure_observation_visit_death(tiny_cdm):
    st, _, _ = run(tiny_cdm, {"type": "procedure", "concepts": [4301351], "window": {"start": -60, "end": 0}})
    assert {p for p, s in st.items() if s == "met"} == {2}
    st, top, _ = run(tiny_cdm, {"type": "observation", "concepts": [4005823], "window": {"start": -730, "end": 0},
                                "value": {"gte": 10}})
    assert st == {1: "met", 2: "unknown", 3: "not_met", 4: "unknown", 5: "unknown", 6: "unknown"}
    assert top.loc[3, "value"] == 5.0 and top.loc[3, "record_id"] == 602
    st, top, _ = run(tiny_cdm, {"type": "visit", "concepts": [9201], "window": {"start": -30, "end": 0},
                                "count": {"at_least": 2}})
    assert {p for p, s in st.items() if s == "met"} == {4} and top.loc[1, "n_records"] == 0
    st, top, _ = run(tiny_cdm, {"type": "death", "window": {"start": None, "end": 0}})
    assert {p for p, s in st.items() if s == "met"} == {6} and top.loc[6, "concept_id"] == 316866
    st, _, _ = run(tiny_cdm, {"type": "death", "concepts": [201826], "window": {"start": None, "end": 0}})
    assert set(st.values()) == {"not_met"}  # death with a cause in a concept set: none


def test_criteria_with_disjoint_windows_share_one_scan(tiny_cdm):
    """Two criteria on one table, windows far apart: the scan's combined window keeps both."""
    crit = criteria_from_dict({"concept_sets": SETS, "index": IDX, "inclusion": [
        {"name": "recent", "type": "condition", "concept_set": "diabetes", "window": {"start": -10, "end": 0}},
        {"name": "old", "type": "condition", "concept_set": "diabetes", "window": {"start": -800, "end": -500}}]})
    ev = screen(tiny_cdm, crit).evidence(level="all").set_index(["criterion", "person_id"])
    # person 4: T2D on 2018-01-01 (-730 days), 2019-01-01 (-365), 2019-12-31 (-1)
    assert ev.loc[("recent", 4), "status"] == "met" and ev.loc[("old", 4), "status"] == "met"
    assert ev.loc[("old", 4), "n_records"] == 1 and str(ev.loc[("old", 4), "record_date"])[:10] == "2018-01-01"
    # person 1: T2D on 2019-06-01 (-214): in neither window
    assert ev.loc[("recent", 1), "status"] == "not_met" and ev.loc[("old", 1), "status"] == "not_met"


def test_deciding_record_for_last_and_any_value_criteria(tiny_cdm):
    """'last' is decided by the latest valued record, 'any' by the latest in-bounds one."""
    crit = criteria_from_dict({"concept_sets": SETS, "index": IDX, "inclusion": [
        {"name": "a1c_last", "type": "measurement", "concept_set": "a1c", "window": {"start": -180, "end": 0},
         "value": {"gte": 7.0}, "use": "last"},
        {"name": "a1c_any", "type": "measurement", "concept_set": "a1c", "window": {"start": -180, "end": 0},
         "value": {"gte": 7.0}}]})
    ev = screen(tiny_cdm, crit).evidence(level="all").set_index(["criterion", "person_id"])
    # person 1: HbA1c 7.5 (2019-10-01, id 1001) then 6.8 (2019-12-01, id 1002)
    assert ev.loc[("a1c_last", 1), "value"] == 6.8 and ev.loc[("a1c_last", 1), "record_id"] == 1002
    assert ev.loc[("a1c_last", 1), "status"] == "not_met"
    assert ev.loc[("a1c_any", 1), "value"] == 7.5 and ev.loc[("a1c_any", 1), "record_id"] == 1001
    assert ev.loc[("a1c_any", 1), "status"] == "met" and ev.loc[("a1c_any", 1), "n_records"] == 1


def test_scan_date_bounds_keep_records_at_the_edges(tiny_cdm):
    """The scan drops records outside [earliest index + window start, latest index + window end] before
    joining the index dates: records exactly on those edges (different persons) must still count."""
    def run_one(rule):
        crit = criteria_from_dict({"concept_sets": SETS, "index": {"type": "first_event", "domain": "condition",
                                                                   "concept_set": "diabetes"},
                                   "inclusion": [{"name": "r", "type": "condition", "concept_set": "diabetes", **rule}]})
        res = screen(tiny_cdm, crit)
        assert [str(d) for d in res._s.index_span] == ["2018-01-01", "2019-12-01"]
        return res.evidence(level="all").set_index("person_id")

    # window [0, 0]: the scan keeps 2018-01-01 .. 2019-12-01 exactly; person 4 has the earliest index
    # (T2D on 2018-01-01), person 2 the latest (T1D on 2019-12-01): both records sit on a bound
    ev = run_one({"window": {"start": 0, "end": 0}})
    for p in (1, 2, 4):
        assert ev.loc[p, "status"] == "met" and ev.loc[p, "n_records"] == 1
    # person 4: T2D on 2018-01-01 (day 0) and 2019-01-01 (day 365) count, 2019-12-31 (day 729) does not
    ev = run_one({"window": {"start": 0, "end": 365}})
    assert ev.loc[4, "n_records"] == 2 and str(ev.loc[4, "record_date"])[:10] == "2019-01-01"
