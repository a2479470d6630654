"""Hand-made OMOP CDM with known answers (see the table in test_engine.py); imported by conftest and tests."""

from __future__ import annotations

import csv
from pathlib import Path

MIRROR_OMOP = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "cohorts" / "omop"

TABLES: dict[str, tuple[list[str], list[tuple]]] = {
    "person": (["person_id", "gender_concept_id", "year_of_birth", "month_of_birth", "day_of_birth", "person_source_value"], [
        (1, 8532, 1950, 6, 15, "a"), (2, 8507, 2005, 3, 1, "b"), (3, 8532, 1980, 1, 1, "c"),
        (4, 8507, 1980, 1, 2, "d"), (5, 0, None, None, None, "e"), (6, 8532, 1960, None, None, "f"),
    ]),
    "observation_period": (["observation_period_id", "person_id", "observation_period_start_date", "observation_period_end_date", "period_type_concept_id"], [
        (1, 1, "2010-01-01", "2020-06-30", 44814724), (2, 2, "2010-01-01", "2020-06-30", 44814724),
        (3, 3, "2010-01-01", "2020-06-30", 44814724), (4, 4, "2010-01-01", "2020-06-30", 44814724),
        (5, 5, "2010-01-01", "2020-06-30", 44814724), (6, 6, "2010-01-01", "2019-01-01", 44814724),
    ]),
    "condition_occurrence": (["condition_occurrence_id", "person_id", "condition_concept_id", "condition_start_date", "condition_type_concept_id"], [
        (11, 1, 201826, "2019-06-01", 32817), (12, 1, 316866, "2015-01-01", 32817),
        (21, 2, 201254, "2019-12-01", 32817),
        (31, 3, 201826, "2021-01-01", 32817),
        (41, 4, 201826, "2018-01-01", 32817), (42, 4, 201826, "2019-01-01", 32817), (43, 4, 201826, "2019-12-31", 32817),
    ]),
    "drug_exposure": (["drug_exposure_id", "person_id", "drug_concept_id", "drug_exposure_start_date", "drug_type_concept_id"], [
        (101, 1, 1503297, "2019-12-15", 32817), (102, 4, 1503297, "2015-01-01", 32817),
    ]),
    "measurement": (["measurement_id", "person_id", "measurement_concept_id", "measurement_date", "value_as_number", "unit_concept_id"], [
        (1001, 1, 3004410, "2019-10-01", 7.5, 8554), (1002, 1, 3004410, "2019-12-01", 6.8, 8554),
        (1003, 3, 3004410, "2019-11-01", 53.0, 8753),
        (1004, 4, 3004410, "2019-09-01", 8.0, 8554),
        (1005, 6, 3004410, "2019-12-01", None, 8554),
        (1006, 1, 3004501, "2019-12-10", 7.0, 8753), (1007, 4, 3004501, "2019-12-10", 110.0, 8840),
        (1008, 3, 3004501, "2019-12-10", 9.0, 8554),
    ]),
    "procedure_occurrence": (["procedure_occurrence_id", "person_id", "procedure_concept_id", "procedure_date", "procedure_type_concept_id"], [
        (501, 2, 4301351, "2019-11-15", 32817), (502, 3, 4301351, "2018-01-01", 32817),
    ]),
    "observation": (["observation_id", "person_id", "observation_concept_id", "observation_date", "observation_type_concept_id", "value_as_number", "unit_concept_id"], [
        (601, 1, 4005823, "2019-05-01", 32817, 20.0, 0), (602, 3, 4005823, "2018-01-01", 32817, 5.0, 0),
        (603, 4, 4005823, "2019-02-01", 32817, None, 0),
    ]),
    "visit_occurrence": (["visit_occurrence_id", "person_id", "visit_concept_id", "visit_start_date", "visit_type_concept_id"], [
        (701, 4, 9201, "2019-12-20", 32817), (702, 4, 9201, "2019-12-25", 32817), (703, 1, 9202, "2019-12-01", 32817),
        (704, 1, 9201, "2019-06-01", 32817),
    ]),
    "death": (["person_id", "death_date", "death_type_concept_id", "cause_concept_id"], [
        (6, "2019-06-01", 32817, 316866),
    ]),
    "concept": (["concept_id", "concept_name", "domain_id", "vocabulary_id", "concept_class_id", "standard_concept", "concept_code"], [
        (201820, "Diabetes mellitus", "Condition", "SNOMED", "Clinical Finding", "S", "73211009"),
        (201826, "Type 2 diabetes mellitus", "Condition", "SNOMED", "Clinical Finding", "S", "44054006"),
        (201254, "Type 1 diabetes mellitus", "Condition", "SNOMED", "Clinical Finding", "S", "46635009"),
        (316866, "Hypertensive disorder", "Condition", "SNOMED", "Clinical Finding", "S", "38341003"),
        (1503297, "metformin", "Drug", "RxNorm", "Ingredient", "S", "6809"),
        (3004410, "Hemoglobin A1c/Hemoglobin.total in Blood", "Measurement", "LOINC", "Lab Test", "S", "4548-4"),
        (3004501, "Glucose [Mass/volume] in Serum or Plasma", "Measurement", "LOINC", "Lab Test", "S", "2345-7"),
        (4301351, "Surgical procedure", "Procedure", "SNOMED", "Procedure", "S", "387713003"),
        (4005823, "Tobacco user", "Observation", "SNOMED", "Clinical Finding", "S", "110483000"),
        (9201, "Inpatient Visit", "Visit", "Visit", "Visit", "S", "IP"),
        (9202, "Outpatient Visit", "Visit", "Visit", "Visit", "S", "OP"),
        (8554, "percent", "Unit", "UCUM", "Unit", "S", "%"),
        (8840, "milligram per deciliter", "Unit", "UCUM", "Unit", "S", "mg/dL"),
        (8753, "millimole per liter", "Unit", "UCUM", "Unit", "S", "mmol/L"),
        (8507, "MALE", "Gender", "Gender", "Gender", "S", "M"),
        (8532, "FEMALE", "Gender", "Gender", "Gender", "S", "F"),
    ]),
    "concept_ancestor": (["ancestor_concept_id", "descendant_concept_id", "min_levels_of_separation", "max_levels_of_separation"], [
        (201820, 201820, 0, 0), (201820, 201826, 1, 1), (201820, 201254, 1, 1), (201826, 201826, 0, 0), (201254, 201254, 0, 0),
    ]),
    "concept_synonym": (["concept_id", "concept_synonym_name", "language_concept_id"], [
        (201826, "T2DM", 4180186), (201826, "Diabetes mellitus type 2", 4180186), (316866, "High blood pressure", 4180186),
    ]),
}


def write_cdm(folder: Path, *, upper: bool = False, drop: tuple[str, ...] = (), tables=None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, (header, rows) in (tables or TABLES).items():
        if name in drop:
            continue
        fn = (name.upper() if upper else name) + ".csv"
        with open(folder / fn, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow([h.upper() if upper else h for h in header])
            for r in rows:
                w.writerow(["" if v is None else v for v in r])
    return folder


