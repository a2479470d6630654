"""Synthetic OMOP CDM (Parquet) for scale tests, deterministic per seed.

Structure (per person, vectorised with NumPy in chunks of 100,000 persons):

- ``person``: sex 50/50 (8507/8532); age at the 2024-12-31 data cut from a
  mixture resembling an adult health-system population (0-95 years).
- ``observation_period``: one period from 2010 (or birth) to the data cut
  minus 0-180 days.
- ``visit_occurrence``: Poisson number of outpatient visits, more with age.
- ``condition_occurrence``: chronic conditions with age-dependent prevalence
  (type 2 / type 1 diabetes with the Synthea vocabulary's descendants,
  hypertension, CKD, heart failure, myocardial infarction, cancer), each
  first diagnosed at a visit and re-coded at later visits, plus acute
  conditions.
- ``drug_exposure``: drugs tied to conditions (metformin, insulin,
  lisinopril, ...) at visits after diagnosis, plus common acute drugs.
- ``measurement``: vitals at every visit (SBP, DBP, weight, BMI) and labs
  (HbA1c, eGFR, creatinine, glucose) whose values depend on the person's
  conditions; units are unit concepts of the mirror's Synthea27Nj
  vocabulary, looked up by UCUM code.
- ``concept`` and ``concept_ancestor`` for every concept used (names from the
  Synthea27Nj vocabulary where it has them; the diabetes hierarchy from its
  'Is a' relationships).

Same ``persons`` and ``seed`` give byte-identical tables.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError

log = logging.getLogger(__name__)

CHUNK = 100_000
DATA_CUT = np.datetime64("2024-12-31", "D")
START = np.datetime64("2010-01-01", "D")

#: chronic conditions: concept id, name, prevalence at age 20 and at 80 (linear in between)
CHRONIC = [
    ("t2d", 201826, "Type 2 diabetes mellitus", 0.02, 0.25),
    ("t1d", 201254, "Type 1 diabetes mellitus", 0.005, 0.005),
    ("htn", 320128, "Essential hypertension", 0.05, 0.60),
    ("ckd", 46271022, "Chronic kidney disease", 0.01, 0.20),
    ("hf", 316139, "Heart failure", 0.002, 0.12),
    ("mi", 4329847, "Myocardial infarction", 0.002, 0.08),
    ("cancer", 443392, "Malignant neoplastic disease", 0.005, 0.10),
]
ACUTE = [(40481087, "Viral sinusitis"), (4112343, "Acute viral pharyngitis"), (260139, "Acute bronchitis"),
         (372328, "Otitis media"), (28060, "Streptococcal sore throat"), (81151, "Sprain of ankle"),
         (80180, "Osteoarthritis"), (4251306, "Finding of back"), (378001, "Concussion"), (257012, "Chronic sinusitis")]
#: drugs: id, name, condition that triggers it (None = acute), probability per visit after diagnosis
DRUGS = [
    (1503297, "metformin", "t2d", 0.7), (1502905, "insulin glargine", "t1d", 0.9), (1502905, "insulin glargine", "t2d", 0.12),
    (1308216, "lisinopril", "htn", 0.5), (1332418, "amlodipine", "htn", 0.3), (1545958, "atorvastatin", "t2d", 0.3),
    (1310149, "warfarin", "hf", 0.3), (1551099, "prednisone", None, 0.03), (1125315, "acetaminophen", None, 0.15),
    (1713332, "amoxicillin", None, 0.1), (1177480, "ibuprofen", None, 0.1),
]
#: measurements: key, concept id, name, UCUM unit code
MEAS = [
    ("sbp", 3004249, "Systolic blood pressure", "mm[Hg]"), ("dbp", 3012888, "Diastolic blood pressure", "mm[Hg]"),
    ("weight", 3025315, "Body weight", "kg"), ("bmi", 3038553, "Body mass index (BMI) [Ratio]", "kg/m2"),
    ("a1c", 3004410, "Hemoglobin A1c/Hemoglobin.total in Blood", "%"),
    ("egfr", 3030354, "Glomerular filtration rate/1.73 sq M.predicted by Creatinine-based formula (MDRD)", "mL/min"),
    ("creat", 3016723, "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL"),
    ("glucose", 3004501, "Glucose [Mass/volume] in Serum or Plasma", "mg/dL"),
]
_FALLBACK_UNITS = {"mm[Hg]": 8876, "kg": 9529, "kg/m2": 9531, "%": 8554, "mL/min": 8795, "mg/dL": 8840}


def _vocabulary() -> tuple[dict[str, int], set[int], "Any"]:
    """Unit concepts by UCUM code, T2D/T1D descendants and concept rows, from the Synthea27Nj vocabulary."""
    import pandas as pd

    try:
        from .io import load_cdm

        cdm = load_cdm("synthea27nj", validate_tables=False)
    except Exception as exc:  # no mirror / offline without cache
        log.warning("Synthea27Nj vocabulary unavailable (%s); using built-in unit concept ids", exc)
        return dict(_FALLBACK_UNITS), set(), pd.DataFrame()
    codes = sorted({m[3] for m in MEAS})
    units = dict(cdm.con.execute("SELECT concept_code, concept_id FROM concept WHERE domain_id = 'Unit' AND "
                                 "concept_code IN (SELECT unnest(?::VARCHAR[]))", [codes]).fetchall())
    for k, v in _FALLBACK_UNITS.items():
        units.setdefault(k, v)
    dm_desc = cdm.vocab.descendants([201820])
    ids = sorted({c[1] for c in CHRONIC} | {a[0] for a in ACUTE} | {d[0] for d in DRUGS} | {m[1] for m in MEAS}
                 | set(units.values()) | dm_desc | {8507, 8532, 9202, 32817})
    rows = cdm.vocab.concepts(ids)
    cdm.close()
    return units, dm_desc, rows


def _concept_tables(units: dict[str, int], dm_desc: set[int], rows) -> tuple["Any", "Any"]:
    import pandas as pd

    known = {int(r.concept_id): r for r in rows.itertuples()} if len(rows) else {}
    recs = []

    def add(cid: int, name: str, domain: str, vocab: str, cls: str, code: str) -> None:
        if cid in known:
            r = known[cid]
            recs.append((cid, r.concept_name, r.domain_id, r.vocabulary_id, r.concept_class_id, r.standard_concept, r.concept_code))
        else:
            recs.append((cid, name, domain, vocab, cls, "S", code))

    seen: set[int] = set()
    for _, cid, name, *_ in CHRONIC:
        seen.add(cid)
        add(cid, name, "Condition", "SNOMED", "Clinical Finding", str(cid))
    for cid, name in ACUTE:
        seen.add(cid)
        add(cid, name, "Condition", "SNOMED", "Clinical Finding", str(cid))
    for cid in sorted(dm_desc | {201820}):
        if cid not in seen:
            seen.add(cid)
            add(cid, "Diabetes mellitus" if cid == 201820 else f"Diabetes concept {cid}", "Condition", "SNOMED", "Clinical Finding", str(cid))
    for cid, name, *_ in DRUGS:
        if cid not in seen:
            seen.add(cid)
            add(cid, name, "Drug", "RxNorm", "Ingredient", str(cid))
    for _, cid, name, _u in MEAS:
        seen.add(cid)
        add(cid, name, "Measurement", "LOINC", "Lab Test", str(cid))
    for code, cid in sorted(units.items()):
        if cid not in seen:
            seen.add(cid)
            add(cid, code, "Unit", "UCUM", "Unit", code)
    for cid, name in ((8507, "MALE"), (8532, "FEMALE"), (9202, "Outpatient Visit"), (32817, "EHR")):
        if cid not in seen:
            seen.add(cid)
            add(cid, name, "Gender" if cid in (8507, 8532) else ("Visit" if cid == 9202 else "Type Concept"), "None", "None", str(cid))
    concept = pd.DataFrame(recs, columns=["concept_id", "concept_name", "domain_id", "vocabulary_id", "concept_class_id",
                                          "standard_concept", "concept_code"])
    anc = [(c, c) for c in sorted(seen)]
    anc += [(201820, d) for d in sorted(dm_desc | {201826, 201254}) if d != 201820]
    if dm_desc:
        pass
    ancestor = pd.DataFrame(sorted(set(anc)), columns=["ancestor_concept_id", "descendant_concept_id"])
    return concept, ancestor


def _chunk(rng: np.random.Generator, first_id: int, n: int, units: dict[str, int], id_base: dict[str, int]) -> dict[str, dict[str, np.ndarray]]:
    pid = np.arange(first_id, first_id + n, dtype=np.int64)
    sex = np.where(rng.random(n) < 0.5, 8507, 8532).astype(np.int64)
    # age at the data cut: mixture (children, adults, elderly)
    comp = rng.choice(3, size=n, p=[0.2, 0.55, 0.25])
    age = np.where(comp == 0, rng.uniform(0, 18, n), np.where(comp == 1, rng.uniform(18, 65, n), rng.uniform(65, 95, n)))
    birth = DATA_CUT - (age * 365.25).astype("timedelta64[D]")
    by = birth.astype("datetime64[Y]").astype(int) + 1970
    bm = (birth.astype("datetime64[M]").astype(int) % 12) + 1
    bd = (birth - birth.astype("datetime64[M]").astype("datetime64[D]")).astype(int) + 1
    obs_start = np.maximum(birth, START + rng.integers(0, 365 * 3, n).astype("timedelta64[D]"))
    obs_end = DATA_CUT - rng.integers(0, 180, n).astype("timedelta64[D]")
    span = np.maximum((obs_end - obs_start).astype(int), 1)
    # visits
    nvis = rng.poisson(4 + age / 12.0).astype(np.int64) + 1
    vp = np.repeat(np.arange(n), nvis)
    vdate = obs_start[vp] + (rng.random(len(vp)) * span[vp]).astype("timedelta64[D]")
    order = np.lexsort((vdate, vp))
    vp, vdate = vp[order], vdate[order]
    nv = len(vp)
    # chronic conditions (age-dependent prevalence) and their diagnosis visit
    frac = np.clip((age - 20) / 60, 0, 1)
    has = {}
    for key, cid, _nm, p20, p80 in CHRONIC:
        p = p20 + (p80 - p20) * frac
        if key == "ckd":
            p = p * 1.0
        has[key] = rng.random(n) < p
    has["t1d"] &= ~has["t2d"]
    vstart = np.concatenate([[0], np.cumsum(nvis)[:-1]])
    dx_visit = vstart + (rng.random(n) * nvis * 0.6).astype(np.int64)  # diagnosed in the first 60% of visits
    dx_date = vdate[dx_visit]
    # condition records: first dx + re-coding at later visits with p=0.4; acute noise
    c_p, c_c, c_d = [], [], []
    t2d_codes = np.array([201826], dtype=np.int64)
    for key, cid, *_ in CHRONIC:
        sel = has[key]
        after = sel[vp] & (vdate >= dx_date[vp])
        rec = after & ((np.arange(nv) == dx_visit[vp]) | (rng.random(nv) < 0.4))
        codes = np.full(rec.sum(), cid, dtype=np.int64)
        if key == "t2d" and len(t2d_codes):
            codes = t2d_codes[rng.integers(0, len(t2d_codes), len(codes))]
        c_p.append(vp[rec])
        c_c.append(codes)
        c_d.append(vdate[rec])
    acute_ids = np.array([a[0] for a in ACUTE], dtype=np.int64)
    nac = rng.poisson(0.8, nv)
    ap = np.repeat(np.arange(nv), nac)
    c_p.append(vp[ap])
    c_c.append(acute_ids[rng.integers(0, len(acute_ids), len(ap))])
    c_d.append(vdate[ap])
    cond_p, cond_c, cond_d = np.concatenate(c_p), np.concatenate(c_c), np.concatenate(c_d)
    # drugs
    d_p, d_c, d_d = [], [], []
    for cid, _nm, key, prob in DRUGS:
        if key is None:
            rec = rng.random(nv) < prob
        else:
            rec = has[key][vp] & (vdate >= dx_date[vp]) & (rng.random(nv) < prob)
        d_p.append(vp[rec])
        d_c.append(np.full(rec.sum(), cid, dtype=np.int64))
        d_d.append(vdate[rec] + rng.integers(0, 3, rec.sum()).astype("timedelta64[D]"))
    drug_p, drug_c, drug_d = np.concatenate(d_p), np.concatenate(d_c), np.concatenate(d_d)
    # measurements: vitals at every visit, labs at 60% of visits of adults
    adult = age[vp] >= 18
    diab = (has["t2d"] | has["t1d"])[vp] & (vdate >= dx_date[vp])
    ckd = has["ckd"][vp] & (vdate >= dx_date[vp])
    htn = has["htn"][vp] & (vdate >= dx_date[vp])
    a_at = age[vp] - (DATA_CUT - vdate).astype(int) / 365.25
    m_p, m_c, m_d, m_v, m_u = [], [], [], [], []
    bmi_base = rng.normal(27, 5, n)

    def add(mask, key, values):
        cid = next(m[1] for m in MEAS if m[0] == key)
        ucode = next(m[3] for m in MEAS if m[0] == key)
        m_p.append(vp[mask])
        m_c.append(np.full(mask.sum(), cid, dtype=np.int64))
        m_d.append(vdate[mask])
        m_v.append(np.round(values[mask], 1))
        m_u.append(np.full(mask.sum(), units[ucode], dtype=np.int64))

    every = np.ones(nv, dtype=bool)
    add(every, "sbp", rng.normal(122, 12, nv) + 18 * htn + 0.2 * np.clip(a_at - 40, 0, None))
    add(every, "dbp", rng.normal(78, 8, nv) + 8 * htn)
    bmi = np.clip(bmi_base[vp] + rng.normal(0, 0.8, nv), 14, 60)
    add(adult, "weight", bmi * 1.7 ** 2 + rng.normal(0, 3, nv))
    add(adult, "bmi", bmi)
    lab = adult & (rng.random(nv) < 0.6)
    add(lab & (diab | (rng.random(nv) < 0.3)), "a1c", np.where(diab, rng.normal(7.6, 1.3, nv), rng.normal(5.4, 0.4, nv)))
    egfr = np.clip(110 - 0.8 * np.clip(a_at - 30, 0, None) - 45 * ckd + rng.normal(0, 12, nv), 4, 150)
    add(lab, "egfr", egfr)
    add(lab, "creat", np.clip(88.4 * 0.9 / egfr * 1.0 + rng.normal(0, 0.1, nv), 0.3, 12))
    add(lab, "glucose", np.where(diab, rng.normal(150, 40, nv), rng.normal(95, 12, nv)))
    meas = {k: np.concatenate(v) for k, v in zip(("p", "c", "d", "v", "u"), (m_p, m_c, m_d, m_v, m_u))}

    def ids(kind: str, count: int) -> np.ndarray:
        start = id_base[kind]
        id_base[kind] += count
        return np.arange(start, start + count, dtype=np.int64)

    visit_ids = ids("visit", nv)
    return {
        "person": {"person_id": pid, "gender_concept_id": sex, "year_of_birth": by.astype(np.int32),
                   "month_of_birth": bm.astype(np.int32), "day_of_birth": bd.astype(np.int32),
                   "race_concept_id": np.zeros(n, dtype=np.int64), "ethnicity_concept_id": np.zeros(n, dtype=np.int64)},
        "observation_period": {"observation_period_id": pid, "person_id": pid, "observation_period_start_date": obs_start,
                               "observation_period_end_date": obs_end, "period_type_concept_id": np.full(n, 32817, dtype=np.int64)},
        "visit_occurrence": {"visit_occurrence_id": visit_ids, "person_id": pid[vp], "visit_concept_id": np.full(nv, 9202, dtype=np.int64),
                             "visit_start_date": vdate, "visit_end_date": vdate, "visit_type_concept_id": np.full(nv, 32817, dtype=np.int64)},
        "condition_occurrence": {"condition_occurrence_id": ids("condition", len(cond_p)), "person_id": pid[cond_p],
                                 "condition_concept_id": cond_c, "condition_start_date": cond_d,
                                 "condition_type_concept_id": np.full(len(cond_p), 32817, dtype=np.int64)},
        "drug_exposure": {"drug_exposure_id": ids("drug", len(drug_p)), "person_id": pid[drug_p], "drug_concept_id": drug_c,
                          "drug_exposure_start_date": drug_d, "drug_exposure_end_date": drug_d + np.timedelta64(30, "D"),
                          "drug_type_concept_id": np.full(len(drug_p), 32817, dtype=np.int64)},
        "measurement": {"measurement_id": ids("measurement", len(meas["p"])), "person_id": pid[meas["p"]],
                        "measurement_concept_id": meas["c"], "measurement_date": meas["d"], "value_as_number": meas["v"],
                        "unit_concept_id": meas["u"], "measurement_type_concept_id": np.full(len(meas["p"]), 32817, dtype=np.int64)},
    }


def synthesize_cdm(out_dir: str | os.PathLike, *, persons: int = 10_000, seed: int = 0,
                   progress: bool = True) -> dict[str, Any]:
    """Write a synthetic OMOP CDM 5.4 as one Parquet file per table.

    Parameters
    ----------
    out_dir : path
        Folder to create (written atomically).
    persons : int
        Number of persons (about 50 events each).
    seed : int
        Seed of the NumPy generator; each 100,000-person chunk uses ``(seed, chunk)``.

    Returns
    -------
    dict
        Row count per table, total events, seconds.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ..fsutil import atomic_dir

    if persons < 1:
        raise InputError("persons must be >= 1", value=persons)
    t0 = time.perf_counter()
    units, dm_desc, rows = _vocabulary()
    concept, ancestor = _concept_tables(units, dm_desc, rows)
    counts: dict[str, int] = {}
    id_base = {"visit": 1, "condition": 1, "drug": 1, "measurement": 1}
    out = Path(out_dir)
    with atomic_dir(out) as tmp:
        writers: dict[str, Any] = {}
        try:
            for ci, first in enumerate(range(0, persons, CHUNK)):
                n = min(CHUNK, persons - first)
                rng = np.random.default_rng([seed, ci])
                tables = _chunk(rng, first + 1, n, units, id_base)
                for name, cols in tables.items():
                    arrays = {}
                    for k, v in cols.items():
                        arrays[k] = pa.array(v.astype("datetime64[D]")) if v.dtype.kind == "M" else pa.array(v)
                    tab = pa.table(arrays)
                    if name not in writers:
                        writers[name] = pq.ParquetWriter(tmp / f"{name}.parquet", tab.schema, compression="zstd")
                    writers[name].write_table(tab, row_group_size=1_000_000)
                    counts[name] = counts.get(name, 0) + tab.num_rows
                if progress:
                    log.info("synth: %d / %d persons", first + n, persons)
        finally:
            for w in writers.values():
                w.close()
        pq.write_table(pa.Table.from_pandas(concept, preserve_index=False), tmp / "concept.parquet")
        pq.write_table(pa.Table.from_pandas(ancestor, preserve_index=False), tmp / "concept_ancestor.parquet")
        pq.write_table(pa.table({"cdm_source_name": ["discovery synthetic"], "cdm_version": ["5.4"],
                                 "source_description": [f"discovery.cohorts.synth persons={persons} seed={seed}"]}),
                       tmp / "cdm_source.parquet")
        counts["concept"] = len(concept)
        counts["concept_ancestor"] = len(ancestor)
        events = sum(counts[t] for t in ("visit_occurrence", "condition_occurrence", "drug_exposure", "measurement"))
        info = {"persons": persons, "seed": seed, "tables": counts, "events": events,
                "seconds": round(time.perf_counter() - t0, 2)}
        from ..provenance import build_manifest, write_manifest

        write_manifest(tmp, build_manifest(kind="cohorts.synth", config={"persons": persons, "seed": seed}, seed=seed,
                                           extra={"metrics": info}))
    return info
