"""Errors raised while building or exporting reports (the CLI prints them and exits with ``exit_code``)."""

from __future__ import annotations

import importlib
from types import ModuleType

from ..errors import DiscoveryError


class ReportDependencyError(DiscoveryError):
    """A package the report needs (matplotlib, jinja2) is not installed."""

    exit_code = 4


class ChromiumNotFoundError(DiscoveryError):
    """PDF export needs headless Chromium, which is not installed."""

    exit_code = 4


class PdfExportError(DiscoveryError):
    """Chromium ran but produced no PDF."""

    exit_code = 4


def require(module: str) -> ModuleType:
    """Import ``module`` or raise :class:`ReportDependencyError` saying how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        top = module.split(".")[0]
        raise ReportDependencyError(
            f"building reports needs the Python package '{top}', which is not installed ({err})",
            hint="pip install 'discovery[reports]' (jinja2, matplotlib)",
        ) from err
