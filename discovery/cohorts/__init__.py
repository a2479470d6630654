"""Trial-cohort screening over OMOP CDM patient data.

OMOP CDM (CSV / Parquet / zip / DuckDB) -> DuckDB -> criteria (YAML/JSON, or
parsed from eligibility text with source spans) -> one SQL plan scanning each
domain table once -> per-patient, per-criterion evidence -> eligible cohort,
attrition funnel, near misses.

Examples
--------
>>> from discovery import cohorts
>>> cdm = cohorts.load_cdm("synthea27nj")                       # doctest: +SKIP
>>> crit = cohorts.load_criteria("trial.yaml")                  # doctest: +SKIP
>>> res = cohorts.screen(cdm, crit)                             # doctest: +SKIP
>>> res.funnel(); res.near_misses(); res.with_rules(disable=["HbA1c"]).n_eligible  # doctest: +SKIP

duckdb and pandas are imported when first used.
"""

from __future__ import annotations

from typing import Any

_LAZY = {
    "load_cdm": ".io", "Cdm": ".io", "connect": ".io", "validate": ".io",
    "Vocabulary": ".vocab",
    "TrialCriteria": ".criteria", "load_criteria": ".criteria", "criteria_from_dict": ".criteria",
    "screen": ".engine", "ScreenResult": ".engine", "Screener": ".engine",
    "parse_eligibility": ".parser", "ParsedEligibility": ".parser", "to_trial_criteria": ".parser",
    "parse_eligibility_llm": ".llm_parser", "from_circe": ".circe",
    "synthesize_cdm": ".synth",
    "write_screen": ".output",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        mod = importlib.import_module(_LAZY[name], __name__)
        return getattr(mod, name)
    raise AttributeError(f"module 'discovery.cohorts' has no attribute {name!r}")
