"""The engine on the mirror's CDMs, checked against an independent pandas computation."""

from __future__ import annotations

import pandas as pd
import pytest

from discovery.cohorts import criteria_from_dict, load_cdm, screen

from cohorts_fixture import MIRROR_OMOP


def _age(person: pd.DataFrame, index: pd.Series) -> pd.Series:
    p = person.set_index("person_id").loc[index.index]
    idx = pd.to_datetime(index)
    before = (p["month_of_birth"].notna() & ((idx.dt.month < p["month_of_birth"]) |
              ((idx.dt.month == p["month_of_birth"]) & (idx.dt.day < p["day_of_birth"].fillna(1)))))
    return idx.dt.year - p["year_of_birth"] - before.astype(int)


def _index_obs_end(cdm) -> pd.Series:
    # (GiBleed's observation_period also lists person_ids that are not in person)
    op = cdm.sql("SELECT person_id, observation_period_end_date AS d FROM observation_period "
                 "WHERE person_id IN (SELECT person_id FROM person)")
    return op.groupby("person_id")["d"].max()


def _ever(df: pd.DataFrame, concepts: set[int], index: pd.Series, col: str, date: str, lo=None, hi=0) -> set[int]:
    d = df[df[col].isin(concepts)].merge(index.rename("idx"), left_on="person_id", right_index=True)
    off = (pd.to_datetime(d[date]) - pd.to_datetime(d["idx"])).dt.days
    keep = (off <= hi) if hi is not None else pd.Series(True, index=d.index)
    if lo is not None:
        keep &= off >= lo
    return set(d.loc[keep, "person_id"])


def test_gibleed_matches_pandas():
    cdm = load_cdm(MIRROR_OMOP / "gibleed")
    crit = criteria_from_dict({
        "name": "GiBleed celecoxib", "index": {"type": "observation_end"},
        "concept_sets": [{"name": "oa", "concepts": [80180]}, {"name": "celecoxib", "concepts": [1118084]},
                         {"name": "gib", "concepts": [192671]}],
        "inclusion": [{"name": "age >= 50", "type": "age", "gte": 50},
                      {"name": "osteoarthritis", "type": "condition", "concept_set": "oa"},
                      {"name": "celecoxib 10y", "type": "drug", "concept_set": "celecoxib", "window": {"start": -3650, "end": 0}}],
        "exclusion": [{"name": "GI bleed", "type": "condition", "concept_set": "gib"}],
    })
    res = screen(cdm, crit)
    assert "condition_era" in " ".join(res.timings)  # eras stand in for occurrences
    idx = _index_obs_end(cdm)
    person = cdm.sql("SELECT * FROM person")
    age = _age(person, idx)
    ce = cdm.sql("SELECT * FROM condition_era")
    de = cdm.sql("SELECT * FROM drug_era")
    gib = cdm.vocab.descendants([192671])
    ok = (set(age[age >= 50].index)
          & _ever(ce, {80180}, idx, "condition_concept_id", "condition_era_start_date", None)
          & _ever(de, {1118084}, idx, "drug_concept_id", "drug_era_start_date", -3650)) \
        - _ever(ce, gib, idx, "condition_concept_id", "condition_era_start_date", None)
    assert res.eligible_ids() == sorted(ok)
    assert 10 < len(ok) < 2694
    f = res.funnel()
    assert f["remaining"].iloc[0] == 2694 and f["remaining"].iloc[-1] == len(ok)
    assert (f["remaining"].diff().dropna() <= 0).all()


def test_mimic_missing_measurements_are_unknown():
    cdm = load_cdm(MIRROR_OMOP / "mimic-iv-demo")
    crit = criteria_from_dict({
        "index": {"type": "observation_end"},
        "inclusion": [{"name": "adult", "type": "age", "gte": 18},
                      {"name": "hypertension 1y", "type": "condition", "concepts": [320128], "window": {"start": -365, "end": 0}},
                      {"name": "HbA1c >= 7", "type": "measurement", "concepts": [3004410], "value": {"gte": 7}}],
    })
    res = screen(cdm, crit, strict_concepts=False)
    assert any("no measurement table" in w for w in res.warnings)
    assert res.n_eligible == 0
    rc = res.rule_counts().set_index("rule")
    assert rc.loc["HbA1c >= 7", "unknown"] == 100
    idx = _index_obs_end(cdm)
    co = cdm.sql("SELECT * FROM condition_occurrence")
    age = _age(cdm.sql("SELECT * FROM person"), idx)
    expected = set(age[age >= 18].index) & _ever(co, {320128}, idx, "condition_concept_id", "condition_start_date", -365)
    nm = res.near_misses()
    only_lab = nm[(nm["n_failed"] == 1) & (nm["failed_rules"] == "HbA1c >= 7")]
    assert set(only_lab["person_id"]) == expected and len(expected) > 5
    assert (only_lab["n_failed_unknown"] == 1).all()
    assert res.with_rules(disable=["HbA1c >= 7"]).eligible_ids() == sorted(expected)


def test_synthea_descendants_and_lab_values():
    cdm = load_cdm(MIRROR_OMOP / "Synthea27Nj_5.4.zip")
    crit = criteria_from_dict({
        "index": {"type": "observation_end"},
        "concept_sets": [{"name": "dm", "concepts": [201820]}, {"name": "a1c", "concepts": [3004410], "include_descendants": False}],
        "inclusion": [{"name": "diabetes", "type": "condition", "concept_set": "dm"},
                      {"name": "HbA1c >= 6", "type": "measurement", "concept_set": "a1c", "window": {"start": -730, "end": 0},
                       "value": {"gte": 6.0}, "units": [8554], "use": "last"}],
    })
    res = screen(cdm, crit)
    ev = res.evidence()
    idx = _index_obs_end(cdm)
    dm = cdm.vocab.descendants([201820])
    co = cdm.sql("SELECT * FROM condition_occurrence")
    has_dm = _ever(co, dm, idx, "condition_concept_id", "condition_start_date", None)
    got = set(ev[(ev.criterion == "diabetes") & (ev.status == "met")]["person_id"])
    assert got == has_dm and len(has_dm) >= 1
    m = cdm.sql("SELECT * FROM measurement WHERE measurement_concept_id = 3004410 AND unit_concept_id = 8554 "
                "AND value_as_number IS NOT NULL")
    m = m.merge(idx.rename("idx"), left_on="person_id", right_index=True)
    off = (pd.to_datetime(m["measurement_date"]) - pd.to_datetime(m["idx"])).dt.days
    m = m[(off >= -730) & (off <= 0)].sort_values(["person_id", "measurement_date", "measurement_id"])
    last = m.groupby("person_id").tail(1).set_index("person_id")["value_as_number"]
    a1c = ev[ev.criterion == "HbA1c >= 6"].set_index("person_id")
    for pid, v in last.items():
        assert a1c.loc[pid, "status"] == ("met" if v >= 6.0 else "not_met")
        assert a1c.loc[pid, "value"] == pytest.approx(v)
    assert (a1c.drop(index=list(last.index))["status"] == "unknown").all()
