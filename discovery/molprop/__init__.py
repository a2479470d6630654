"""Molecular property prediction: graph models, training, ensembles, uncertainty.

The chemist's entry points mirror the ``discovery molprop`` CLI:

>>> from discovery import molprop
>>> res = molprop.train("ESOL", split="scaffold", seed=0, ensemble=3, out="runs/esol")  # doctest: +SKIP
>>> res.metrics["test"]["logp"]["rmse"]                                                  # doctest: +SKIP
>>> df = molprop.predict("runs/esol", "new.csv")                                         # doctest: +SKIP
>>> molprop.evaluate("runs/esol", "other.csv", target_cols="logp")                       # doctest: +SKIP

Parts (importable individually):

- :mod:`~discovery.molprop.models` — D-MPNN, GIN, AttentiveFP encoders, FFN
  head, :data:`ENCODERS` registry, :func:`build_model`
- :mod:`~discovery.molprop.module` — Lightning module (masked losses, Noam schedule)
- :mod:`~discovery.molprop.data` — batch iteration over packed graphs
- :mod:`~discovery.molprop.uncertainty` — ensembles, MC dropout, calibration
- :mod:`~discovery.molprop.bundle` — save/load model bundles
- :mod:`~discovery.molprop.metrics` — masked per-target metrics

The ``train``, ``predict`` and ``evaluate`` functions are bound here eagerly
(their modules import torch only when called), so that they, and not the
same-named submodules, are what ``molprop.train`` etc. mean. Everything else
(torch, Lightning) is imported on first use.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any


def _passive_openmp() -> None:
    """Let idle OpenMP threads sleep instead of spin (``OMP_WAIT_POLICY=PASSIVE``).

    torch's CPU kernels run in GNU OpenMP regions that end in a barrier where,
    by default, waiting threads spin. When another process competes for the
    cores (a shared 2-core machine, a workflow running jobs side by side) a
    spinning thread burns the time slice its partner needs, and a training
    epoch of a small graph model was measured to go from 0.6 s to 18 s.
    Sleeping waiters cost little when the machine is idle. The variable must
    be set before torch loads OpenMP, so this only acts if torch is not
    imported yet and the user has not chosen a policy; numerics are unaffected.
    """
    if "torch" in sys.modules or "OMP_WAIT_POLICY" in os.environ or "GOMP_SPINCOUNT" in os.environ:
        return
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"


_passive_openmp()

from .evaluate import evaluate  # noqa: E402
from .predict import PredictSummary, predict  # noqa: E402
from .train import TrainResult, train  # noqa: E402

__all__ = [
    "train",
    "predict",
    "evaluate",
    "load_bundle",
    "save_bundle",
    "build_model",
    "TrainResult",
    "Predictor",
    "Prediction",
    "PredictSummary",
    "ENCODERS",
    "MoleculeModel",
]

_LAZY = {
    "load_bundle": ".bundle",
    "save_bundle": ".bundle",
    "Predictor": ".bundle",
    "Prediction": ".bundle",
    "build_model": ".models",
    "ENCODERS": ".models",
    "MoleculeModel": ".models",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'discovery.molprop' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
