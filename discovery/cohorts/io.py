"""OMOP CDM input: load a CDM (CSV, Parquet, zip, DuckDB file) into DuckDB and validate it.

A CDM is a folder (or zip) of one file per table, ``person.csv`` or
``PERSON.csv``, ``.csv``/``.csv.gz``/``.tsv``/``.parquet``; or an existing
DuckDB database holding the tables (optionally in a schema). CDM 5.3 and 5.4
are both read; the version comes from ``cdm_source.cdm_version`` when present,
otherwise from columns that differ between the two (5.4 renamed
``admitting_source_concept_id`` to ``admitted_from_concept_id`` and added the
``episode`` table).

CSV tables are copied into DuckDB (typed: ``*_id`` BIGINT, ``*_date`` DATE,
``*_datetime`` TIMESTAMP, ``value_as_number`` DOUBLE ...); a value that does
not fit its column type is an :class:`~discovery.errors.InputError` naming the
file, row, column and value. Parquet tables are attached as views (no copy).
Column names are normalised to lower case.

Examples
--------
>>> cdm = load_cdm("Synthea27Nj_5.4.zip")            # doctest: +SKIP
>>> cdm.version, cdm.n_persons                        # doctest: +SKIP
('5.4', 28)
>>> cdm.vocab.descendants([201826])                   # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from ..errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import duckdb
    import pandas as pd

    from .vocab import Vocabulary

log = logging.getLogger(__name__)

#: Columns each table must have for screening (other columns are kept as they are).
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "person": ("person_id", "gender_concept_id", "year_of_birth"),
    "observation_period": ("person_id", "observation_period_start_date", "observation_period_end_date"),
    "visit_occurrence": ("person_id", "visit_concept_id", "visit_start_date"),
    "condition_occurrence": ("person_id", "condition_concept_id", "condition_start_date"),
    "drug_exposure": ("person_id", "drug_concept_id", "drug_exposure_start_date"),
    "procedure_occurrence": ("person_id", "procedure_concept_id", "procedure_date"),
    "measurement": ("person_id", "measurement_concept_id", "measurement_date", "value_as_number", "unit_concept_id"),
    "observation": ("person_id", "observation_concept_id", "observation_date"),
    "device_exposure": ("person_id", "device_concept_id", "device_exposure_start_date"),
    "condition_era": ("person_id", "condition_concept_id", "condition_era_start_date", "condition_era_end_date"),
    "drug_era": ("person_id", "drug_concept_id", "drug_era_start_date", "drug_era_end_date"),
    "death": ("person_id", "death_date"),
    "concept": ("concept_id", "concept_name", "domain_id", "vocabulary_id", "concept_code"),
    "concept_ancestor": ("ancestor_concept_id", "descendant_concept_id"),
    "concept_relationship": ("concept_id_1", "concept_id_2", "relationship_id"),
    "concept_synonym": ("concept_id", "concept_synonym_name"),
    "vocabulary": ("vocabulary_id",),
    "cdm_source": ("cdm_version",),
}

#: Every OMOP CDM 5.3/5.4 table name this loader recognises (others in a folder are ignored and logged).
CDM_TABLES: tuple[str, ...] = (
    "person", "observation_period", "visit_occurrence", "visit_detail", "condition_occurrence", "drug_exposure",
    "procedure_occurrence", "device_exposure", "measurement", "observation", "note", "note_nlp", "specimen",
    "fact_relationship", "death", "location", "care_site", "provider", "payer_plan_period", "cost",
    "drug_era", "dose_era", "condition_era", "episode", "episode_event", "metadata", "cdm_source",
    "concept", "vocabulary", "domain", "concept_class", "concept_relationship", "relationship",
    "concept_synonym", "concept_ancestor", "source_to_concept_map", "drug_strength", "cohort",
    "cohort_definition",
)

#: Tables that must be present.
REQUIRED_TABLES: tuple[str, ...] = ("person",)

_DOUBLE_COLUMNS = {"value_as_number", "range_low", "range_high", "quantity", "refills", "days_supply",
                   "amount_value", "numerator_value", "denominator_value", "dose_value"}
_INT_COLUMNS = {"year_of_birth", "month_of_birth", "day_of_birth", "condition_occurrence_count",
                "drug_exposure_count", "gap_days", "min_levels_of_separation", "max_levels_of_separation"}
_TEXT_ID_COLUMNS = {"vocabulary_id", "domain_id", "concept_class_id", "relationship_id", "unique_device_id",
                    "specimen_source_id", "cdm_source_abbreviation", "cdm_version", "reverse_relationship_id",
                    "defines_ancestry", "is_hierarchical"}


def column_type(table: str, column: str) -> str:
    """DuckDB type of a CDM column, from OMOP naming rules (``VARCHAR`` when no rule applies)."""
    c = column.lower()
    if c in _TEXT_ID_COLUMNS or c.endswith("_source_value") or c.endswith("_name"):
        return "VARCHAR"
    if c in _DOUBLE_COLUMNS:
        return "DOUBLE"
    if c in _INT_COLUMNS:
        return "INTEGER"
    if c.endswith("_datetime"):
        return "TIMESTAMP"
    if c.endswith("_date") or c in ("valid_start_date", "valid_end_date"):
        return "DATE"
    if c.endswith("_id") or c.endswith("_concept_id"):
        return "BIGINT"
    return "VARCHAR"


_TABLE_FILE = re.compile(r"^(?P<name>[A-Za-z_0-9]+)\.(?P<ext>csv|csv\.gz|tsv|tsv\.gz|txt|parquet)$")


@dataclass
class Cdm:
    """An OMOP CDM opened in DuckDB.

    Attributes
    ----------
    con : duckdb.DuckDBPyConnection
        The connection; CDM tables are reachable by their lower-case names
        through :meth:`table`.
    tables : dict of str to str
        Canonical table name -> SQL reference (``"person"`` or ``"cdm"."PERSON"``).
    columns : dict of str to tuple of str
        Lower-case column names of each table.
    version : str
        ``"5.3"``, ``"5.4"`` or ``"unknown"``.
    source : str
        Where it was loaded from.
    warnings : list of str
        Problems found while loading that did not stop it (missing optional tables ...).
    """

    con: "duckdb.DuckDBPyConnection"
    tables: dict[str, str]
    columns: dict[str, tuple[str, ...]]
    version: str
    source: str
    warnings: list[str] = field(default_factory=list)
    _vocab: "Vocabulary | None" = field(default=None, repr=False)

    def has(self, table: str) -> bool:
        """Whether the CDM has ``table`` (case-insensitive)."""
        return table.lower() in self.tables

    def table(self, name: str) -> str:
        """SQL reference of a table.

        Raises
        ------
        InputError
            The CDM has no such table.
        """
        key = name.lower()
        if key not in self.tables:
            raise InputError(
                f"the OMOP CDM has no '{key}' table",
                file=self.source,
                hint=f"tables present: {', '.join(sorted(self.tables)) or 'none'}",
            )
        return self.tables[key]

    def has_column(self, table: str, column: str) -> bool:
        return column.lower() in self.columns.get(table.lower(), ())

    def sql(self, query: str, params: list[Any] | None = None) -> "pd.DataFrame":
        """Run a query and return a DataFrame."""
        return self.con.execute(query, params or []).df()

    def count(self, table: str) -> int:
        """Number of rows of a table."""
        return int(self.con.execute(f"SELECT count(*) FROM {self.table(table)}").fetchone()[0])

    @property
    def n_persons(self) -> int:
        return self.count("person")

    @property
    def vocab(self) -> "Vocabulary":
        """Vocabulary helpers over this CDM's concept tables."""
        if self._vocab is None:
            from .vocab import Vocabulary

            self._vocab = Vocabulary(self)
        return self._vocab

    def summary(self) -> dict[str, Any]:
        """Row count per table plus version and source (small, JSON-serialisable)."""
        return {
            "source": self.source,
            "cdm_version": self.version,
            "tables": {t: self.count(t) for t in sorted(self.tables)},
            "warnings": list(self.warnings),
        }

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> "Cdm":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(database: str | os.PathLike | None = None, *, memory_limit: str | None = None,
            threads: int | None = None, read_only: bool = False) -> "duckdb.DuckDBPyConnection":
    """A DuckDB connection (in memory when ``database`` is None) with optional limits.

    Parameters
    ----------
    memory_limit : str, optional
        DuckDB ``memory_limit`` (e.g. ``"4GB"``); default ``DISCOVERY_DUCKDB_MEMORY`` or DuckDB's own.
    threads : int, optional
        DuckDB worker threads; default ``DISCOVERY_DUCKDB_THREADS`` or DuckDB's own.
    """
    import duckdb

    con = duckdb.connect(":memory:" if database is None else str(database), read_only=read_only)
    memory_limit = memory_limit or os.environ.get("DISCOVERY_DUCKDB_MEMORY")
    threads = threads or (int(os.environ["DISCOVERY_DUCKDB_THREADS"]) if os.environ.get("DISCOVERY_DUCKDB_THREADS") else None)
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    return con


def _table_files(folder: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    ignored = []
    for p in sorted(folder.iterdir()):
        if p.name.startswith(".") or not p.is_file():
            continue
        m = _TABLE_FILE.match(p.name)
        if not m:
            continue
        name = m.group("name").lower()
        if name not in CDM_TABLES:
            ignored.append(p.name)
            continue
        if name in found:
            if found[name].suffix == ".parquet":
                continue
            if p.suffix != ".parquet":
                raise InputError(f"two files for table '{name}': {found[name].name} and {p.name}", file=str(folder),
                                 hint="keep one file per CDM table")
        found[name] = p
    if ignored:
        log.info("ignored files that are not OMOP CDM tables: %s", ", ".join(ignored))
    return found


def _sql_str(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _csv_reader(path: Path, all_varchar: bool = True) -> str:
    delim = "\t" if ".tsv" in path.name.lower() else ","
    return (f"read_csv({_sql_str(path)}, header=true, delim={_sql_str(delim)}, all_varchar={str(all_varchar).lower()}, "
            "quote='\"', escape='\"', sample_size=-1)")


def _check_casts(con: "duckdb.DuckDBPyConnection", path: Path, raw: str, cols: list[tuple[str, str, str]]) -> None:
    """Find the first value that does not convert and raise an InputError naming it."""
    for orig, lower, typ in cols:
        if typ == "VARCHAR":
            continue
        q = (f"SELECT rn, v FROM (SELECT row_number() OVER () + 1 AS rn, \"{orig}\" AS v FROM {raw}) "
             f"WHERE v IS NOT NULL AND trim(v) <> '' AND TRY_CAST(trim(v) AS {typ}) IS NULL LIMIT 1")
        if typ in ("DATE", "TIMESTAMP"):
            q = q.replace(f"TRY_CAST(trim(v) AS {typ}) IS NULL",
                          f"TRY_CAST(trim(v) AS {typ}) IS NULL AND TRY_CAST(TRY_CAST(trim(v) AS TIMESTAMP) AS {typ}) IS NULL")
        hit = con.execute(q).fetchone()
        if hit is not None:
            raise InputError(f"value does not fit the OMOP type {typ}", file=str(path), row=int(hit[0]), column=orig,
                             value=hit[1], hint=f"fix the value or the column; {lower} must be {typ}")


def _load_csv(con: "duckdb.DuckDBPyConnection", name: str, path: Path) -> tuple[str, ...]:
    raw = _csv_reader(path)
    try:
        header = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {raw}").fetchall()]
    except Exception as exc:  # duckdb.Error: unreadable CSV
        raise InputError(f"cannot read CSV table '{name}': {exc}", file=str(path)) from None
    cols = [(h, h.lower().strip(), column_type(name, h.strip())) for h in header]
    select = []
    for orig, lower, typ in cols:
        if typ == "VARCHAR":
            select.append(f'"{orig}" AS "{lower}"')
        elif typ == "DATE":
            # dates may be written as timestamps ("2020-01-01 00:00:00") in some exports
            select.append(f"CAST(CAST(NULLIF(trim(\"{orig}\"), '') AS TIMESTAMP) AS DATE) AS \"{lower}\"")
        else:
            select.append(f"CAST(NULLIF(trim(\"{orig}\"), '') AS {typ}) AS \"{lower}\"")
    try:
        con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT {", ".join(select)} FROM {raw}')
    except Exception as exc:
        _check_casts(con, path, raw, cols)
        raise InputError(f"cannot load table '{name}': {exc}", file=str(path)) from None
    return tuple(c[1] for c in cols)


def _load_parquet(con: "duckdb.DuckDBPyConnection", name: str, path: Path, materialize: bool) -> tuple[str, ...]:
    src = f"read_parquet({_sql_str(path)})"
    desc = con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()
    select = []
    for col, typ, *_ in desc:
        want = column_type(name, col)
        lower = col.lower()
        have = str(typ).upper()
        ok = (want == "VARCHAR" or have == want or (want == "BIGINT" and have in ("INTEGER", "BIGINT", "SMALLINT"))
              or (want == "INTEGER" and have in ("INTEGER", "SMALLINT", "BIGINT"))
              or (want == "DOUBLE" and have in ("DOUBLE", "FLOAT") or have.startswith("DECIMAL")))
        select.append(f'"{col}" AS "{lower}"' if ok else f'CAST("{col}" AS {want}) AS "{lower}"')
    kind = "TABLE" if materialize else "VIEW"
    con.execute(f'CREATE OR REPLACE {kind} "{name}" AS SELECT {", ".join(select)} FROM {src}')
    return tuple(c[0].lower() for c in desc)


def _detect_version(con: "duckdb.DuckDBPyConnection", tables: dict[str, str], columns: dict[str, tuple[str, ...]]) -> str:
    if "cdm_source" in tables and "cdm_version" in columns.get("cdm_source", ()):
        try:
            row = con.execute(f"SELECT cdm_version FROM {tables['cdm_source']} LIMIT 1").fetchone()
        except Exception:
            row = None
        if row and row[0]:
            m = re.search(r"5\.(\d)", str(row[0]))
            if m:
                return f"5.{m.group(1)}"
    visit = columns.get("visit_occurrence", ())
    if "admitted_from_concept_id" in visit or "discharged_to_concept_id" in visit or "episode" in tables:
        return "5.4"
    if "admitting_source_concept_id" in visit or "discharge_to_concept_id" in visit:
        return "5.3"
    if "measurement" in tables and "unit_source_concept_id" in columns.get("measurement", ()):
        return "5.4"
    return "unknown"


def validate(cdm: Cdm, *, required_tables: Iterable[str] = REQUIRED_TABLES) -> list[str]:
    """Check required tables and columns; return warnings for optional gaps.

    Raises
    ------
    InputError
        A required table is missing, or a present table lacks a column that
        screening needs (named with the table and the columns it has).
    """
    for t in required_tables:
        if not cdm.has(t):
            raise InputError(f"required OMOP table '{t}' is missing", file=cdm.source,
                             hint=f"tables present: {', '.join(sorted(cdm.tables)) or 'none'}")
    for t, cols in cdm.columns.items():
        need = REQUIRED_COLUMNS.get(t, ())
        missing = [c for c in need if c not in cols]
        if missing:
            raise InputError(
                f"OMOP table '{t}' lacks required column(s) {', '.join(missing)}",
                file=cdm.source, column=missing[0],
                hint=f"columns present: {', '.join(cols)}; see https://ohdsi.github.io/CommonDataModel/",
            )
    warnings = []
    if not cdm.has("observation_period"):
        warnings.append("no observation_period table: the default index date (end of observation) is unavailable")
    if not cdm.has("concept"):
        warnings.append("no concept table: concept names, codes and unknown-concept checks are unavailable")
    elif cdm.has("concept_ancestor") and cdm.count("concept_ancestor") == 0 and not cdm.has("concept_relationship"):
        warnings.append("concept_ancestor is empty and there is no concept_relationship: descendants are not expanded")
    if cdm.has("observation_period"):
        bad = cdm.con.execute(f"SELECT count(*) FROM {cdm.table('observation_period')} "
                              "WHERE observation_period_end_date < observation_period_start_date").fetchone()[0]
        if bad:
            warnings.append(f"observation_period: {bad} period(s) end before they start (impossible dates)")
    if cdm.has("person") and cdm.has("observation_period"):
        bad = cdm.con.execute(f"SELECT count(*) FROM {cdm.table('observation_period')} o JOIN {cdm.table('person')} p "
                              "ON p.person_id = o.person_id WHERE year(o.observation_period_end_date) < p.year_of_birth"
                              ).fetchone()[0]
        if bad:
            warnings.append(f"observation_period: {bad} period(s) end before the person's year of birth (impossible dates)")
    for domain in ("condition_occurrence", "drug_exposure", "measurement"):
        if not cdm.has(domain):
            era = {"condition_occurrence": "condition_era", "drug_exposure": "drug_era"}.get(domain)
            if era and cdm.has(era):
                warnings.append(f"no {domain} table: criteria over it use {era}")
            else:
                warnings.append(f"no {domain} table: criteria over it evaluate to 'unknown'")
    return warnings


def _register_existing(con: "duckdb.DuckDBPyConnection", schema: str | None, catalog: str | None = None) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    where = []
    params: list[Any] = []
    if schema:
        where.append("lower(table_schema) = lower(?)")
        params.append(schema)
    if catalog:
        where.append("table_catalog = ?")
        params.append(catalog)
    q = "SELECT table_catalog, table_schema, table_name, column_name FROM information_schema.columns"
    if where:
        q += " WHERE " + " AND ".join(where)
    q += " ORDER BY table_catalog, table_schema, table_name, ordinal_position"
    tables: dict[str, str] = {}
    columns: dict[str, list[str]] = {}
    for cat, sch, tab, col in con.execute(q, params).fetchall():
        key = tab.lower()
        if key not in CDM_TABLES:
            continue
        ref = f'"{cat}"."{sch}"."{tab}"'
        if key in tables and tables[key] != ref:
            continue  # first schema wins
        tables[key] = ref
        columns.setdefault(key, []).append(col.lower())
    return tables, {k: tuple(v) for k, v in columns.items()}


def load_cdm(
    source: str | os.PathLike,
    *,
    database: str | os.PathLike | None = None,
    schema: str | None = None,
    materialize_parquet: bool = False,
    memory_limit: str | None = None,
    threads: int | None = None,
    read_only: bool = False,
    validate_tables: bool = True,
) -> Cdm:
    """Open an OMOP CDM in DuckDB.

    Parameters
    ----------
    source : path
        A folder of table files (CSV, CSV.gz, TSV, Parquet; any case), a zip of
        them (nested folders and ``__MACOSX`` entries are handled), or an existing
        DuckDB database file (``.duckdb``/``.db``) to attach, or a registered
        dataset name (``"synthea27nj"``, ``"mimic-iv-demo-omop"``, ``"gibleed"``).
    database : path, optional
        DuckDB file to load CSV tables into (persisted); default in memory.
    schema : str, optional
        Schema holding the CDM tables in an attached DuckDB database.
    materialize_parquet : bool
        Copy Parquet tables into DuckDB instead of creating views over the files.
    memory_limit, threads : optional
        DuckDB resource limits (see :func:`connect`).
    read_only : bool
        Open an existing DuckDB database read-only.
    validate_tables : bool
        Run :func:`validate` (required tables/columns) after loading.

    Returns
    -------
    Cdm

    Raises
    ------
    InputError
        Path missing, no CDM tables in it, a table lacking required columns, or
        a value that does not convert (file, row, column and value named).
    """
    path = Path(source)
    if not path.exists():
        path = _resolve_dataset(str(source))
    if path.is_file() and path.suffix.lower() in (".duckdb", ".db", ".ddb"):
        con = connect(path, memory_limit=memory_limit, threads=threads, read_only=read_only)
        tables, columns = _register_existing(con, schema)
        src = str(path)
    else:
        con = connect(database, memory_limit=memory_limit, threads=threads)
        tables, columns = {}, {}
        tmp: str | None = None
        try:
            folder = path
            if path.is_file() and path.suffix.lower() == ".zip":
                tmp = tempfile.mkdtemp(prefix="discovery-cdm-")
                folder = _extract_zip(path, Path(tmp))
            elif path.is_file():
                raise InputError("not an OMOP CDM: expected a folder, a .zip or a .duckdb file", file=str(path))
            files = _table_files(folder)
            if not files:
                raise InputError("no OMOP CDM table files found (person.csv, PERSON.csv, person.parquet ...)",
                                 file=str(path))
            for name, f in files.items():
                if f.suffix == ".parquet":
                    cols = _load_parquet(con, name, f, materialize_parquet or tmp is not None)
                else:
                    cols = _load_csv(con, name, f)
                tables[name] = f'"{name}"'
                columns[name] = cols
        finally:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
        src = str(path)
    if not tables:
        raise InputError("no OMOP CDM tables found", file=str(path),
                         hint="pass schema= when the tables live in a non-default schema" if schema is None else None)
    cdm = Cdm(con=con, tables=tables, columns=columns, version=_detect_version(con, tables, columns), source=src)
    if validate_tables:
        cdm.warnings.extend(validate(cdm))
    for w in cdm.warnings:
        log.info("%s: %s", src, w)
    return cdm


def _resolve_dataset(name: str) -> Path:
    """Local path of a registered cohort dataset (a zip, or the folder of its first file)."""
    from ..data import registry
    from ..data.fetcher import fetch

    try:
        info = registry.get(name)
    except Exception:
        raise InputError("no such file, folder or registered dataset", value=name,
                         hint="pass a CDM folder, zip or .duckdb file, or one of: synthea27nj, mimic-iv-demo-omop, gibleed") from None
    if info.category != "cohorts":
        raise InputError(f"dataset '{info.name}' is not an OMOP CDM", value=name)
    paths = fetch(info)
    if len(paths) == 1:
        return paths[0]
    return paths[0].parent


def _extract_zip(path: Path, dest: Path) -> Path:
    """Extract a CDM zip (skipping ``__MACOSX``) and return the folder holding the table files."""
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                n = info.filename
                if info.is_dir() or n.startswith("__MACOSX/") or "/." in "/" + n:
                    continue
                if not _TABLE_FILE.match(Path(n).name):
                    continue
                target = dest / Path(n).name
                with zf.open(info) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out)
    except zipfile.BadZipFile as exc:
        raise InputError(f"not a readable zip file: {exc}", file=str(path)) from None
    return dest
