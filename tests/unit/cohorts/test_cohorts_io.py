"""OMOP I/O: formats, table-name case, versions, validation errors, vocabulary helpers."""

from __future__ import annotations

import zipfile

import pytest

from discovery.cohorts import criteria_from_dict, load_cdm, screen
from discovery.cohorts.io import connect
from discovery.errors import InputError

from cohorts_fixture import MIRROR_OMOP

TRIAL = {"index": {"type": "fixed", "date": "2020-01-01", "require_observation": False},
         "concept_sets": [{"name": "dm", "concepts": [201820]}, {"name": "a1c", "concepts": [3004410]}],
         "inclusion": [{"name": "dm", "type": "condition", "concept_set": "dm"},
                       {"name": "a1c", "type": "measurement", "concept_set": "a1c", "value": {"gte": 7}, "units": [8554]}]}


def _eligible(cdm):
    return screen(cdm, criteria_from_dict(TRIAL)).eligible_ids()


def test_formats_give_identical_results(make_cdm_dir, tmp_path):
    base = make_cdm_dir("lower")
    upper = make_cdm_dir("upper", upper=True)
    ref = _eligible(load_cdm(base))
    assert ref == [1, 4]
    assert _eligible(load_cdm(upper)) == ref
    # zip with a nested folder and a __MACOSX entry
    zp = tmp_path / "cdm.zip"
    with zipfile.ZipFile(zp, "w") as zf:
        for f in upper.iterdir():
            zf.write(f, f"export/{f.name}")
            zf.writestr(f"__MACOSX/export/._{f.name}", b"\x00junk")
    assert _eligible(load_cdm(zp)) == ref
    # parquet (views, no copy), upper-case names
    pq = tmp_path / "pq"
    pq.mkdir()
    con = connect()
    for f in base.iterdir():
        con.execute(f"COPY (SELECT * FROM read_csv('{f}', header=true)) TO '{pq / (f.stem.upper() + '.parquet')}' (FORMAT parquet)")
    assert _eligible(load_cdm(pq)) == ref
    # persisted DuckDB file, then attached as an existing database
    db = tmp_path / "cdm.duckdb"
    load_cdm(base, database=db).close()
    cdm = load_cdm(db, read_only=True)
    assert cdm.has("person") and _eligible(cdm) == ref


def test_attach_existing_schema(tmp_path, make_cdm_dir):
    db = tmp_path / "x.duckdb"
    con = connect(db)
    con.execute("CREATE SCHEMA cdm")
    for f in make_cdm_dir().iterdir():
        con.execute(f'CREATE TABLE cdm."{f.stem.upper()}" AS SELECT * FROM read_csv(\'{f}\', header=true)')
    con.close()
    cdm = load_cdm(db, schema="cdm")
    assert cdm.table("person").endswith('"PERSON"')
    assert _eligible(cdm) == [1, 4]


def test_missing_required_table(make_cdm_dir):
    with pytest.raises(InputError, match="required OMOP table 'person' is missing"):
        load_cdm(make_cdm_dir(drop=("person",)))


def test_missing_required_column(make_cdm_dir):
    from cohorts_fixture import TABLES

    tables = dict(TABLES)
    header, rows = tables["measurement"]
    tables["measurement"] = (header[:-1], [r[:-1] for r in rows])
    with pytest.raises(InputError, match="'measurement' lacks required column.*unit_concept_id"):
        load_cdm(make_cdm_dir(tables=tables))


def test_bad_value_names_file_row_column(make_cdm_dir):
    from cohorts_fixture import TABLES

    tables = dict(TABLES)
    header, rows = tables["condition_occurrence"]
    rows = list(rows)
    rows[2] = (21, 2, 201254, "2019-13-45", 32817)
    tables["condition_occurrence"] = (header, rows)
    with pytest.raises(InputError) as ei:
        load_cdm(make_cdm_dir(tables=tables))
    msg = str(ei.value)
    assert "condition_occurrence.csv" in msg and "row 4" in msg and "condition_start_date" in msg and "2019-13-45" in msg


def test_not_a_cdm(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(InputError, match="no OMOP CDM table files"):
        load_cdm(tmp_path)
    with pytest.raises(InputError, match="no such file"):
        load_cdm(tmp_path / "missing")


def test_vocabulary_helpers(tiny_cdm):
    v = tiny_cdm.vocab
    assert v.concept(201826)["concept_name"] == "Type 2 diabetes mellitus"
    with pytest.raises(InputError, match="unknown concept id"):
        v.concept(42)
    assert v.by_code("44054006", "SNOMED")["concept_id"].tolist() == [201826]
    assert v.search("t2dm")["concept_id"].tolist() == [201826]  # synonym
    assert v.search("high blood pressure", exact=True)["concept_id"].tolist() == [316866]
    assert v.search("diabetes", domain="Condition")["concept_id"].iloc[0] == 201820  # exact-prefix, shortest first
    assert v.hierarchy_source == "concept_ancestor"
    assert v.descendants([201820]) == {201820, 201826, 201254}
    assert v.descendants([201820], include_self=False) == {201826, 201254}
    assert v.ancestors(201826) == {201820}


def test_descendants_fall_back_to_is_a(make_cdm_dir):
    from cohorts_fixture import TABLES

    tables = dict(TABLES)
    tables["concept_ancestor"] = (TABLES["concept_ancestor"][0], [])
    tables["concept_relationship"] = (["concept_id_1", "concept_id_2", "relationship_id"], [
        (201826, 201820, "Is a"), (201254, 201820, "Is a"), (201820, 201826, "Subsumes"), (99, 201826, "Is a"),
    ])
    cdm = load_cdm(make_cdm_dir(tables=tables))
    assert cdm.vocab.hierarchy_source == "concept_relationship"
    assert cdm.vocab.descendants([201820]) == {201820, 201826, 201254, 99}


# ----------------------------------------------------------------------------- mirror CDMs

def test_synthea_zip_54():
    cdm = load_cdm(MIRROR_OMOP / "Synthea27Nj_5.4.zip")
    assert cdm.version == "5.4" and cdm.n_persons == 28
    assert cdm.vocab.hierarchy_source == "concept_relationship"  # concept_ancestor is empty
    d = cdm.vocab.descendants([201820])
    assert 201826 in d and 4193704 in d


def test_mimic_demo_53():
    cdm = load_cdm(MIRROR_OMOP / "mimic-iv-demo")
    assert cdm.version == "5.3" and cdm.n_persons == 100
    assert not cdm.has("measurement")
    assert cdm.count("condition_occurrence") == 16441
    # identifiers are signed 64-bit hashes
    assert cdm.con.execute("SELECT min(person_id) < 0 FROM person").fetchone()[0]


def test_gibleed_by_registry_name():
    cdm = load_cdm("gibleed")
    assert cdm.n_persons == 2694 and cdm.vocab.hierarchy_source == "concept_ancestor"
    assert cdm.vocab.search("gastrointestinal hemorrhage", exact=True)["concept_id"].tolist() == [192671]
