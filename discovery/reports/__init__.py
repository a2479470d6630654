"""Self-contained HTML (and PDF) reports built from result folders.

>>> from discovery.reports import build_report, write_report, export_pdf
>>> report = build_report(["runs/esol"], title="ESOL solubility")   # doctest: +SKIP
>>> write_report(report, "results/report.html")                     # doctest: +SKIP
>>> export_pdf("results/report.html", "results/report.pdf")         # doctest: +SKIP

Sections are chosen by each folder's manifest ``kind`` through
:mod:`discovery.reports.registry`; new capabilities add a builder there.
Heavy modules (matplotlib, RDKit, pandas) load only while building.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "build_report", "write_report", "export_pdf", "find_chromium", "Report",
    "ChromiumNotFoundError", "PdfExportError", "ReportDependencyError",
    "ReportOptions", "Section", "SummaryItem", "Reference", "register_section", "SECTION_BUILDERS",
    "ResultFolder", "load_result", "discover_results",
]

_LAZY = {
    "build_report": "build", "write_report": "build", "export_pdf": "build", "find_chromium": "build",
    "Report": "build", "ChromiumNotFoundError": "errors", "PdfExportError": "errors",
    "ReportDependencyError": "errors",
    "ReportOptions": "registry", "Section": "registry", "SummaryItem": "registry", "Reference": "registry",
    "register_section": "registry", "SECTION_BUILDERS": "registry",
    "ResultFolder": "results", "load_result": "results", "discover_results": "results",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
