"""Fallback section for result kinds without a dedicated builder.

Shows, per folder, the numbers its ``metrics.json`` records (flattened to
dotted keys), so a new kind of result is reported, not dropped, until it
gets its own section.
"""

from __future__ import annotations

import math
import re
from typing import Any, Iterator, Sequence

from ..html import esc, fmt_num, table
from ..registry import ReportOptions, Section, SummaryItem
from ..results import ResultFolder


def flatten_numbers(obj: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], float]]:
    """Every finite number in a JSON value with its key path (list items by index).

    Parameters
    ----------
    obj : JSON value
    prefix : tuple of str
        Path of ``obj`` itself.

    Yields
    ------
    (path, value)
        ``path`` is a tuple of keys (list indices as strings); booleans are skipped.
    """
    if isinstance(obj, bool) or obj is None:
        return
    if isinstance(obj, (int, float)):
        if math.isfinite(float(obj)):
            yield prefix, float(obj)
        return
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from flatten_numbers(v, prefix + (str(k),))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from flatten_numbers(v, prefix + (str(i),))


def build_section(results: Sequence[ResultFolder], options: ReportOptions) -> Section:
    """Section listing the recorded metrics of result folders of kinds with no dedicated builder."""
    kinds = sorted({r.kind for r in results})
    parts = [f"<p>No dedicated report section exists yet for result kind{'s' if len(kinds) > 1 else ''} "
             f"{', '.join(f'<code>{esc(k)}</code>' for k in kinds)}; the numbers each folder's "
             "<code>metrics.json</code> records are listed as they are.</p>"]
    for r in results:
        parts.append(f"<h3>{esc(r.label)} <span class=\"muted\">({esc(r.kind)})</span></h3>")
        metrics = r.json("metrics.json")
        rows = [[".".join(p), fmt_num(v)] for p, v in flatten_numbers(metrics)] if metrics is not None else []
        if rows:
            parts.append(table(["metric", "value"], rows[:200]))
            if len(rows) > 200:
                parts.append(f'<p class="note">{len(rows) - 200} more values in metrics.json not shown.</p>')
        else:
            parts.append('<p class="na">No metrics.json, or no numbers in it.</p>')
    sid = "other-" + re.sub(r"[^a-z0-9]+", "-", "-".join(kinds).lower()).strip("-")
    return Section(
        id=sid or "other", title="Other results: " + ", ".join(kinds), html="".join(parts),
        summary=[SummaryItem(what=k, headline=f"{sum(r.kind == k for r in results)} folder(s)",
                             detail="no dedicated section; metrics listed as recorded") for k in kinds],
    )
