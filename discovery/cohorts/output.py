"""Write a screen's result folder (kind ``cohorts.screen``) with privacy rules applied.

Files
-----
``eligible.csv``        person_id, index_date of eligible persons
``evidence.parquet``    per-person, per-criterion evidence (person_id only: no names, addresses or free text)
``funnel.csv``          attrition in rule order (counts below ``small_cell`` shown as ``<N``)
``rule_counts.csv``     met / not met / unknown / passing per rule (same suppression)
``near_misses.csv``     persons failing 1-2 rules, ranked, with the failing rule names
``criteria.yaml``       the criteria that were run (with source spans when parsed)
``summary.json``        counts, warnings, timings
``manifest.json``       provenance (kind ``cohorts.screen``)
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from ..fsutil import atomic_dir
from ..provenance import build_manifest, write_manifest

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .engine import ScreenResult

#: OHDSI practice: do not show counts between 1 and 4.
DEFAULT_SMALL_CELL = 5


def suppress(value: int, small_cell: int = DEFAULT_SMALL_CELL) -> str:
    """A count as text: ``"<5"`` when ``0 < value < small_cell``, else the number (``small_cell=0`` shows all)."""
    v = int(value)
    if small_cell and 0 < v < small_cell:
        return f"<{small_cell}"
    return str(v)


def suppress_frame(df: "pd.DataFrame", columns: list[str], small_cell: int = DEFAULT_SMALL_CELL) -> "pd.DataFrame":
    out = df.copy()
    for c in columns:
        out[c] = [suppress(v, small_cell) for v in out[c]]
    return out


def write_screen(
    result: "ScreenResult",
    out_dir: str | os.PathLike,
    *,
    small_cell: int = DEFAULT_SMALL_CELL,
    inputs: Mapping[str, str | os.PathLike] | None = None,
    config: Mapping[str, Any] | None = None,
    parsed: Any = None,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write the result folder atomically and return its path.

    Parameters
    ----------
    small_cell : int
        Counts ``1..small_cell-1`` in aggregate tables are written as ``"<small_cell"``;
        ``0`` disables suppression. Person-level files are unaffected (they hold
        person_id only).
    parsed : ParsedEligibility, optional
        When the criteria came from text: written as ``parsed_criteria.json``
        so the report can show each criterion beside its source span.
    """
    t0 = time.perf_counter()
    out = Path(out_dir)
    with atomic_dir(out) as tmp:
        result.eligible().to_csv(tmp / "eligible.csv", index=False)
        result.write_evidence_parquet(str(tmp / "evidence.parquet"))
        funnel = result.funnel()
        counts = result.rule_counts()
        suppress_frame(funnel, ["remaining", "removed"], small_cell).to_csv(tmp / "funnel.csv", index=False)
        suppress_frame(counts, ["met", "not_met", "unknown", "passing"], small_cell).to_csv(tmp / "rule_counts.csv", index=False)
        result.near_misses().to_csv(tmp / "near_misses.csv", index=False)
        (tmp / "criteria.yaml").write_text(result.criteria.to_yaml(), encoding="utf-8")
        if parsed is not None:
            (tmp / "parsed_criteria.json").write_text(json.dumps(parsed.to_dict(), indent=2, ensure_ascii=False),
                                                      encoding="utf-8")
        summary = result.summary()
        summary["small_cell"] = small_cell
        summary["n_eligible_display"] = suppress(summary["n_eligible"], small_cell)
        summary["n_initial_display"] = suppress(summary["n_initial"], small_cell)
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
        timings = dict(result.timings)
        timings["write"] = time.perf_counter() - t0
        manifest = build_manifest(
            kind="cohorts.screen",
            inputs=inputs or {},
            config={"small_cell": small_cell, "trial": result.criteria.name, **dict(config or {})},
            timings=timings,
            extra={"cdm": {"source": result._s.cdm.source, "cdm_version": result._s.cdm.version},
                   "metrics": {"n_initial": summary["n_initial"], "n_eligible": summary["n_eligible"]},
                   **dict(extra or {})},
        )
        write_manifest(tmp, manifest)
    return out
