"""discovery: a drug-discovery research environment.

Subpackages are imported lazily so that ``import discovery`` and
``discovery --help`` stay fast: ``discovery.chem``, ``discovery.molprop`` and
``discovery.data`` load torch/RDKit only when first touched.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_SUBMODULES = {
    "chem", "data", "molprop", "screening", "targets", "literature", "llm", "cohorts", "reports",
    "config", "errors", "provenance", "fsutil",
}


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'discovery' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_SUBMODULES))
