"""Screening engine: criteria -> DuckDB SQL -> per-patient, per-criterion evidence.

The plan:

1. **Index dates** (one row per person in the initial population).
2. **Concept sets** are expanded (descendants, exclusions) into one small
   membership table per domain: ``(leaf_id, concept_id)``.
3. **One scan per domain table**: every occurrence criterion over, say,
   ``measurement`` is answered by a single query that joins the table with the
   membership table and the index dates, keeps records inside each criterion's
   window and aggregates per ``(person, criterion)``: record counts, the count
   within value bounds and the latest deciding record (date, id, value, unit,
   concept).
4. Demographics (age at index, sex) come from one scan of ``person``.
5. Groups (ALL / ANY / AT LEAST k) are combined bottom-up with three-valued
   logic (met / not met / unknown) from their children's evidence.
6. Top-level rules become a pass/fail matrix (inclusion passes when met,
   exclusion when not met; unknowns by ``if_unknown``). The eligible cohort,
   the attrition funnel (rule order) and near misses are computed from that
   matrix alone, so :meth:`ScreenResult.with_rules` toggles rules without
   touching the CDM tables again.

Statuses are coded 1 = met, 0 = not met, 2 = unknown in the DuckDB tables and
``"met"``/``"not_met"``/``"unknown"`` in DataFrames.
"""

from __future__ import annotations

import itertools
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from ..errors import InputError
from .criteria import (
    AgeCriterion,
    GroupCriterion,
    OccurrenceCriterion,
    SexCriterion,
    TrialCriteria,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .io import Cdm

log = logging.getLogger(__name__)

STATUS_NAMES = {1: "met", 0: "not_met", 2: "unknown"}
_RUN_IDS = itertools.count(1)


@dataclass(frozen=True)
class DomainTable:
    """Where a criterion type's records live."""

    table: str
    concept: str
    date: str
    record_id: str | None
    value: str | None = None
    unit: str | None = None


#: criterion type -> candidate tables, first present wins (eras stand in for occurrences).
DOMAIN_TABLES: dict[str, tuple[DomainTable, ...]] = {
    "condition": (DomainTable("condition_occurrence", "condition_concept_id", "condition_start_date", "condition_occurrence_id"),
                  DomainTable("condition_era", "condition_concept_id", "condition_era_start_date", "condition_era_id")),
    "drug": (DomainTable("drug_exposure", "drug_concept_id", "drug_exposure_start_date", "drug_exposure_id"),
             DomainTable("drug_era", "drug_concept_id", "drug_era_start_date", "drug_era_id")),
    "procedure": (DomainTable("procedure_occurrence", "procedure_concept_id", "procedure_date", "procedure_occurrence_id"),),
    "measurement": (DomainTable("measurement", "measurement_concept_id", "measurement_date", "measurement_id",
                                "value_as_number", "unit_concept_id"),),
    "observation": (DomainTable("observation", "observation_concept_id", "observation_date", "observation_id",
                                "value_as_number", "unit_concept_id"),),
    "visit": (DomainTable("visit_occurrence", "visit_concept_id", "visit_start_date", "visit_occurrence_id"),),
    "device": (DomainTable("device_exposure", "device_concept_id", "device_exposure_start_date", "device_exposure_id"),),
    "death": (DomainTable("death", "cause_concept_id", "death_date", None),),
}


#: key bits up to which the per-person failure summary may use a perfect hash table (2^21 slots)
PERFECT_HT_BITS = 21

#: concept sets up to this size are also written into the domain scan as a literal IN list
INLINE_CONCEPTS = 5000


def domain_table(cdm: "Cdm", kind: str) -> DomainTable | None:
    """The table answering criteria of ``kind`` in this CDM, or None when it has none."""
    for t in DOMAIN_TABLES[kind]:
        if cdm.has(t.table) and all(c is None or cdm.has_column(t.table, c) for c in (t.concept, t.date, t.value, t.unit)):
            return t
    return None


@dataclass
class _Node:
    node_id: int
    crit: Any
    path: str
    section: str
    rule_idx: int | None  # top-level rule index (0-based) or None for nested
    parent: int | None
    children: list[int] = field(default_factory=list)


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


class Screener:
    """Compile :class:`TrialCriteria` against one CDM and run it.

    Parameters
    ----------
    cdm : Cdm
    criteria : TrialCriteria
    strict_concepts : bool
        Unknown concept ids (absent from both the vocabulary and the data)
        raise :class:`InputError` naming the criterion; with False they are
        warnings.
    """

    def __init__(self, cdm: "Cdm", criteria: TrialCriteria, *, strict_concepts: bool = True) -> None:
        self.cdm = cdm
        self.criteria = criteria
        self.strict_concepts = strict_concepts
        self.warnings: list[str] = []
        self.prefix = f"_scr{next(_RUN_IDS)}_"
        self.fail_tables: set[str] = set()
        self.index_span: list | None = None  # [earliest, latest] index date, set by run()
        self.nodes: list[_Node] = []
        self._build_nodes()

    # -- plan ------------------------------------------------------------------
    def _build_nodes(self) -> None:
        def add(crit: Any, path: str, section: str, rule_idx: int | None, parent: int | None) -> int:
            node = _Node(len(self.nodes), crit, path, section, rule_idx, parent)
            self.nodes.append(node)
            if isinstance(crit, GroupCriterion):
                for i, ch in enumerate(crit.criteria, 1):
                    node.children.append(add(ch, f"{path} > {ch.name or f'#{i}'}", section, None, node.node_id))
            return node.node_id

        for idx, (sec, rule) in enumerate(zip(self.criteria.sections(), self.criteria.rules)):
            add(rule, rule.name or f"{sec} {idx + 1}", sec, idx, None)

    def concept_ids(self, crit: OccurrenceCriterion | Any) -> tuple[set[int], list[int]]:
        """Expanded concept ids of a criterion (or index rule) and the ids it names directly."""
        if getattr(crit, "concept_set", None) is not None:
            cs = self.criteria.concept_set(crit.concept_set)
            items = cs.items
        else:
            from .criteria import ConceptItem

            items = [ConceptItem(concept_id=c, include_descendants=crit.include_descendants) for c in crit.concepts or []]
        vocab = self.cdm.vocab
        inc: set[int] = set()
        exc: set[int] = set()
        for it in items:
            ids = vocab.descendants([it.concept_id]) if it.include_descendants else {it.concept_id}
            (exc if it.exclude else inc).update(ids)
        return inc - exc, [it.concept_id for it in items]

    def _check_concepts(self, label: str, kind: str, named: list[int]) -> None:
        vocab = self.cdm.vocab
        missing = vocab.missing(named)
        if not missing:
            return
        tab = domain_table(self.cdm, kind) if kind in DOMAIN_TABLES else None
        in_data: set[int] = set()
        if tab is not None:
            rows = self.cdm.con.execute(
                f"SELECT DISTINCT {tab.concept} FROM {self.cdm.table(tab.table)} WHERE {tab.concept} IN (SELECT unnest(?::BIGINT[]))",
                [missing]).fetchall()
            in_data = {int(r[0]) for r in rows}
        unknown = [c for c in missing if c not in in_data]
        in_hier = {c for c in unknown if len(vocab.descendants([c])) > 1}
        if in_hier:
            self.warnings.append(f"criterion '{label}': concept id(s) {sorted(in_hier)} are not in the concept table but "
                                 "have descendants in the hierarchy; used through their descendants")
            unknown = [c for c in unknown if c not in in_hier]
        if in_data:
            self.warnings.append(f"criterion '{label}': concept id(s) {sorted(in_data)} are in the data but not in the "
                                 "vocabulary; descendants cannot be expanded for them")
        if unknown:
            msg = (f"criterion '{label}': unknown concept id(s) {unknown}: in neither the concept table nor the "
                   f"{tab.table if tab else kind} records")
            if self.strict_concepts:
                raise InputError(msg, file=self.cdm.source, value=unknown[0],
                                 hint="check the id (Vocabulary.search / by_code) or pass strict_concepts=False")
            self.warnings.append(msg)

    # -- execution -----------------------------------------------------------------
    def run(self) -> "ScreenResult":
        t0 = time.perf_counter()
        timings: dict[str, float] = {}
        con = self.cdm.con
        P = self.prefix
        self._make_index()
        timings["index"] = time.perf_counter() - t0
        n0, self.index_span = con.execute(f"SELECT count(*), [min(index_date)::DATE, max(index_date)::DATE] FROM {P}idx").fetchone()
        if n0 == 0:
            rule = self.criteria.index
            span = ""
            if self.cdm.has("observation_period"):
                lo, hi = con.execute("SELECT min(observation_period_start_date), max(observation_period_end_date) "
                                     f"FROM {self.cdm.table('observation_period')}").fetchone()
                span = f" (observation periods span {lo} to {hi})"
            what = f"fixed date {rule.date}" if rule.type == "fixed" else rule.type
            self.warnings.append(f"index rule '{what}' gives no person an index date{span}: the initial population is empty")

        con.execute(f"CREATE OR REPLACE TEMP TABLE {P}node (person_id BIGINT, node_id INTEGER, status UTINYINT, "
                    "n_records BIGINT, record_id BIGINT, record_date DATE, value DOUBLE, unit_concept_id BIGINT, concept_id BIGINT)")
        # demographics
        t = time.perf_counter()
        demo = [n for n in self.nodes if isinstance(n.crit, (AgeCriterion, SexCriterion))]
        if demo:
            self._run_demographics(demo)
        timings["demographics"] = time.perf_counter() - t
        # occurrence criteria, one scan per domain table
        by_table: dict[str, list[_Node]] = {}
        missing_tab: list[_Node] = []
        for n in self.nodes:
            if isinstance(n.crit, OccurrenceCriterion):
                tab = domain_table(self.cdm, n.crit.type)
                if tab is None:
                    missing_tab.append(n)
                else:
                    by_table.setdefault(tab.table, []).append(n)
        for n in missing_tab:
            tables = " or ".join(t.table for t in DOMAIN_TABLES[n.crit.type])
            self.warnings.append(f"criterion '{n.path}': the CDM has no {tables} table; evaluated as unknown")
            con.execute(f"INSERT INTO {P}node (person_id, node_id, status, n_records) SELECT person_id, {n.node_id}, 2, 0 FROM {P}idx")
        for table, nodes in by_table.items():
            t = time.perf_counter()
            self._run_domain(domain_table(self.cdm, nodes[0].crit.type), nodes)
            timings[f"scan_{table}"] = time.perf_counter() - t
        # groups bottom-up (children have larger ids than their parent)
        t = time.perf_counter()
        for n in sorted((n for n in self.nodes if isinstance(n.crit, GroupCriterion)), key=lambda n: -n.node_id):
            self._run_group(n)
        timings["groups"] = time.perf_counter() - t
        # top-level pass matrix
        t = time.perf_counter()
        self._make_rules()
        timings["rules"] = time.perf_counter() - t
        timings["total"] = time.perf_counter() - t0
        return ScreenResult(self, enabled=[True] * len(self.criteria.rules), timings=timings)

    def _make_index(self) -> None:
        con, P, cdm = self.cdm.con, self.prefix, self.cdm
        rule = self.criteria.index
        op = cdm.table("observation_period") if cdm.has("observation_period") else None
        if rule.type in ("observation_end", "observation_start") or (rule.type == "fixed" and rule.require_observation):
            if op is None:
                raise InputError(f"index rule '{rule.type}' needs the observation_period table", file=cdm.source,
                                 hint="use index: {type: fixed, date: YYYY-MM-DD, require_observation: false}")
        if rule.type == "observation_end":
            q = f"SELECT person_id, max(observation_period_end_date) AS index_date FROM {op} GROUP BY person_id"
        elif rule.type == "observation_start":
            q = f"SELECT person_id, min(observation_period_start_date) AS index_date FROM {op} GROUP BY person_id"
        elif rule.type == "fixed":
            d = f"DATE '{rule.date.isoformat()}'"
            if rule.require_observation:
                q = (f"SELECT DISTINCT person_id, {d} AS index_date FROM {op} "
                     f"WHERE observation_period_start_date <= {d} AND observation_period_end_date >= {d}")
            else:
                q = f"SELECT person_id, {d} AS index_date FROM {cdm.table('person')}"
        else:
            tab = domain_table(cdm, rule.domain)
            if tab is None:
                raise InputError(f"index rule needs a {rule.domain} table, which the CDM lacks", file=cdm.source)
            ids, named = self.concept_ids(rule)
            self._check_concepts("index", rule.domain, named)
            agg = "min" if rule.type == "first_event" else "max"
            q = (f"SELECT d.person_id, {agg}(d.{tab.date}) AS index_date FROM {cdm.table(tab.table)} d "
                 f"WHERE d.{tab.concept} IN (SELECT unnest(?::BIGINT[])) GROUP BY d.person_id")
            con.execute(f"CREATE OR REPLACE TEMP TABLE {P}idx AS SELECT i.* FROM ({q}) i "
                        f"SEMI JOIN {cdm.table('person')} p ON p.person_id = i.person_id WHERE index_date IS NOT NULL",
                        [sorted(ids)])
            if rule.require_observation and op is not None:
                con.execute(f"DELETE FROM {P}idx WHERE NOT EXISTS (SELECT 1 FROM {op} o WHERE o.person_id = {P}idx.person_id "
                            f"AND o.observation_period_start_date <= {P}idx.index_date AND o.observation_period_end_date >= {P}idx.index_date)")
            return
        con.execute(f"CREATE OR REPLACE TEMP TABLE {P}idx AS SELECT i.* FROM ({q}) i "
                    f"SEMI JOIN {cdm.table('person')} p ON p.person_id = i.person_id WHERE index_date IS NOT NULL")

    def _run_demographics(self, nodes: list[_Node]) -> None:
        con, P = self.cdm.con, self.prefix
        person = self.cdm.table("person")
        has_m = self.cdm.has_column("person", "month_of_birth")
        has_d = self.cdm.has_column("person", "day_of_birth")
        dob = "coalesce(p.day_of_birth, 1)" if has_d else "1"
        age = "year(i.index_date) - p.year_of_birth"
        if has_m:
            age += (f" - CASE WHEN p.month_of_birth IS NOT NULL AND (month(i.index_date) < p.month_of_birth OR "
                    f"(month(i.index_date) = p.month_of_birth AND day(i.index_date) < {dob})) THEN 1 ELSE 0 END")
        cols = []
        for n in nodes:
            c = n.crit
            if isinstance(c, AgeCriterion):
                conds = []
                for op, v in ((">", c.gt), (">=", c.gte), ("<", c.lt), ("<=", c.lte)):
                    if v is not None:
                        conds.append(f"age {op} {float(v)!r}")
                cols.append(f"{n.node_id} AS nid{n.node_id}_id, CASE WHEN age IS NULL THEN 2 WHEN {' AND '.join(conds)} "
                            f"THEN 1 ELSE 0 END AS s{n.node_id}, age AS v{n.node_id}, NULL::BIGINT AS c{n.node_id}")
            else:
                ids = ", ".join(str(i) for i in c.concept_ids)
                cols.append(f"{n.node_id} AS nid{n.node_id}_id, CASE WHEN gender_concept_id IN ({ids}) THEN 1 "
                            "WHEN gender_concept_id IS NULL OR gender_concept_id NOT IN (8507, 8532) THEN 2 ELSE 0 END "
                            f"AS s{n.node_id}, NULL::DOUBLE AS v{n.node_id}, gender_concept_id AS c{n.node_id}")
        base = (f"SELECT i.person_id, i.index_date, p.gender_concept_id, "
                f"CASE WHEN p.year_of_birth IS NULL THEN NULL ELSE {age} END AS age "
                f"FROM {P}idx i LEFT JOIN {person} p ON p.person_id = i.person_id")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {P}demo AS SELECT person_id, {', '.join(cols)} FROM ({base})")
        for n in nodes:
            con.execute(f"INSERT INTO {P}node (person_id, node_id, status, n_records, value, concept_id) "
                        f"SELECT person_id, {n.node_id}, s{n.node_id}, NULL, v{n.node_id}, c{n.node_id} FROM {P}demo")
        con.execute(f"DROP TABLE {P}demo")

    def _run_domain(self, tab: DomainTable, nodes: list[_Node]) -> None:
        con, P, cdm = self.cdm.con, self.prefix, self.cdm
        members = []
        params = []
        convs = []  # (node_id, unit, factor): values in `unit` are multiplied by `factor` before comparing
        for n in nodes:
            c: OccurrenceCriterion = n.crit
            if c.type == "death" and c.concept_set is None and c.concepts is None:
                ids: set[int] = set()
            else:
                ids, named = self.concept_ids(c)
                self._check_concepts(n.path, c.type, named)
            members.extend((n.node_id, i) for i in sorted(ids))
            if c.units and c.value is not None and c.convert_units:
                from .units import conversions

                for u, f in conversions(c.units[0], ids).items():
                    if u not in c.units:
                        convs.append((n.node_id, u, f))
            lo_c, hi_c = c.count.range
            v = c.value
            vlo, vlo_inc = v.lower if v else (None, True)
            vhi, vhi_inc = v.upper if v else (None, True)
            params.append(dict(node_id=n.node_id, win_lo=c.window.start, win_hi=c.window.end,
                               has_value=v is not None, use_last=c.use == "last",
                               v_lo=vlo, v_lo_inc=vlo_inc, v_hi=vhi, v_hi_inc=vhi_inc,
                               units=[int(u) for u in c.units] if c.units else None,
                               c_lo=lo_c, c_hi=hi_c, any_concept=(c.type == "death" and not ids)))
        # the two small parameter tables are built in DuckDB directly (no pandas on the screening path)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {P}mem AS SELECT unnest(?::INTEGER[]) AS node_id, "
                    "unnest(?::BIGINT[]) AS concept_id", [[m[0] for m in members], [m[1] for m in members]])
        con.execute(f"CREATE OR REPLACE TEMP TABLE {P}par (node_id INTEGER, win_lo INTEGER, win_hi INTEGER, "
                    "has_value BOOLEAN, use_last BOOLEAN, v_lo DOUBLE, v_lo_inc BOOLEAN, v_hi DOUBLE, v_hi_inc BOOLEAN, "
                    "units BIGINT[], c_lo BIGINT, c_hi BIGINT, any_concept BOOLEAN)")
        con.executemany(f"INSERT INTO {P}par VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            [p["node_id"], p["win_lo"], p["win_hi"], p["has_value"], p["use_last"],
             None if p["v_lo"] is None else float(p["v_lo"]), bool(p["v_lo_inc"]),
             None if p["v_hi"] is None else float(p["v_hi"]), bool(p["v_hi_inc"]),
             p["units"], int(p["c_lo"]), p["c_hi"], p["any_concept"]] for p in params])
        if convs:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {P}conv (node_id INTEGER, unit BIGINT, f DOUBLE)")
            con.executemany(f"INSERT INTO {P}conv VALUES (?, ?, ?)", convs)
        val = f"d.{tab.value}" if tab.value else "NULL::DOUBLE"
        unit = f"d.{tab.unit}" if tab.unit else "NULL::BIGINT"
        rid = f"d.{tab.record_id}" if tab.record_id and cdm.has_column(tab.table, tab.record_id) else "NULL::BIGINT"
        any_nodes = [p["node_id"] for p in params if p["any_concept"]]
        if any_nodes:  # death without a cause concept set: every death record counts
            src = (f"SELECT d.person_id, n.node_id, d.{tab.date} AS dt, {rid} AS rid, {val} AS v, {unit} AS u, "
                   f"d.{tab.concept} AS cid FROM {cdm.table(tab.table)} d CROSS JOIN (SELECT unnest(?::INTEGER[]) AS node_id) n "
                   f"UNION ALL ")
            qparams: list[Any] = [any_nodes]
        else:
            src, qparams = "", []
        src += (f"SELECT d.person_id, m.node_id, d.{tab.date} AS dt, {rid} AS rid, {val} AS v, {unit} AS u, "
                f"d.{tab.concept} AS cid FROM {cdm.table(tab.table)} d JOIN {P}mem m ON d.{tab.concept} = m.concept_id")
        where = []
        all_ids = sorted({i for _, i in members})
        if 0 < len(all_ids) <= INLINE_CONCEPTS:
            # a literal IN list is pushed into the Parquet scan (row-group statistics, filter before the
            # other columns are read); the join alone filters only after every row is materialised
            where.append(f"d.{tab.concept} IN ({', '.join(str(i) for i in all_ids)})")
        # the union of the criteria's windows around the earliest and latest index date, as literal date
        # bounds: records no criterion can reach are dropped in the scan, before the join with the index dates
        los, his = [p["win_lo"] for p in params], [p["win_hi"] for p in params]
        first_idx, last_idx = self.index_span or (None, None)
        if first_idx is not None and all(v is not None for v in los):
            where.append(f"d.{tab.date} >= DATE '{first_idx.isoformat()}' + {int(min(los))}")
        if last_idx is not None and all(v is not None for v in his):
            where.append(f"d.{tab.date} < DATE '{last_idx.isoformat()}' + {int(max(his)) + 1}")  # whole last day
        if where:
            src += " WHERE " + " AND ".join(where)
        if convs:  # the value compared: as recorded in a listed unit, else converted, else not comparable
            cv = "(CASE WHEN p.units IS NULL OR list_contains(p.units, e.u) THEN e.v ELSE e.v * k.f END)"
            conv_join = f"LEFT JOIN {P}conv k ON k.node_id = e.node_id AND k.unit = e.u"
        else:
            cv = "(CASE WHEN p.units IS NULL OR list_contains(p.units, e.u) THEN e.v END)"
            conv_join = ""
        valued = f"({cv} IS NOT NULL)"
        ok = (f"({valued} AND (p.v_lo IS NULL OR {cv} > p.v_lo OR (p.v_lo_inc AND {cv} = p.v_lo)) "
              f"AND (p.v_hi IS NULL OR {cv} < p.v_hi OR (p.v_hi_inc AND {cv} = p.v_hi)))")
        # ordering key of the deciding record: latest (date, record id); for 'any' value criteria an in-bounds
        # record outranks every out-of-bounds one (bonus 2^100), so arg_max picks the latest qualifying record
        # when there is one, else the latest valued one; records without a usable value never decide a value
        # criterion (NULL key).
        # the union of the criteria's windows, applied before the join with the per-criterion parameters
        span = []
        if all(v is not None for v in los):
            span.append(f"s.dt - i.index_date >= {int(min(los))}")
        if all(v is not None for v in his):
            span.append(f"s.dt - i.index_date <= {int(max(his))}")
        span_sql = f" WHERE {' AND '.join(span)}" if span else ""
        key = ("((e.dt - DATE '1970-01-01')::HUGEINT * 18446744073709551616 + coalesce(e.rid, 0)::HUGEINT "
               "+ 9223372036854775808 + CASE WHEN e.ok AND NOT p.use_last THEN 1267650600228229401496703205376::HUGEINT "
               "ELSE 0 END)").replace("p.use_last", "e.use_last")
        dk = f"CASE WHEN NOT e.has_value THEN {key} WHEN e.valued THEN {key} END"
        agg = f"""
            SELECT e.person_id, e.node_id, count(*) AS n_win,
                   count(*) FILTER (WHERE e.valued) AS n_valued,
                   count(*) FILTER (WHERE e.ok) AS n_ok,
                   arg_max({{'dt': e.dt, 'rid': e.rid, 'v': e.v, 'u': e.u, 'cid': e.cid, 'ok': e.ok}}, {dk}) AS rec
            FROM (SELECT e.*, p.has_value, p.use_last, {valued} AS valued, {ok} AS ok
                  FROM (SELECT s.*, s.dt - i.index_date AS off FROM ({src}) s JOIN {P}idx i ON s.person_id = i.person_id{span_sql}) e
                  JOIN {P}par p ON p.node_id = e.node_id {conv_join}
                  WHERE (p.win_lo IS NULL OR e.off >= p.win_lo) AND (p.win_hi IS NULL OR e.off <= p.win_hi)) e
            GROUP BY e.person_id, e.node_id"""
        status = """CASE
              WHEN NOT p.has_value THEN (CASE WHEN coalesce(a.n_win, 0) >= p.c_lo AND (p.c_hi IS NULL OR coalesce(a.n_win, 0) <= p.c_hi) THEN 1 ELSE 0 END)
              WHEN coalesce(a.n_valued, 0) = 0 THEN 2
              WHEN p.use_last THEN (CASE WHEN a.rec.ok THEN 1 ELSE 0 END)
              ELSE (CASE WHEN a.n_ok >= p.c_lo AND (p.c_hi IS NULL OR a.n_ok <= p.c_hi) THEN 1 ELSE 0 END) END"""
        nrec = "CASE WHEN p.has_value AND NOT p.use_last THEN coalesce(a.n_ok, 0) ELSE coalesce(a.n_win, 0) END"
        con.execute(f"""
            INSERT INTO {P}node
            SELECT person_id, node_id, status, nrec, rr.rid, rr.dt, rr.v, rr.u, rr.cid FROM (
                SELECT i.person_id, p.node_id, ({status})::UTINYINT AS status, {nrec} AS nrec, a.rec AS rr
                FROM {P}idx i CROSS JOIN {P}par p
                LEFT JOIN ({agg}) a ON a.person_id = i.person_id AND a.node_id = p.node_id)
        """, qparams)
        con.execute(f"DROP TABLE {P}mem; DROP TABLE {P}par; DROP TABLE IF EXISTS {P}conv")

    def _run_group(self, n: _Node) -> None:
        con, P = self.cdm.con, self.prefix
        g: GroupCriterion = n.crit
        kids = ", ".join(str(c) for c in n.children)
        need = g.needed
        total = len(n.children)
        order = "CASE node_id " + " ".join(f"WHEN {c} THEN {i}" for i, c in enumerate(n.children)) + " END"
        con.execute(f"""
            INSERT INTO {P}node
            SELECT person_id, {n.node_id},
                   (CASE WHEN n_met >= {need} THEN 1 WHEN n_met + n_unk < {need} THEN 0 ELSE 2 END)::UTINYINT,
                   n_met, r.rid, r.dt, r.v, r.u, r.cid
            FROM (SELECT person_id,
                         count(*) FILTER (WHERE status = 1) AS n_met,
                         count(*) FILTER (WHERE status = 2) AS n_unk,
                         arg_min({{'rid': record_id, 'dt': record_date, 'v': value, 'u': unit_concept_id, 'cid': concept_id}}, {order})
                             FILTER (WHERE status = 1) AS r
                  FROM {P}node WHERE node_id IN ({kids}) GROUP BY person_id) AS x(person_id, n_met, n_unk, r)
        """)
        if total == 0:  # pragma: no cover - pydantic forbids empty groups
            return

    def _make_rules(self) -> None:
        con, P = self.cdm.con, self.prefix
        rows = []
        for n in self.nodes:
            if n.rule_idx is None:
                continue
            unknown_pass = (n.crit.if_unknown or ("pass" if n.section == "exclusion" else "fail")) == "pass"
            rows.append(f"({n.node_id}, {n.rule_idx}, {str(n.section == 'inclusion').lower()}, {str(unknown_pass).lower()})")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {P}rulemap (node_id INTEGER, rule_idx INTEGER, inclusion BOOLEAN, unknown_pass BOOLEAN)")
        con.execute(f"INSERT INTO {P}rulemap VALUES {', '.join(rows)}") if rows else None
        con.execute(f"""CREATE OR REPLACE TEMP VIEW {P}rule AS
            SELECT n.person_id, m.rule_idx, n.status,
                   CASE WHEN n.status = 2 THEN m.unknown_pass
                        WHEN m.inclusion THEN n.status = 1 ELSE n.status = 0 END AS passes
            FROM {P}node n JOIN {P}rulemap m USING (node_id)""")


class ScreenResult:
    """Evidence, eligible cohort, attrition funnel and near misses of one screen.

    Everything here is computed from the evidence tables the screen wrote to
    the CDM's DuckDB connection (temporary tables ``_scrN_*``); toggling rules
    with :meth:`with_rules` never reads the CDM tables again.
    """

    def __init__(self, screener: Screener, enabled: list[bool], timings: dict[str, float] | None = None) -> None:
        self._s = screener
        self.criteria = screener.criteria
        self.enabled = list(enabled)
        self.timings = dict(timings or {})
        self.warnings = screener.warnings
        self.rule_names = [r.name or "" for r in self.criteria.rules]
        self.sections = self.criteria.sections()

    @property
    def con(self):
        return self._s.cdm.con

    @property
    def _P(self) -> str:
        return self._s.prefix

    # -- toggling ------------------------------------------------------------------
    def with_rules(self, *, disable: Iterable[str] = (), enable: Iterable[str] | None = None) -> "ScreenResult":
        """A result with some rules switched off (or only ``enable`` on), recomputed from the evidence table.

        Raises
        ------
        InputError
            A name that is not a rule.
        """
        disable = set(disable)
        names = set(self.rule_names)
        for nm in disable | set(enable or ()):
            if nm not in names:
                raise InputError("no such rule", value=nm, hint=f"rules: {', '.join(self.rule_names)}")
        if enable is not None:
            flags = [n in set(enable) and n not in disable for n in self.rule_names]
        else:
            flags = [e and n not in disable for e, n in zip(self.enabled, self.rule_names)]
        return ScreenResult(self._s, flags, self.timings)

    def _fails(self) -> str:
        """Name of a temp table: one row per person failing >= 1 enabled rule (first failing rule, counts, list).

        Built once per set of enabled rules from the rule table alone (never from the CDM).
        """
        import hashlib

        tag = hashlib.sha1("".join("1" if e else "0" for e in self.enabled).encode()).hexdigest()[:12]
        name = f"{self._P}fail_{tag}"
        if name not in self._s.fail_tables:
            # person ids usually span a small range: a perfect (direct-index) hash table for this one
            # group-by is ~25% faster at 1M persons; DuckDB falls back by itself when the range is wide
            prev = self.con.execute("SELECT current_setting('perfect_ht_threshold')").fetchone()[0]
            self.con.execute(f"SET perfect_ht_threshold = {max(int(prev), PERFECT_HT_BITS)}")
            try:
                self.con.execute(f"""CREATE OR REPLACE TEMP TABLE {name} AS
                    SELECT person_id, min(rule_idx) AS first_fail, count(*) AS n_failed,
                           count(*) FILTER (WHERE status = 2) AS n_failed_unknown
                    FROM {self._P}rule WHERE NOT passes AND {self._enabled_sql()} GROUP BY person_id""")
            finally:
                self.con.execute(f"SET perfect_ht_threshold = {int(prev)}")
            self._s.fail_tables.add(name)
        return name

    def _enabled_sql(self) -> str:
        idx = [str(i) for i, e in enumerate(self.enabled) if e]
        return f"rule_idx IN ({', '.join(idx)})" if idx else "false"

    # -- outputs --------------------------------------------------------------------
    @property
    def n_initial(self) -> int:
        """Persons with an index date (the initial population)."""
        return int(self.con.execute(f"SELECT count(*) FROM {self._P}idx").fetchone()[0])

    def eligible_ids(self) -> list[int]:
        """Sorted person_ids passing every enabled rule."""
        rows = self.con.execute(f"SELECT person_id FROM {self._P}idx ANTI JOIN {self._fails()} USING (person_id) "
                                "ORDER BY person_id").fetchall()
        return [int(r[0]) for r in rows]

    def eligible(self) -> "pd.DataFrame":
        """Eligible persons: ``person_id``, ``index_date``."""
        return self.con.execute(f"SELECT person_id, index_date FROM {self._P}idx ANTI JOIN {self._fails()} USING (person_id) "
                                "ORDER BY person_id").df()

    @property
    def n_eligible(self) -> int:
        return int(self.con.execute(f"SELECT count(*) FROM {self._P}idx ANTI JOIN {self._fails()} USING (person_id)"
                                    ).fetchone()[0])

    def attrition(self) -> list[dict[str, Any]]:
        """The attrition funnel as plain records (what :meth:`funnel` puts in a DataFrame; no pandas needed)."""
        first = self.con.execute(f"SELECT first_fail, count(*) FROM {self._fails()} GROUP BY first_fail").fetchall()
        fails = {ff: int(c) for ff, c in first}
        n0 = self.n_initial
        rows = [dict(step=0, rule="initial population (index date)", section="", enabled=True, remaining=n0, removed=0)]
        remaining = n0
        for i, (nm, sec, en) in enumerate(zip(self.rule_names, self.sections, self.enabled)):
            lost = fails.get(i, 0)
            remaining -= lost
            rows.append(dict(step=i + 1, rule=nm, section=sec, enabled=en, remaining=remaining, removed=lost))
        for r in rows:
            r["pct_remaining"] = round(100.0 * r["remaining"] / n0, 2) if n0 else 0.0
        return rows

    def funnel(self) -> "pd.DataFrame":
        """ATLAS-style attrition at person level, in rule order.

        Columns: ``step`` (0 = initial population), ``rule``, ``section``,
        ``enabled``, ``remaining`` (persons passing this and every earlier
        enabled rule), ``removed`` (lost at this step), ``pct_remaining``.
        """
        import pandas as pd

        return pd.DataFrame(self.attrition())

    def rule_counts(self) -> "pd.DataFrame":
        """Per rule, over the whole initial population (order-independent): met / not_met / unknown / passing."""
        import pandas as pd

        P = self._P
        df = self.con.execute(f"""SELECT rule_idx, count(*) FILTER (WHERE status = 1) AS met,
                count(*) FILTER (WHERE status = 0) AS not_met, count(*) FILTER (WHERE status = 2) AS unknown,
                count(*) FILTER (WHERE passes) AS passing
            FROM {P}rule GROUP BY rule_idx ORDER BY rule_idx""").df()
        df.insert(1, "rule", [self.rule_names[i] for i in df["rule_idx"]])
        df.insert(2, "section", [self.sections[i] for i in df["rule_idx"]])
        df.insert(3, "enabled", [self.enabled[i] for i in df["rule_idx"]])
        return pd.DataFrame(df)

    def near_misses(self, max_failed: int = 2, limit: int | None = None) -> "pd.DataFrame":
        """Persons failing exactly 1..``max_failed`` enabled rules, ranked for a recruiter.

        Ranked by number of failed rules, then by how many of the failures are
        only *unknown* (missing data a screening visit could supply) rather than
        *not met*, then person_id. Columns: ``person_id``, ``n_failed``,
        ``n_failed_unknown``, ``failed_rules`` (names joined by ``"; "``), ``rank``.
        """
        df = self.con.execute(f"""SELECT f.person_id, f.n_failed, f.n_failed_unknown,
                (SELECT list(r.rule_idx ORDER BY r.rule_idx) FROM {self._P}rule r
                 WHERE r.person_id = f.person_id AND NOT r.passes AND {self._enabled_sql().replace('rule_idx', 'r.rule_idx')}) AS failed_idx
            FROM {self._fails()} f WHERE f.n_failed BETWEEN 1 AND {int(max_failed)}
            ORDER BY f.n_failed, f.n_failed_unknown DESC, f.person_id
            {f'LIMIT {int(limit)}' if limit else ''}""").df()
        df["failed_rules"] = ["; ".join(self.rule_names[i] for i in idx) for idx in df.pop("failed_idx")]
        df["rank"] = range(1, len(df) + 1)
        return df

    def evidence(self, *, level: str = "rules", persons: Sequence[int] | None = None) -> "pd.DataFrame":
        """Per-person, per-criterion evidence.

        Parameters
        ----------
        level : {"rules", "all"}
            Top-level rules only, or every criterion including group members.
        persons : sequence of int, optional
            Restrict to these person_ids.

        Returns
        -------
        DataFrame
            ``person_id, criterion, section, status (met/not_met/unknown),
            passes (rules only), n_records, record_id, record_date, value,
            unit_concept_id, concept_id`` — the record that decided the status
            (the latest qualifying one; for value criteria that failed, the
            latest valued one; for age the age in years in ``value``). Value and
            unit are as recorded, also when the comparison used a converted value.
        """
        P = self._P
        nodes = self._s.nodes
        if level == "rules":
            sel = [n for n in nodes if n.rule_idx is not None]
        elif level == "all":
            sel = list(nodes)
        else:
            raise InputError("level must be 'rules' or 'all'", value=level)
        names = ", ".join(f"({n.node_id}, {_sql_str(n.path)}, {_sql_str(n.section)}, "
                          f"{'NULL' if n.rule_idx is None else n.rule_idx})" for n in sel)
        where = ""
        params: list[Any] = []
        if persons is not None:
            where = "WHERE n.person_id IN (SELECT unnest(?::BIGINT[]))"
            params.append([int(p) for p in persons])
        df = self.con.execute(f"""
            SELECT n.person_id, m.criterion, m.section,
                   CASE n.status WHEN 1 THEN 'met' WHEN 0 THEN 'not_met' ELSE 'unknown' END AS status,
                   r.passes, n.n_records, n.record_id, n.record_date, n.value, n.unit_concept_id, n.concept_id
            FROM {P}node n JOIN (VALUES {names}) m(node_id, criterion, section, rule_idx) ON m.node_id = n.node_id
            LEFT JOIN {P}rule r ON r.person_id = n.person_id AND r.rule_idx = m.rule_idx
            {where}
            ORDER BY n.person_id, n.node_id""", params).df()
        return df

    def write_evidence_parquet(self, path: str, level: str = "all") -> None:
        """Write the evidence table straight from DuckDB to Parquet (no pandas copy)."""
        P = self._P
        sel = self._s.nodes if level == "all" else [n for n in self._s.nodes if n.rule_idx is not None]
        names = ", ".join(f"({n.node_id}, {_sql_str(n.path)}, {_sql_str(n.section)}, "
                          f"{'NULL' if n.rule_idx is None else n.rule_idx})" for n in sel)
        self.con.execute(f"""COPY (
            SELECT n.person_id, m.criterion, m.section,
                   CASE n.status WHEN 1 THEN 'met' WHEN 0 THEN 'not_met' ELSE 'unknown' END AS status,
                   r.passes, n.n_records, n.record_id, n.record_date, n.value, n.unit_concept_id, n.concept_id
            FROM {P}node n JOIN (VALUES {names}) m(node_id, criterion, section, rule_idx) ON m.node_id = n.node_id
            LEFT JOIN {P}rule r ON r.person_id = n.person_id AND r.rule_idx = m.rule_idx
            ORDER BY n.person_id, n.node_id) TO {_sql_str(str(path))} (FORMAT parquet)""")

    def summary(self) -> dict[str, Any]:
        return {
            "trial": self.criteria.name,
            "n_persons_cdm": self._s.cdm.n_persons,
            "n_initial": self.n_initial,
            "n_eligible": self.n_eligible,
            "rules": [{"name": n, "section": s, "enabled": e} for n, s, e in zip(self.rule_names, self.sections, self.enabled)],
            "warnings": list(self.warnings),
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
        }

    def drop(self) -> None:
        """Remove this screen's temporary tables from the connection."""
        self.con.execute(f"DROP VIEW IF EXISTS {self._P}rule")
        for t in ("idx", "node", "rulemap"):
            self.con.execute(f"DROP TABLE IF EXISTS {self._P}{t}")
        for t in self._s.fail_tables:
            self.con.execute(f"DROP TABLE IF EXISTS {t}")
        self._s.fail_tables.clear()


def screen(cdm: "Cdm", criteria: TrialCriteria, *, strict_concepts: bool = True) -> ScreenResult:
    """Screen a CDM against trial criteria.

    Parameters
    ----------
    cdm : Cdm
        From :func:`discovery.cohorts.load_cdm`.
    criteria : TrialCriteria
        From :func:`discovery.cohorts.load_criteria` or built in code.
    strict_concepts : bool
        Raise on concept ids unknown to both vocabulary and data (default).

    Returns
    -------
    ScreenResult
    """
    return Screener(cdm, criteria, strict_concepts=strict_concepts).run()
