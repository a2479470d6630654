"""Report section for ``cohorts.screen`` result folders (and ``cohorts.parser_eval``).

Read from a screen folder (written by ``discovery cohorts screen --out``)::

    funnel.csv            step, rule, section, enabled, remaining, removed, pct_remaining (small cells as "<5")
    rule_counts.csv       rule, section, met, not_met, unknown, passing
    near_misses.csv       person_id, n_failed, n_failed_unknown, failed_rules, rank
    parsed_criteria.json  items with source spans and structured criteria (when parsed from text)
    criteria.yaml         the criteria run
    summary.json          n_initial, n_eligible, warnings, small_cell
    manifest.json         cdm source and version, timings

Counts are shown exactly as the folder stores them: the small-cell rule
(counts 1-4 as "<5" by default) is applied when the folder is written
(``--small-cell`` of ``discovery cohorts screen``), so a report never holds
a number the folder withheld. Near misses list person_id only.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..html import esc, figure, table
from ..references import dataset_references
from ..registry import Reference, ReportOptions, Section, SummaryItem
from ..results import ResultFolder

_REFS = (
    Reference("omop-cdm", "OHDSI. The Book of OHDSI. Observational Health Data Sciences and Informatics, 2021; "
              "OMOP Common Data Model v5.4.", url="https://ohdsi.github.io/TheBookOfOhdsi/"),
    Reference("circe", "OHDSI Circe-be: cohort definition expression and SQL generation (ATLAS cohort definitions).",
              url="https://github.com/OHDSI/circe-be"),
    Reference("duckdb", "Raasveldt, M.; Mühleisen, H. DuckDB: an Embeddable Analytical Database. Proceedings of "
              "SIGMOD 2019, 1981-1984.", doi="10.1145/3299869.3320212"),
    Reference("clinicaltrials-gov", "ClinicalTrials.gov, U.S. National Library of Medicine.", url="https://clinicaltrials.gov/"),
)


def _num(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return 0.0  # "<5": drawn as an empty bar, labelled as stored


def funnel_svg(rows: Sequence[dict[str, str]], width: int = 720) -> str:
    """Horizontal attrition bars (persons remaining after each rule), as inline SVG."""
    bar_h, gap, left, right = 20, 6, 300, 90
    h = len(rows) * (bar_h + gap) + 24
    n0 = max((_num(r.get("remaining")) for r in rows), default=0.0) or 1.0
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {h}" role="img" '
             f'style="max-width:100%;height:auto" font-family="DejaVu Sans, Arial, sans-serif" font-size="11">']
    span = width - left - right
    for i, r in enumerate(rows):
        y = 10 + i * (bar_h + gap)
        rem = _num(r.get("remaining"))
        w = max(1.0, span * rem / n0) if rem > 0 else 0.0
        off = str(r.get("enabled", "True")).lower() == "false"
        colour = "#bbbbbb" if off else ("#D55E00" if r.get("section") == "exclusion" else "#0072B2")
        label = f"{r.get('step')}. {r.get('rule', '')}"[:48]
        parts.append(f'<text x="{left - 6}" y="{y + bar_h * 0.7:.1f}" text-anchor="end">{esc(label)}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}"/>')
        txt = str(r.get("remaining", "")) + (" (off)" if off else "")
        parts.append(f'<text x="{left + w + 4:.1f}" y="{y + bar_h * 0.7:.1f}">{esc(txt)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _screen_part(r: ResultFolder) -> tuple[str, list[SummaryItem], int]:
    summ = r.json("summary.json") or {}
    funnel = r.csv_rows("funnel.csv") or []
    counts = r.csv_rows("rule_counts.csv") or []
    near = r.csv_rows("near_misses.csv") or []
    parsed = r.json("parsed_criteria.json")
    cdm = (r.manifest.get("cdm") or {})
    small = summ.get("small_cell", 5)
    trial = summ.get("trial") or r.config.get("trial") or r.label
    out = [f"<h3>{esc(trial)}</h3>",
           f"<p>OMOP CDM {esc(cdm.get('cdm_version', '?'))} from <code>{esc(cdm.get('source', '?'))}</code>: "
           f"<b>{esc(summ.get('n_eligible_display', summ.get('n_eligible', '?')))}</b> eligible of "
           f"{esc(summ.get('n_initial_display', summ.get('n_initial', '?')))} persons with an index date. Counts from 1 to {int(small) - 1} are shown as "
           f"&lt;{int(small)} (small-cell rule; <code>--small-cell</code> changes it).</p>" if small else
           f"<p>OMOP CDM {esc(cdm.get('cdm_version', '?'))}: <b>{esc(summ.get('n_eligible'))}</b> eligible of "
           f"{esc(summ.get('n_initial'))} persons (small-cell suppression off).</p>"]
    nfig = 0
    if funnel:
        out.append(figure(funnel_svg(funnel), "Attrition funnel: persons remaining after each rule, in rule order "
                          "(blue: inclusion, orange: exclusion, grey: switched off)."))
        nfig += 1
        out.append(table(["step", "rule", "section", "remaining", "removed", "% remaining"],
                         [[f["step"], f["rule"], f["section"], f["remaining"], f["removed"], f.get("pct_remaining", "")]
                          for f in funnel], numeric_from=3, caption="Attrition (ATLAS-style, person level)"))
    if counts:
        out.append(table(["rule", "section", "met", "not met", "unknown", "passing"],
                         [[c["rule"], c["section"], c["met"], c["not_met"], c["unknown"], c["passing"]] for c in counts],
                         numeric_from=2, caption="Per-rule evidence over the whole initial population (order-independent)"))
    if near:
        rows = [[n["rank"], n["person_id"], n["n_failed"], n["n_failed_unknown"], n["failed_rules"]] for n in near[:15]]
        out.append(table(["rank", "person_id", "failed", "of which unknown", "failing rules"], rows, numeric_from=1,
                         caption=f"Near misses: persons failing 1-2 rules, ranked (first 15 of {len(near)}); "
                                 "'unknown' failures are missing data a screening visit could supply"))
    if parsed and parsed.get("items"):
        rows = []
        for it in parsed["items"]:
            crit = "; ".join(_describe(c) for c in it.get("criteria", [])) or "— needs manual review"
            rows.append([it["section"], it["text"], crit])
        out.append(table(["section", "source text", "parsed as"], rows, numeric_from=99,
                         caption=f"Criteria parsed from the eligibility text ({100 * parsed.get('coverage', 0):.0f}% of items structured)"))
    for w in summ.get("warnings", [])[:10]:
        out.append(f'<p class="note">warning: {esc(w)}</p>')
    item = SummaryItem(what=f"Cohort screen · {trial}",
                       headline=f"{summ.get('n_eligible_display', summ.get('n_eligible'))} eligible of "
                                f"{summ.get('n_initial_display', summ.get('n_initial'))}",
                       detail=f"{len(funnel) - 1 if funnel else 0} rules, {len(near)} near misses, OMOP CDM {cdm.get('cdm_version', '?')}")
    return "".join(out), [item], nfig


def _describe(c: dict[str, Any]) -> str:
    k = c.get("kind")
    if k in ("age", "numeric"):
        b = []
        if c.get("lower") is not None:
            b.append((">=" if c.get("lower_incl") else ">") + f" {c['lower']:g}")
        if c.get("upper") is not None:
            b.append(("<=" if c.get("upper_incl") else "<") + f" {c['upper']:g}")
        s = f"{c.get('variable')} {' and '.join(b)}" + (f" {c['unit']}" if c.get("unit") and k != "age" else "")
    elif k == "sex":
        s = "sex: " + "/".join(c.get("sex") or [])
    else:
        s = f"{c.get('domain')}: {c.get('variable')} (concepts {', '.join(str(x) for x in (c.get('concept_ids') or [])[:3])})"
    if c.get("window_days"):
        s += f", within {c['window_days']} days"
    elif c.get("history"):
        s += ", any time before"
    return s


def _eval_part(r: ResultFolder) -> tuple[str, list[SummaryItem]]:
    ev = r.json("evaluation.json") or {}
    num, cov = ev.get("numeric", {}), ev.get("coverage", {})
    rows = [[k.replace("_", " "), num.get(k)] for k in ("n_gold", "n_predicted", "n_matched", "variable_precision",
                                                        "variable_recall", "bounds_accuracy", "unit_accuracy",
                                                        "inclusivity_accuracy", "all_correct_recall")]
    rows += [[f"LCT {k.replace('_', ' ')}", cov.get(k)] for k in ("n_texts", "n_items", "item_coverage", "section_split_rate")]
    html = "<h3>Eligibility parser evaluation</h3>" + table(["measure", "value"], rows)
    return html, [SummaryItem(what="Criteria parser vs 64 gold numeric criteria",
                              headline=f"P {num.get('variable_precision')} / R {num.get('variable_recall')}",
                              detail=f"bounds {num.get('bounds_accuracy')}, coverage on LCT {cov.get('item_coverage')}")]


def build_section(results: Sequence[ResultFolder], options: ReportOptions) -> Section:
    """One section for every ``cohorts.*`` result folder."""
    parts: list[str] = []
    summary: list[SummaryItem] = []
    nfig = 0
    refs = list(_REFS)
    for r in results:
        if r.kind == "cohorts.synth":
            mt = r.manifest.get("metrics") or {}
            tabs = mt.get("tables") or {}
            parts.append(f"<h3>Synthetic OMOP CDM</h3><p>{esc(mt.get('persons'))} persons, {esc(mt.get('events'))} events "
                         f"(seed {esc(mt.get('seed'))}; written by <code>discovery cohorts synth</code>): "
                         + ", ".join(f"{esc(t)} {esc(n)}" for t, n in tabs.items()) + ".</p>")
            summary.append(SummaryItem(what="Synthetic OMOP CDM", headline=f"{mt.get('persons')} persons",
                                       detail=f"{mt.get('events')} events, seed {mt.get('seed')}"))
            refs += [x for x in dataset_references("synthea27nj")[1] if x.key not in {y.key for y in refs}]
            continue
        if r.kind == "cohorts.parser_eval":
            h, s = _eval_part(r)
            parts.append(h)
            summary += s
            continue
        h, s, n = _screen_part(r)
        parts.append(h)
        summary += s
        nfig += n
        src = str((r.manifest.get("cdm") or {}).get("source", ""))
        for name in ("synthea27nj", "mimic-iv-demo-omop", "gibleed"):
            if name.replace("-omop", "") in src.lower() or name in src.lower():
                _, drefs, _ = dataset_references(name)
                refs += [d for d in drefs if d.key not in {x.key for x in refs}]
    methods = ("Patients were screened in the OMOP Common Data Model [@omop-cdm] with DuckDB [@duckdb]: criteria "
               "in the style of OHDSI Circe/ATLAS cohort definitions [@circe] (concept sets with descendants, windows "
               "relative to an index date, occurrence counts, value thresholds, nested groups) were compiled into SQL "
               "scanning each domain table once; each person received met / not met / unknown per criterion with the "
               "deciding record, and attrition was computed in rule order. Eligibility texts from ClinicalTrials.gov "
               "[@clinicaltrials-gov] were parsed by rules, each structured criterion keeping its source span.")
    only_eval = all(r.kind == "cohorts.parser_eval" for r in results)
    if all(r.kind == "cohorts.synth" for r in results):
        return Section(id="cohorts-synth", title="Synthetic OMOP CDMs", html="".join(parts), summary=summary,
                       methods="Synthetic OMOP CDMs were generated with discovery.cohorts.synth (NumPy, fixed seed), "
                       "with unit concepts from the Synthea27Nj vocabulary [@data:synthea].",
                       references=refs)
    return Section(id="cohorts-parser" if only_eval else "cohorts",
                   title="Eligibility criteria parser" if only_eval else "Trial-cohort screening",
                   html="".join(parts), summary=summary,
                   methods=methods, references=refs, n_figures=nfig)
