"""Benchmark: trial-cohort screening, discovery.cohorts vs pandas vs one hand-written DuckDB query.

One invocation: synthesises (once, cached under benchmarks/_work/) an OMOP CDM
of ``--persons`` persons with ``discovery cohorts synth`` (>= 50M events at
1M persons), then runs a 12-criterion trial three ways, each in its own
process (wall time and peak RSS measured by run_measured):

- ``ours``: ``discovery.cohorts.screen`` (full per-person x per-criterion
  evidence, funnel, eligible set);
- ``sql``: one hand-written DuckDB query computing only the eligible set (the floor);
- ``pandas``: a straightforward pandas implementation (read the needed
  columns, filter, group, set operations).

The three eligible sets must be identical. Results go to
``benchmarks/results/cohorts.md`` and ``benchmarks/results/cohorts.json``.

Usage::

    nice -n 10 .venv/bin/python benchmarks/cohorts.py --persons 1000000 --pandas-persons 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

#: the 12-criterion trial (also shipped as an example; the peers below hard-code the same rules)
TRIAL_FILE = HERE.parent / "discovery" / "cohorts" / "examples" / "synthetic_t2d_trial.yaml"
TRIAL = __import__("yaml").safe_load(TRIAL_FILE.read_text())

#: (concept, window start, lower, lower_incl, upper, upper_incl) of the "last value" lab rules
LABS = [(3004410, -365, 7.0, True, 10.5, True), (3030354, -365, 30.0, True, None, None),
        (3038553, -730, 25.0, True, None, None), (3004249, -365, None, None, 160.0, False)]


def _limits(con) -> None:
    con.execute(f"SET memory_limit = '{os.environ.get('BENCH_DUCKDB_MEMORY', '4GB')}'")
    con.execute(f"SET threads = {int(os.environ.get('BENCH_DUCKDB_THREADS', '2'))}")


def run_ours(cdm_dir: Path) -> tuple[np.ndarray, dict]:
    from discovery.cohorts import criteria_from_dict, load_cdm, screen

    t0 = time.perf_counter()
    cdm = load_cdm(cdm_dir, memory_limit=os.environ.get("BENCH_DUCKDB_MEMORY", "4GB"),
                   threads=int(os.environ.get("BENCH_DUCKDB_THREADS", "2")))
    res = screen(cdm, criteria_from_dict(TRIAL))
    ids = np.array(res.eligible_ids(), dtype=np.int64)
    funnel = res.attrition()  # the funnel's records (res.funnel() is the same as a DataFrame)
    return ids, {"seconds": time.perf_counter() - t0, "timings": res.timings,
                 "funnel": [[r["rule"], r["remaining"]] for r in funnel]}


HANDWRITTEN = """
WITH idx AS (
  SELECT o.person_id, max(o.observation_period_end_date) AS d FROM observation_period o
  SEMI JOIN person p ON p.person_id = o.person_id GROUP BY o.person_id),
demo AS (
  SELECT i.person_id, year(i.d) - p.year_of_birth - CASE WHEN p.month_of_birth IS NOT NULL AND (month(i.d) < p.month_of_birth
         OR (month(i.d) = p.month_of_birth AND day(i.d) < coalesce(p.day_of_birth, 1))) THEN 1 ELSE 0 END AS age
  FROM idx i JOIN person p ON p.person_id = i.person_id),
cond AS (
  SELECT c.person_id,
    bool_or(c.condition_concept_id IN (SELECT descendant_concept_id FROM concept_ancestor WHERE ancestor_concept_id = 201820)) AS dm,
    bool_or(c.condition_concept_id IN (SELECT descendant_concept_id FROM concept_ancestor WHERE ancestor_concept_id = 201254)) AS t1d,
    bool_or(c.condition_concept_id IN (SELECT descendant_concept_id FROM concept_ancestor WHERE ancestor_concept_id = 4329847)
            AND c.condition_start_date - i.d >= -180) AS mi,
    bool_or(c.condition_concept_id IN (SELECT descendant_concept_id FROM concept_ancestor WHERE ancestor_concept_id = 316139)) AS hf
  FROM condition_occurrence c JOIN idx i ON i.person_id = c.person_id
  WHERE c.condition_start_date <= i.d GROUP BY c.person_id),
drug AS (
  SELECT d.person_id,
    bool_or(d.drug_concept_id = 1503297 AND d.drug_exposure_start_date - i.d >= -180) AS metformin,
    bool_or(d.drug_concept_id = 1502905 AND d.drug_exposure_start_date - i.d >= -90) AS insulin,
    bool_or(d.drug_concept_id = 1551099 AND d.drug_exposure_start_date - i.d >= -90) AS prednisone
  FROM drug_exposure d JOIN idx i ON i.person_id = d.person_id
  WHERE d.drug_exposure_start_date <= i.d AND d.drug_concept_id IN (1503297, 1502905, 1551099) GROUP BY d.person_id),
meas AS (
  SELECT m.person_id,
    arg_max(m.value_as_number, m.measurement_date * 0 + m.measurement_id) FILTER (WHERE m.measurement_concept_id = 3004410 AND m.measurement_date - i.d >= -365 AND m.value_as_number IS NOT NULL) AS a1c,
    arg_max(m.value_as_number, m.measurement_id) FILTER (WHERE m.measurement_concept_id = 3030354 AND m.measurement_date - i.d >= -365 AND m.value_as_number IS NOT NULL) AS egfr,
    arg_max(m.value_as_number, m.measurement_id) FILTER (WHERE m.measurement_concept_id = 3038553 AND m.measurement_date - i.d >= -730 AND m.value_as_number IS NOT NULL) AS bmi,
    arg_max(m.value_as_number, m.measurement_id) FILTER (WHERE m.measurement_concept_id = 3004249 AND m.measurement_date - i.d >= -365 AND m.value_as_number IS NOT NULL) AS sbp
  FROM measurement m JOIN idx i ON i.person_id = m.person_id
  WHERE m.measurement_date <= i.d AND m.measurement_concept_id IN (3004410, 3030354, 3038553, 3004249) GROUP BY m.person_id)
SELECT d.person_id FROM demo d
JOIN cond c ON c.person_id = d.person_id
JOIN drug g ON g.person_id = d.person_id
JOIN meas m ON m.person_id = d.person_id
WHERE d.age BETWEEN 40 AND 75 AND c.dm AND g.metformin
  AND m.a1c BETWEEN 7.0 AND 10.5 AND m.egfr >= 30 AND m.bmi >= 25 AND m.sbp < 160
  AND NOT c.t1d AND NOT g.insulin AND NOT c.mi AND NOT c.hf AND NOT g.prednisone
ORDER BY d.person_id
"""
# note: "last" = latest by (date, id); in the synthetic CDM ids increase with date within a person's
# measurements of a chunk, and the engine's (date, id) order is checked against this by the identity test.


def run_sql(cdm_dir: Path) -> tuple[np.ndarray, dict]:
    import duckdb

    t0 = time.perf_counter()
    con = duckdb.connect()
    _limits(con)
    for t in ("person", "observation_period", "condition_occurrence", "drug_exposure", "measurement", "concept_ancestor"):
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{cdm_dir / (t + '.parquet')}')")
    q = HANDWRITTEN.replace("arg_max(m.value_as_number, m.measurement_date * 0 + m.measurement_id)",
                            "arg_max(m.value_as_number, m.measurement_id)")
    # latest by (date, id): encode as date_days * 2^40 + id
    q = q.replace("arg_max(m.value_as_number, m.measurement_id)",
                  "arg_max(m.value_as_number, epoch_ms(m.measurement_date::TIMESTAMP)::HUGEINT * 1099511627776 + m.measurement_id)")
    ids = np.array([r[0] for r in con.execute(q).fetchall()], dtype=np.int64)
    return ids, {"seconds": time.perf_counter() - t0}


def run_pandas(cdm_dir: Path) -> tuple[np.ndarray, dict]:
    import pandas as pd

    t0 = time.perf_counter()
    rd = lambda t, cols: pd.read_parquet(cdm_dir / f"{t}.parquet", columns=cols)  # noqa: E731
    person = rd("person", ["person_id", "year_of_birth", "month_of_birth", "day_of_birth"])
    op = rd("observation_period", ["person_id", "observation_period_end_date"])
    op = op[op.person_id.isin(person.person_id)]
    idx = op.groupby("person_id")["observation_period_end_date"].max().rename("idx")
    p = person.set_index("person_id").join(idx, how="inner")
    d = pd.to_datetime(p["idx"])
    before = p.month_of_birth.notna() & ((d.dt.month < p.month_of_birth) | ((d.dt.month == p.month_of_birth) & (d.dt.day < p.day_of_birth.fillna(1))))
    age = d.dt.year - p.year_of_birth - before.astype(int)
    eligible = set(age[(age >= 40) & (age <= 75)].index)
    anc = rd("concept_ancestor", ["ancestor_concept_id", "descendant_concept_id"])
    desc = lambda c: set(anc.loc[anc.ancestor_concept_id == c, "descendant_concept_id"]) | {c}  # noqa: E731

    def events(table, ccol, dcol, concepts, extra=()):
        df = rd(table, ["person_id", ccol, dcol, *extra])
        df = df[df[ccol].isin(concepts)]
        df = df.merge(idx, left_on="person_id", right_index=True)
        df["off"] = (pd.to_datetime(df[dcol]) - pd.to_datetime(df["idx"])).dt.days
        return df[df.off <= 0]

    def within(df, ccol, concepts, lo):
        s = df[df[ccol].isin(concepts)]
        if lo is not None:
            s = s[s.off >= lo]
        return set(s.person_id)

    cond_sets = {k: desc(k) for k in (201820, 201254, 4329847, 316139)}
    co = events("condition_occurrence", "condition_concept_id", "condition_start_date", set().union(*cond_sets.values()))
    dr = events("drug_exposure", "drug_concept_id", "drug_exposure_start_date", {1503297, 1502905, 1551099})
    eligible &= within(co, "condition_concept_id", cond_sets[201820], None)
    eligible &= within(dr, "drug_concept_id", {1503297}, -180)
    me = events("measurement", "measurement_concept_id", "measurement_date", {c for c, *_ in LABS},
                ("value_as_number", "measurement_id"))
    me = me[me.value_as_number.notna()]
    for c, lo_w, lo, lo_inc, hi, hi_inc in LABS:
        s = me[(me.measurement_concept_id == c) & (me.off >= lo_w)].sort_values(["person_id", "measurement_date", "measurement_id"])
        last = s.groupby("person_id")["value_as_number"].last()
        ok = pd.Series(True, index=last.index)
        if lo is not None:
            ok &= (last >= lo) if lo_inc else (last > lo)
        if hi is not None:
            ok &= (last <= hi) if hi_inc else (last < hi)
        eligible &= set(last[ok].index)
    eligible -= within(co, "condition_concept_id", cond_sets[201254], None)
    eligible -= within(dr, "drug_concept_id", {1502905}, -90)
    eligible -= within(co, "condition_concept_id", cond_sets[4329847], -180)
    eligible -= within(co, "condition_concept_id", cond_sets[316139], None)
    eligible -= within(dr, "drug_concept_id", {1551099}, -90)
    return np.array(sorted(eligible), dtype=np.int64), {"seconds": time.perf_counter() - t0}


def write_markdown(out: dict, path: Path, parser_eval: dict | None = None) -> None:
    """``benchmarks/results/cohorts.md``: ratios of the three implementations (and the parser evaluation)."""
    from _bench_utils import fmt_ratio, markdown_table

    m = out["machine"]
    lines = ["## Trial-cohort screening (discovery.cohorts)", "",
             f"Date: {out.get('date', '')}. Machine: {m.get('cpu', '?')}, {m.get('cores', '?')} logical cores, "
             f"{m.get('ram_gib', '?')} GiB RAM, shared with other jobs (load average during the run: "
             f"{out.get('load_average')}), so absolute seconds are noisy; ours and the hand-written query alternate "
             f"{out.get('repeats')} times and medians are compared.", "",
             f"Command: `{out.get('command')}`", "",
             f"Versions: {', '.join(f'{k} {v}' for k, v in out.get('versions', {}).items())}", ""]
    rows = []
    for n, r in out["runs"].items():
        ours, sql, pds = r.get("ours", {}), r.get("sql", {}), r.get("pandas")
        rows.append([f"{int(n):,}", f"{r['events']:,}", f"{ours.get('wall_s')} s", f"{ours.get('peak_rss_gb')} GB",
                     f"{sql.get('wall_s')} s", f"{pds['wall_s']} s ({pds['peak_rss_gb']} GB)" if pds else "not run",
                     fmt_ratio(ours["wall_s"] / sql["wall_s"]), fmt_ratio(pds["wall_s"] / ours["wall_s"]) if pds else "-",
                     "yes" if all(r["identical"].values()) else f"NO {r['identical']}", str(ours.get("n_eligible"))])
    lines.append(markdown_table(["persons", "events", "ours (median wall)", "ours peak RSS", "hand-written DuckDB",
                                 "pandas (peak RSS)", "ours / hand-written", "pandas / ours", "identical eligible sets",
                                 "eligible"], rows))
    big = out["runs"][max(out["runs"], key=int)]
    o, s, p = big["ours"], big["sql"], big.get("pandas")
    goals = [("<= 30 s at 1M persons", o["wall_s"] <= 30), ("<= 6 GB peak RSS", o["peak_rss_gb"] <= 6),
             ("within 1.5x of the hand-written query", o["wall_s"] / s["wall_s"] <= 1.5)]
    if p:
        goals.append((">= 10x faster than pandas", p["wall_s"] / o["wall_s"] >= 10))
    lines += ["", "Goals: " + "; ".join(f"{g}: **{'met' if ok else 'NOT met'}**" for g, ok in goals) + ".", ""]

    def cpu(x):
        runs = [r.get("cpu_s") for r in (x or {}).get("runs", []) if r.get("cpu_s") is not None]
        return float(np.median(runs)) if runs else None

    if cpu(o) and cpu(s):
        lines += [f"CPU seconds (median; less sensitive to the shared machine's load than wall time): ours {cpu(o):.1f}, "
                  f"hand-written {cpu(s):.1f} (ratio {cpu(o) / cpu(s):.2f}x)"
                  + (f", pandas {cpu(p):.1f} (pandas / ours {cpu(p) / cpu(o):.1f}x)" if p and cpu(p) else "") + ". "
                  f"Load average at the start: {out.get('load_average', {}).get('start', ['?'])[0]} on 2 cores. DuckDB "
                  "(ours and the hand-written query) runs 2 threads and pandas 1, so on a quiet machine DuckDB's CPU "
                  "seconds exceed its wall seconds and the CPU-time ratio to pandas is about half the wall-time ratio.", ""]
    lines += [
        "Notes:",
        "",
        "- Ours computes the full per-person x per-criterion evidence table (1M x 12 rows with the deciding record), "
        "the funnel and the eligible set; the hand-written query (one SQL statement, one pass per domain table with "
        "FILTERed aggregates) computes only the eligible set. The three eligible sets are compared element by element.",
        "- The pandas peer reads only the needed columns and filters by concept before grouping (single-threaded, "
        "as pandas is). The hand-written DuckDB floor is "
        + (f"{p['wall_s'] / s['wall_s']:.1f}x faster than pandas here and ours {p['wall_s'] / o['wall_s']:.1f}x, "
           f"{'meeting' if p['wall_s'] / o['wall_s'] >= 10 else 'short of'} the >= 10x goal; ours pays for the "
           "evidence table and the funnel that the floor does not compute." if p else "not compared with pandas here.")
        ,
        "- Run-to-run spread on this machine is large. Before the engine changes of 2026-11-30 evening (literal date "
        "bounds from the earliest and latest index date and the criteria's windows pushed into each domain scan; no "
        "pandas import on the screening path; a perfect hash table for the per-person failure summary) the same "
        "command gave pandas / ours 7.5-9.5x (4.09 s median at best, 1.40x the hand-written query); the hand-written "
        "floor was 11-13x pandas each time. After them, two runs of the command gave 11.2x (18:41, 3.24 s) and "
        "10.9x (19:21, 3.43 s; the table). The floor is kept as written (no date-bound pushdown), so part of the "
        "gap closed here is an optimisation the floor lacks. Medians of 5 repeats (`--repeats 5`) are steadier than "
        "of 3; pandas runs once (36-39 s across runs).",
        "- Wall seconds depend on the load: the same command under heavy load (2026-11-30 11:06, load average 13 on "
        "2 cores) measured ours 31.4 s, the hand-written query 25.8 s (1.22x) and pandas 152.6 s (4.9x).",
        "- Synthetic CDM: `discovery cohorts synth --persons 1000000 --seed 0` (72.2M events: visits, conditions, "
        "drugs, measurements), generated once into benchmarks/_work/ (not timed).",
        "",
    ]
    if parser_eval:
        num, cov = parser_eval["numeric"], parser_eval["coverage"]
        held = parser_eval.get("numeric_heldout")

        def both(label: str, key: str) -> list:
            return [label, num[key], held[key] if held else "not run"]

        lines += ["### Eligibility parser (rule-based)", "",
                  markdown_table(["measure", "Clinical-Trial-Parser gold (lexicon written on it)", "held-out gold"], [
                      ["trials / gold numeric criteria", f"{num['n_trials']} / {num['n_gold']}",
                       f"{held['n_trials']} / {held['n_gold']}" if held else "not run"],
                      both("predicted numeric criteria on those trials", "n_predicted"),
                      both("variable precision", "variable_precision"),
                      both("variable recall", "variable_recall"),
                      both("variable F1", "variable_f1"),
                      both("bounds exact (of matched)", "bounds_accuracy"),
                      both("unit exact (of matched)", "unit_accuracy"),
                      both("inclusivity exact (of matched)", "inclusivity_accuracy"),
                      both("gold criteria fully right (variable, bounds, unit, inclusivity)", "all_correct_recall"),
                  ]), "",
                  markdown_table(["coverage on criteria-lct (no vocabulary)", "value"], [
                      ["texts / items", f"{cov['n_texts']} / {cov['n_items']}"],
                      ["items with >= 1 structured criterion", cov["item_coverage"]],
                      ["texts split into inclusion + exclusion", cov["section_split_rate"]],
                  ]), "",
                  "Held-out gold: `discovery/cohorts/examples/heldout_numeric_gold.tsv`, 49 numeric criteria of 10 "
                  "criteria-lct texts (the first 10 of batch20 with at least three lines stating a numeric comparison), "
                  "annotated by hand with Clinical-Trial-Parser's conventions before the parser was run on them; "
                  "variables the lexicon does not know (cholesterol, LDL, FEV1, pack-years, G8, MoCA, ICDAS, ...) are "
                  "in it on purpose and count as misses. It is the honest estimate for new protocols: what the parser "
                  "extracts is right (precision), but it finds fewer than half of the numeric criteria; everything it "
                  "does not structure is listed for manual review.", "",
                  "Caveats: the variable lexicon was written while reading the Clinical-Trial-Parser gold rows, "
                  "so the precision/recall in its column are optimistic for other protocols. Coverage counts an item as "
                  "structured when at least one fact (age, sex, numeric threshold, or a vocabulary concept) is found; "
                  "without a vocabulary only age, sex and ~40 numeric variables can be found. Matching diagnoses and "
                  "drugs against the small Synthea27Nj vocabulary (2.3k concepts) raises item coverage to 0.19 "
                  "(GiBleed's: 0.17); a full OHDSI vocabulary would raise it further. Everything not structured is "
                  "listed for manual review.", ""]
    path.write_text("\n".join(lines) + "\n")


def parser_evaluation() -> dict:
    """Parser vs the gold and coverage on criteria-lct (from the registry; seconds)."""
    from discovery.cohorts.evaluate import HELDOUT_GOLD, evaluate_numeric, parse_coverage
    from discovery.data import registry
    from discovery.data.fetcher import fetch

    gold = {p.name: p for p in fetch(registry.get("trial-criteria-gold"))}
    lct_root = Path(fetch(registry.get("criteria-lct"))[0]).parents[1]
    return {"numeric": evaluate_numeric(gold["clinical_trials.csv"], gold["cfg_parsed_clinical_trials.tsv"]),
            "numeric_heldout": evaluate_numeric(lct_root, HELDOUT_GOLD),
            "coverage": parse_coverage(lct_root)}


RUNNERS = {"ours": run_ours, "sql": run_sql, "pandas": run_pandas}


def child(args) -> int:
    ids, info = RUNNERS[args.child](Path(args.cdm))
    np.save(args.out, ids)
    Path(args.out).with_suffix(".json").write_text(json.dumps({**info, "n_eligible": int(len(ids))}, default=str))
    return 0


def ensure_cdm(persons: int, seed: int) -> Path:
    from discovery.cohorts.synth import synthesize_cdm

    d = HERE / "_work" / f"cohorts_synth_{persons}_s{seed}"
    if not (d / "manifest.json").exists():
        t = time.perf_counter()
        info = synthesize_cdm(d, persons=persons, seed=seed)
        print(f"synthesised {persons:,} persons, {info['events']:,} events in {time.perf_counter() - t:.1f}s", flush=True)
    return d


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--pandas-persons", type=int, default=None, help="run the pandas peer at this size (default: --persons)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=3, help="interleaved runs of ours and the hand-written query")
    ap.add_argument("--child", choices=sorted(RUNNERS), help=argparse.SUPPRESS)
    ap.add_argument("--cdm", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    ap.add_argument("--results", default=str(HERE / "results" / "cohorts.json"))
    ap.add_argument("--markdown", default=str(HERE / "results" / "cohorts.md"))
    ap.add_argument("--from-json", action="store_true", help="only rewrite the markdown from --results")
    args = ap.parse_args()
    if args.child:
        return child(args)
    from _bench_utils import load_average, machine_info, now_iso, run_measured, versions

    if args.from_json:
        out = json.loads(Path(args.results).read_text())
        out["parser_evaluation"] = out.get("parser_evaluation") or parser_evaluation()
        Path(args.results).write_text(json.dumps(out, indent=2, default=str))
        write_markdown(out, Path(args.markdown), out["parser_evaluation"])
        return 0

    env = {**os.environ, "OMP_NUM_THREADS": "1", "DISCOVERY_DATA_MIRROR": os.environ.get("DISCOVERY_DATA_MIRROR", str(HERE.parent.parent / "shared" / "data")),
           "DISCOVERY_OFFLINE": "1"}
    os.environ.update(env)
    sizes = sorted({args.persons, args.pandas_persons or args.persons})
    out: dict = {"machine": machine_info(), "seed": args.seed, "runs": {}, "date": now_iso(), "repeats": args.repeats,
                 "command": "python " + " ".join(sys.argv), "versions": versions(["duckdb", "pandas", "pyarrow", "numpy"])}
    load_start = load_average()
    work = HERE / "_work" / "cohorts_runs"
    work.mkdir(parents=True, exist_ok=True)
    for n in sizes:
        cdm = ensure_cdm(n, args.seed)
        import duckdb

        con = duckdb.connect()
        events = sum(con.execute(f"SELECT count(*) FROM read_parquet('{cdm / (t + '.parquet')}')").fetchone()[0]
                     for t in ("visit_occurrence", "condition_occurrence", "drug_exposure", "measurement"))
        con.close()
        res = {"persons": n, "events": int(events)}
        which = ["ours", "sql"] + (["pandas"] if n == (args.pandas_persons or args.persons) else [])
        if n != args.persons:
            which = ["ours", "sql", "pandas"]
        ids = {}
        # ours and the hand-written query alternate `--repeats` times (the machine is shared and noisy:
        # medians of interleaved runs); pandas runs once
        order = [nm for _ in range(args.repeats) for nm in which if nm != "pandas"] + [nm for nm in which if nm == "pandas"]
        for name in order:
            o = work / f"{name}_{n}.npy"
            m = run_measured([sys.executable, __file__, "--child", name, "--cdm", str(cdm), "--out", str(o)],
                             log=work / f"{name}_{n}.log", env=env, timeout_s=1800)
            info = json.loads(o.with_suffix(".json").read_text()) if o.with_suffix(".json").exists() else {}
            run = {"wall_s": round(m.wall_s, 2), "cpu_s": round(m.cpu_s, 2), "peak_rss_gb": round(m.peak_rss_mb / 1024, 2),
                   "inner_s": round(info.get("seconds", float("nan")), 2), "n_eligible": info.get("n_eligible"),
                   "returncode": m.returncode}
            if name == "ours":
                run["timings"] = info.get("timings")
            res.setdefault(name, {"runs": []})["runs"].append(run)
            ids[name] = np.load(o) if o.exists() else None
            print(name, n, run, flush=True)
        for name in which:
            runs = res[name]["runs"]
            res[name].update({"wall_s": float(np.median([r["wall_s"] for r in runs])),
                              "wall_s_min": min(r["wall_s"] for r in runs),
                              "peak_rss_gb": max(r["peak_rss_gb"] for r in runs),
                              "n_eligible": runs[-1]["n_eligible"], "returncode": max(r["returncode"] for r in runs)})
        ref = ids["ours"]
        res["identical"] = {k: bool(v is not None and ref is not None and np.array_equal(v, ref)) for k, v in ids.items()}
        out["runs"][str(n)] = res
    out["load_average"] = {"start": load_start, "end": load_average()}
    out["parser_evaluation"] = parser_evaluation()
    Path(args.results).parent.mkdir(parents=True, exist_ok=True)
    Path(args.results).write_text(json.dumps(out, indent=2, default=str))
    write_markdown(out, Path(args.markdown), out["parser_evaluation"])
    print(json.dumps(out["runs"], indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
