"""Train a property-prediction model (or an ensemble) end to end.

``train("ESOL")`` reads and validates the molecules, featurizes them once
(cached), splits them, trains ``ensemble`` members with Lightning (seeds
``seed, seed + 1, ...``), evaluates the ensemble and each member on the
validation and test sets, fits the uncertainty calibration on the validation
set, and returns a :class:`TrainResult`. With ``out=`` it also writes a
result folder atomically::

    out/
      metrics.json           test/val metrics, per member and ensemble, uncertainty
      test_predictions.csv   smiles, row, <t>_true, <t>_pred, <t>_std per target
      splits.json            the split (indices and SMILES)
      invalid_rows.csv       rejected input rows (maybe empty)
      model/                 the bundle (bundle.json + member_*.pt)
      manifest.json          inputs with sha256, config, seed, versions, timings

Speed: batches are assembled from one packed tensor set with index
permutations (:class:`~discovery.molprop.data.GraphLoader`), Lightning runs
without logger, checkpoint files, model summary or sanity validation, and the
best weights are kept in memory.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from ..errors import ConfigError, InputError

__all__ = ["TrainResult", "train", "load_table", "HPARAM_KEYS", "PRECISIONS", "SELECT_BY"]

#: training arithmetic choices (Lightning ``precision``)
PRECISIONS = ("32", "bf16-mixed")
#: what early stopping and the kept best state follow (see :func:`train`)
SELECT_BY = ("loss", "metric")

log = logging.getLogger(__name__)

#: model hyperparameters ``train(**hparams)`` accepts
HPARAM_KEYS = (
    "hidden", "depth", "dropout", "aggregation", "bias", "timesteps", "ffn_hidden", "ffn_layers", "batch_norm",
    "mol_features", "feature_scaling", "feature_dropout", "feature_flag", "feature_average",
)


@dataclass
class TrainResult:
    """What :func:`train` returns.

    Attributes
    ----------
    metrics : dict
        Everything written to ``metrics.json``.
    predictions : pandas.DataFrame
        Test-set predictions: ``smiles``, ``row``, and ``<t>_true``, ``<t>_pred``,
        ``<t>_std`` per target.
    predictor : Predictor
        The trained ensemble, ready for ``predict_graphs``/``predict_smiles``.
    split : Split
        Train/val/test indices into the valid molecules.
    invalid : pandas.DataFrame
        Rejected input rows (``row``, ``smiles``, ``reason``).
    out : Path or None
        The result folder, when ``out`` was given.
    config : dict
        The resolved training configuration.
    timings : dict
        Seconds per stage.
    """

    metrics: dict[str, Any]
    predictions: Any
    predictor: Any
    split: Any
    invalid: Any
    out: Path | None = None
    config: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def bundle_path(self) -> Path | None:
        """``out/model`` when a result folder was written."""
        return None if self.out is None else self.out / "model"


# --------------------------------------------------------------------------- data


def _is_table(obj: Any) -> bool:
    return hasattr(obj, "smiles") and hasattr(obj, "targets") and hasattr(obj, "invalid")


def _info_attr(info: Any, *names: str) -> Any:
    for n in names:
        v = getattr(info, n, None)
        if v:
            return v
    return None


def load_table(
    data: Any,
    smiles_col: str | None = None,
    target_cols: Sequence[str] | None = None,
    *,
    on_error: str = "report",
    standardize: bool = False,
    require_targets: bool = True,
) -> tuple[Any, Path | None, Any]:
    """Resolve ``data`` (registry name, path or MoleculeTable) into a MoleculeTable.

    Returns
    -------
    table : MoleculeTable
    path : Path or None
        The file read (None for a table passed in without a readable source).
    info : DatasetInfo or None
        The registry record when ``data`` was a registered name.
    """
    from ..chem import read_molecules

    if _is_table(data):
        # a table may be a subset of its source file: it is hashed by content, not by file
        return data, None, None
    from ..data import resolve

    path, info = resolve(data)
    if info is not None:
        smiles_col = smiles_col or _info_attr(info, "smiles_col", "smiles_column")
        if not target_cols:
            tc = _info_attr(info, "target_cols", "target_columns")
            target_cols = list(tc) if tc else None
    table = read_molecules(
        path,
        smiles_col,
        list(target_cols) if target_cols else None,
        on_error=on_error,
        standardize=standardize,
        require_targets=require_targets,
    )
    return table, Path(path), info


def _infer_task_type(targets: np.ndarray) -> str:
    vals = targets[np.isfinite(targets)]
    if vals.size and np.isin(vals, (0.0, 1.0)).all():
        return "classification"
    return "regression"


def _check_classification_targets(table: Any) -> None:
    y = table.targets
    bad = np.isfinite(y) & ~np.isin(y, (0.0, 1.0))
    if bad.any():
        i, j = map(int, np.argwhere(bad)[0])
        rows = getattr(table, "rows", None)
        raise InputError(
            "classification targets must be 0 or 1",
            file=str(getattr(table, "source", None) or "") or None,
            row=int(rows[i]) if rows is not None else None,
            column=table.target_cols[j],
            value=float(y[i, j]),
            hint="use --task-type regression for continuous targets",
        )


def _data_sha256(table: Any, path: Path | None) -> str:
    from ..fsutil import sha256_bytes, sha256_file

    if path is not None and path.is_file():
        return sha256_file(path)
    blob = "\n".join(table.smiles).encode() + np.ascontiguousarray(table.targets, dtype=np.float64).tobytes()
    return sha256_bytes(blob)


# --------------------------------------------------------------------------- training


@contextlib.contextmanager
def _quiet_lightning() -> Iterator[None]:
    """Silence Lightning's start-up chatter (GPU/TPU availability lines, advisory warnings)."""
    from lightning.fabric.utilities.warnings import PossibleUserWarning

    names = ("lightning.pytorch.utilities.rank_zero", "lightning.pytorch.accelerators.cuda", "lightning.fabric.utilities.seed")
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=PossibleUserWarning)
            warnings.filterwarnings("ignore", message=".*srun.*")
            # Lightning 2.6 on torch >= 2.10 warns about its own use of torch's pytree API
            warnings.filterwarnings("ignore", message=".*treespec.*")
            yield
    finally:
        for lg, lv in zip(loggers, levels):
            lg.setLevel(lv)


@contextlib.contextmanager
def _deterministic_state() -> Iterator[None]:
    """Restore torch's global determinism flags after Lightning set them for a fit.

    ``Trainer(deterministic=True)`` switches ``torch.use_deterministic_algorithms``
    on for the whole process; this puts the caller's settings back afterwards.
    Inside, ``fill_uninitialized_memory`` is turned off: filling every fresh
    tensor with NaN costs a memory pass per allocation (10-25 % of a CPU
    training step here) and buys nothing, because no op of these models reads
    memory it did not write.
    """
    import torch
    import torch.utils.deterministic as tud

    enabled = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    fill = tud.fill_uninitialized_memory
    tud.fill_uninitialized_memory = False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(enabled, warn_only=warn_only)
        tud.fill_uninitialized_memory = fill


@contextlib.contextmanager
def _threads(n: int | None) -> Iterator[None]:
    import torch

    if n is None:
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(max(1, int(n)))
    try:
        yield
    finally:
        torch.set_num_threads(old)


def _accelerator() -> tuple[str, bool]:
    """Lightning accelerator from ``DISCOVERY_DEVICE`` (auto/cpu/cuda/mps) and whether it is the CPU."""
    import torch

    from ..config import get_settings

    dev = (get_settings().device or "auto").lower()
    if dev == "auto":
        gpu = torch.cuda.is_available() or (hasattr(torch.backends, "mps") and torch.backends.mps.is_available())
        return "auto", not gpu
    mapping = {"cpu": "cpu", "cuda": "gpu", "gpu": "gpu", "mps": "mps"}
    if dev not in mapping:
        raise ConfigError(f"DISCOVERY_DEVICE must be auto, cpu, cuda or mps, got {dev!r}")
    return mapping[dev], dev == "cpu"


def _descriptors(table: Any, kind: str) -> np.ndarray:
    """Molecule-level descriptors of every molecule of ``table`` (parsed again if the Mols are gone)."""
    from ..chem.descriptors import mol_descriptors

    mols = getattr(table, "mols", None)
    if mols is None or len(mols) != len(table):
        from rdkit import Chem

        mols = [Chem.MolFromSmiles(s) for s in table.smiles]
    values, n_failed = mol_descriptors(mols, kind)
    if n_failed:
        log.warning("%d descriptor values RDKit could not compute were set to the training mean", n_failed)
    return values


def _descriptor_spec(kind: str | None) -> dict[str, Any]:
    """Bundle metadata of the molecule-level descriptors (empty without them)."""
    if kind is None:
        return {}
    from ..chem.descriptors import DESCRIPTORS_VERSION, descriptor_names

    return {"mol_features": {"name": kind, "version": DESCRIPTORS_VERSION, "names": list(descriptor_names(kind))}}


#: entries kept in oneDNN's and ideep's caches of compiled kernels when training in bf16 on the CPU
ONEDNN_CACHE_ENTRIES = 16


def _bound_onednn_caches() -> None:
    """Keep few compiled bf16 kernels: D-MPNN batches come in many shapes, and each shape's kernel stays cached.

    PyTorch's CPU bf16 matrix products go through ideep, which keeps an LRU
    cache of oneDNN primitives per shape (``LRU_CACHE_CAPACITY``, default 1024) beside
    oneDNN's own (``ONEDNN_PRIMITIVE_CACHE_CAPACITY``, default 1024). With a new edge count
    in nearly every batch they grow all run long: 6 epochs on Lipophilicity (4,200 molecules)
    peaked at 1,480 MB in bf16 against 770 MB in float32. With 16 entries each, 40 epochs peak
    at ~730 MB, and run no slower.
    Both are read when first used, so this works if no bf16 product ran earlier in the
    process; a value the user set is left alone.
    """
    for var in ("LRU_CACHE_CAPACITY", "ONEDNN_PRIMITIVE_CACHE_CAPACITY"):
        os.environ.setdefault(var, str(ONEDNN_CACHE_ENTRIES))


def _graph_only(hp: dict[str, Any]) -> dict[str, Any]:
    """``hp`` of a member that reads no molecule-level descriptors (the graph vector alone)."""
    from .models import DEFAULT_HPARAMS

    descriptor_keys = ("mol_features", "n_mol_features", "feature_scaling", "feature_dropout", "feature_flag",
                       "feature_average")
    return {**hp, **{k: DEFAULT_HPARAMS.get(k) for k in descriptor_keys}, "n_mol_features": 0}


#: descriptor members' share of a mixed ensemble's mean tried on the validation set
MIX_GRID = tuple(round(0.1 * i, 1) for i in range(11))


def _mix_error(y: np.ndarray, p: np.ndarray, task_type: str) -> float:
    """Validation error of predictions ``p`` [n, t]: 1 - ROC-AUC, or RMSE / sd of the labels; mean over tasks."""
    from .metrics import mean_task_error

    return mean_task_error(y, p, task_type, relative=True, min_labels=2)


def _choose_mix(
    val: Any, y_val: np.ndarray, task_type: str, n_desc: int, n_members: int, fixed: float | None
) -> dict[str, Any]:
    """Share ``w`` of the descriptor members (the first ``n_desc``) in a mixed ensemble; see :func:`train`."""
    equal = n_desc / n_members
    errors: dict[str, float] = {}
    if fixed is not None:
        w, how = float(fixed), "given"
    elif val is None or not len(y_val):
        w, how = equal, "equal share (no validation molecules)"
    else:
        k = val.samples.shape[0] // n_members
        per_member = val.samples.reshape(n_members, k, *val.samples.shape[1:]).mean(axis=1)
        desc, graph = per_member[:n_desc].mean(axis=0), per_member[n_desc:].mean(axis=0)
        y = np.asarray(y_val, dtype=np.float64).reshape(len(y_val), -1)
        errors = {f"{w:.1f}": _mix_error(y, w * desc + (1 - w) * graph, task_type) for w in MIX_GRID}
        finite = {w: e for w, e in errors.items() if np.isfinite(e)}
        if finite:
            best = min(finite.values())
            # ties (to 1e-12) go to the share nearest the equal one
            w = min((float(k_) for k_, e in finite.items() if e <= best + 1e-12), key=lambda v: (abs(v - equal), v))
            how = "validation"
        else:
            w, how = equal, "equal share (no validation metric)"
    weights = [w / n_desc] * n_desc + [(1 - w) / (n_members - n_desc)] * (n_members - n_desc)
    return {"descriptor_share": w, "chosen_by": how, "validation_error_by_share": errors or None,
            "member_weights": weights}


def _reweighted(pred: Any, weights: np.ndarray | None) -> Any:
    """``pred`` with its mean recombined from its samples with ``weights`` (the spread stays unweighted)."""
    from .bundle import Prediction
    from .uncertainty import weighted_mean

    return Prediction(mean=weighted_mean(pred.samples, weights), std=pred.std, method=pred.method,
                      calibrated=pred.calibrated, samples=pred.samples, weights=weights)


def _has_both_classes(y: np.ndarray | None) -> bool:
    """True when some column of the ``[n, t]`` labels (NaN = missing) holds both 0 and 1."""
    if y is None:
        return False
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    return any(np.unique(col[np.isfinite(col)]).size > 1 for col in y.T)


def _fit_member(
    hp: dict[str, Any],
    seed: int,
    train_graphs: Any,
    y_train: np.ndarray,
    val_graphs: Any | None,
    y_val: np.ndarray | None,
    *,
    epochs: int,
    batch_size: int,
    patience: int | None,
    schedule: dict[str, float],
    progress: bool,
    precision: str = "32",
    ema: float | None = None,
    select_by: str = "loss",
) -> tuple[Any, dict[str, Any]]:
    """Train one member; returns the model (best weights, eval mode, CPU) and fit info."""
    import lightning.pytorch as pl
    from lightning.pytorch.callbacks import EarlyStopping

    from .data import GraphLoader
    from .models import build_model
    from .module import BestStateCallback, EMACallback, MolPropModule, ReleaseMemoryCallback

    pl.seed_everything(seed, workers=False, verbose=False)
    model = build_model(hp)
    if model.n_mol_features:
        model.fit_feature_scaler(train_graphs.mol_features.numpy())
    regression = hp["task_type"] == "regression"
    if regression:
        model.scaler.fit(y_train)
        y_tr = model.scaler.transform_numpy(y_train)
        y_va = None if y_val is None else model.scaler.transform_numpy(y_val)
    else:
        y_tr, y_va = y_train, y_val
    train_loader = GraphLoader(
        train_graphs, y_tr, batch_size=batch_size, shuffle=True, seed=seed, drop_last=bool(hp.get("batch_norm"))
    )
    val_loader = None
    if val_graphs is not None and len(val_graphs):
        # batches of the training size: one batch of the whole validation set held ~50 MB more at its peak
        val_loader = GraphLoader(val_graphs, y_va, batch_size=batch_size)
    monitor = "val_loss" if val_loader is not None else "train_loss"
    if select_by == "metric" and val_loader is not None:
        if regression or _has_both_classes(y_val):
            monitor = "val_score"
        else:
            log.warning("select_by='metric': no validation task has both classes, so no ROC-AUC; "
                        "early stopping and the kept weights follow the validation loss")
            select_by = "loss"
    best = BestStateCallback(monitor)
    callbacks: list[Any] = [best, ReleaseMemoryCallback()]
    if patience is not None and patience > 0:
        callbacks.append(EarlyStopping(monitor=monitor, patience=int(patience), mode="min", check_finite=False))
    if ema and val_loader is not None:
        # after BestStateCallback and EarlyStopping: both read the validation done with the averaged weights
        callbacks.append(EMACallback(float(ema)))
    module = MolPropModule(model, **schedule, steps_per_epoch=len(train_loader), select_by=select_by)
    accelerator, on_cpu = _accelerator()
    if on_cpu and precision.startswith("bf16"):
        _bound_onednn_caches()
    with _quiet_lightning(), _deterministic_state():
        trainer = pl.Trainer(
            accelerator=accelerator,
            devices=1,
            max_epochs=epochs,
            deterministic=True if on_cpu else "warn",
            logger=False,
            enable_checkpointing=False,
            enable_model_summary=False,
            enable_progress_bar=progress,
            num_sanity_val_steps=0,
            use_distributed_sampler=False,
            precision=precision,
            callbacks=callbacks,
        )
        trainer.fit(module, train_dataloaders=train_loader, val_dataloaders=val_loader)
    model = module.model.cpu().eval()
    info = {
        "seed": seed,
        "epochs_run": int(trainer.current_epoch),
        "best_epoch": int(best.best_epoch) + 1 if best.best_epoch >= 0 else None,
        f"best_{monitor}": best.best if np.isfinite(best.best) else None,
        "selected_by": monitor,
        "early_stopped": bool(trainer.current_epoch < epochs),
    }
    return model, info


def train(
    data: Any,
    smiles_col: str | None = None,
    target_cols: Sequence[str] | str | None = None,
    split: str = "scaffold",
    seed: int = 0,
    ensemble: int = 1,
    model: str = "dmpnn",
    epochs: int = 50,
    out: str | os.PathLike | None = None,
    *,
    task_type: str | None = None,
    sizes: Sequence[float] = (0.8, 0.1, 0.1),
    split_col: str | None = None,
    fold: int = 0,
    n_folds: int = 5,
    on_error: str = "report",
    standardize: bool = False,
    batch_size: int = 64,
    patience: int | None = 10,
    mc_dropout: int = 0,
    mc_p: float = 0.1,
    warmup_epochs: int = 2,
    init_lr: float = 1e-4,
    max_lr: float = 1e-3,
    final_lr: float = 1e-4,
    progress: bool = False,
    cache_dir: str | os.PathLike | None = None,
    num_threads: int | None = None,
    precision: str = "32",
    ema: float | None = None,
    select_by: str = "loss",
    graph_only_members: int = 0,
    mix_weight: float | None = None,
    **hparams: Any,
) -> TrainResult:
    """Train a graph model (ensemble) on a molecule table and evaluate it.

    Parameters
    ----------
    data : str, path or MoleculeTable
        A registered dataset name (``"ESOL"``), a CSV/TSV/SMI/SDF path, or a
        table from :func:`discovery.chem.read_molecules`.
    smiles_col, target_cols : optional
        Columns to read (default: the registry's, else the reader's detection).
    split : {"scaffold", "random", "kfold", "column"}, default "scaffold"
    seed : int, default 0
        Drives the split and member ``i``'s initialisation and batch order (``seed + i``).
    ensemble : int, default 1
        Number of members.
    model : {"dmpnn", "gin", "attentivefp"}, default "dmpnn"
    epochs : int, default 50
    out : path, optional
        Write the result folder here (atomically).
    task_type : {"regression", "classification"}, optional
        Default: the registry's, else classification if every label is 0/1.
    sizes : (train, val, test) fractions, default (0.8, 0.1, 0.1)
    split_col : str, optional
        Column with ``train``/``val``/``test`` per row, for ``split="column"``.
    fold, n_folds : int
        For ``split="kfold"``.
    on_error : {"report", "raise"}
        Invalid rows: skip and report (default) or fail on the first.
    standardize : bool
        Standardize molecules (RDKit cleanup, largest fragment) when reading.
    batch_size : int, default 64
    patience : int or None, default 10
        Early-stopping patience in epochs on the validation loss (None: off).
    mc_dropout : int, default 0
        ``T > 0``: uncertainty from ``T`` MC-dropout samples per member
        (calibrated on validation); otherwise ensemble spread (needs ``ensemble > 1``).
    mc_p : float, default 0.1
        MC-dropout rate when the model itself has ``dropout = 0``.
    warmup_epochs, init_lr, max_lr, final_lr :
        Chemprop's Noam-like schedule (2, 1e-4, 1e-3, 1e-4).
    progress : bool, default False
        Show Lightning's progress bar.
    cache_dir : path, optional
        Feature cache (default ``DISCOVERY_CACHE``).
    num_threads : int, optional
        torch intra-op threads during training (default: torch's).
    precision : {"32", "bf16-mixed"}, default "32"
        Training arithmetic (Lightning's ``precision``). ``"bf16-mixed"``
        runs the matrix products in bfloat16 under autocast while weights,
        optimizer state, losses and pooling stay float32; on CPUs with
        AVX512-BF16 or AMX (and on GPUs from Ampere on) a training step is
        about twice as fast, on older CPUs much slower. Saved models,
        evaluation and prediction are float32 either way. Results stay
        deterministic per seed on the same hardware. On the CPU, oneDNN's
        bf16 matrix kernels are compiled per batch shape and would be
        cached by the thousand (300 MB-1 GB of resident memory); training
        caps those caches at :data:`ONEDNN_CACHE_ENTRIES` entries.
    ema : float, optional
        Decay ``d`` of an exponential moving average of the weights
        (:class:`~discovery.molprop.module.EMACallback`, about ``1 / (1 - d)``
        steps): validation, early stopping and the kept best state use the
        averaged weights. Needs a validation set (ignored without one).
    select_by : {"loss", "metric"}, default "loss"
        What early stopping and the kept best epoch follow: the validation
        loss (Chemprop v2) or the task's metric on the validation set,
        ``1 - ROC-AUC`` for classification and RMSE for regression, averaged
        over tasks (Chemprop v1's ``--metric``; for one regression task the
        same choice as the loss). A classification validation set without
        both classes falls back to the loss, with a warning.
    graph_only_members : int, default 0
        With ``mol_features``: how many of the ``ensemble`` members learn
        from the graph alone (the last ones; the others read the
        descriptors too). The two kinds err differently: on our benchmark
        the descriptors help most on solubility and hydration free energy
        (ESOL, FreeSolv) and the graph alone does as well or better on
        Lipophilicity and BBBP, and the mean of one of each beat both on
        four of five sets. Must be below ``ensemble``. The ensemble's
        prediction is ``w * mean(descriptor members) + (1 - w) * mean(graph-only
        members)``.
    mix_weight : float in [0, 1], optional
        ``w`` above. Default: chosen on the validation set from 0, 0.1, ..., 1
        (the task's metric as in ``select_by="metric"``, RMSE in units of the
        target's spread; ties go to the value nearest the members' equal
        share); without validation molecules, the equal share. Recorded in
        ``metrics.json`` (``mixing``) and in the bundle (``member_weights``).
    **hparams
        Model hyperparameters: ``hidden`` (300), ``depth`` (3), ``dropout`` (0.0),
        ``aggregation`` ("norm"), ``bias``, ``timesteps`` (AttentiveFP),
        ``ffn_hidden`` (300), ``ffn_layers`` (1), ``batch_norm`` (False).

    Returns
    -------
    TrainResult

    Raises
    ------
    InputError
        Unreadable data, missing columns, non-numeric targets, all rows invalid,
        an empty training split.
    ConfigError
        Unknown model, split, hyperparameter or an invalid value.
    """
    from ..provenance import Timer

    timer = Timer()
    t_start = time.perf_counter()
    # ---- validate cheap options first (torch is not imported yet, so input errors come fast)
    unknown = sorted(set(hparams) - set(HPARAM_KEYS))
    if unknown:
        raise ConfigError(f"unknown hyperparameter(s) {unknown}; known: {list(HPARAM_KEYS)}")
    if ensemble < 1:
        raise ConfigError(f"ensemble must be >= 1, got {ensemble}")
    if epochs < 1:
        raise ConfigError(f"epochs must be >= 1, got {epochs}")
    if batch_size < 1:
        raise ConfigError(f"batch size must be >= 1, got {batch_size}")
    if on_error not in ("report", "raise"):
        raise ConfigError(f"on_error must be 'report' or 'raise', got {on_error!r}")
    if mc_dropout < 0:
        raise ConfigError(f"mc_dropout must be >= 0, got {mc_dropout}")
    for name, lr in (("init_lr", init_lr), ("max_lr", max_lr), ("final_lr", final_lr)):
        if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
            raise ConfigError(f"{name} must be a positive number, got {lr!r}", value=lr)
    if warmup_epochs < 0:
        raise ConfigError(f"warmup_epochs must be >= 0, got {warmup_epochs}", value=warmup_epochs)
    if ema is not None and not 0.0 < float(ema) < 1.0:
        raise ConfigError(f"ema must be in (0, 1), got {ema}", value=ema)
    if precision not in PRECISIONS:
        raise ConfigError(f"precision must be one of {list(PRECISIONS)}, got {precision!r}", value=precision)
    if select_by not in SELECT_BY:
        raise ConfigError(f"select_by must be one of {list(SELECT_BY)}, got {select_by!r}", value=select_by)
    mol_features = hparams.get("mol_features")
    if mol_features is not None:
        from ..chem.descriptors import DESCRIPTOR_SETS

        if mol_features not in DESCRIPTOR_SETS:
            raise ConfigError(
                f"unknown molecule descriptor set {mol_features!r}; choose one of {sorted(DESCRIPTOR_SETS)}",
                value=mol_features,
            )
    scaling = hparams.get("feature_scaling")
    if scaling is not None:
        from .models import FEATURE_SCALINGS

        if scaling not in FEATURE_SCALINGS:
            raise ConfigError(f"feature_scaling must be one of {list(FEATURE_SCALINGS)}, got {scaling!r}", value=scaling)
    if hparams.get("feature_flag") and not (mol_features and float(hparams.get("feature_dropout") or 0) > 0):
        raise ConfigError("feature_flag needs mol_features and feature_dropout > 0", value=True)
    if hparams.get("feature_average") and not (mol_features and float(hparams.get("feature_dropout") or 0) > 0):
        raise ConfigError("feature_average needs mol_features and feature_dropout > 0", value=True)
    if not (isinstance(graph_only_members, int) and 0 <= graph_only_members < ensemble):
        raise ConfigError(
            f"graph_only_members must be an integer in [0, ensemble - 1] = [0, {ensemble - 1}], got {graph_only_members!r}",
            value=graph_only_members,
        )
    if mix_weight is not None and not (graph_only_members and 0.0 <= float(mix_weight) <= 1.0):
        raise ConfigError(f"mix_weight must be in [0, 1] and needs graph_only_members > 0, got {mix_weight}",
                          value=mix_weight)
    if graph_only_members and mol_features is None:
        raise ConfigError("graph_only_members needs mol_features (the other members' descriptors)",
                          value=graph_only_members)
    fdrop = hparams.get("feature_dropout")
    if fdrop is not None and not 0.0 <= float(fdrop) < 1.0:
        raise ConfigError(f"feature_dropout must be in [0, 1), got {fdrop}", value=fdrop)
    if isinstance(target_cols, str):
        target_cols = [target_cols]

    # ---- data
    with timer("read"):
        table, path, info = load_table(
            data, smiles_col, target_cols, on_error=on_error, standardize=standardize, require_targets=True
        )
    tcols = list(table.target_cols)
    if not tcols:
        raise InputError(
            "no target columns to train on", file=str(path) if path else None, hint="name them with --target COLUMN"
        )
    targets = np.asarray(table.targets, dtype=np.float64).reshape(len(table), len(tcols))

    from ..chem import ATOM_FDIM, BOND_FDIM, FEATURIZER_VERSION, featurize_cached, make_split
    from .bundle import Predictor
    from .models import DEFAULT_HPARAMS, ENCODERS

    if model not in ENCODERS:
        raise ConfigError(f"unknown model {model!r}; choose one of {sorted(ENCODERS)}", value=model)
    agg = hparams.get("aggregation")
    if agg is not None and model != "attentivefp":
        from .models import AGGREGATIONS

        if agg not in AGGREGATIONS:
            raise ConfigError(f"unknown aggregation {agg!r}; choose one of {sorted(AGGREGATIONS)}", value=agg)
    if task_type is None:
        task_type = (_info_attr(info, "task_type", "task") if info is not None else None) or _infer_task_type(targets)
    if task_type not in ("regression", "classification"):
        raise ConfigError(f"task_type must be 'regression' or 'classification', got {task_type!r}")
    if task_type == "classification":
        _check_classification_targets(table)
    invalid = table.invalid
    n_invalid = int(len(invalid))

    # ---- split
    with timer("split"):
        column_values = None
        if split == "column":
            if not split_col:
                raise ConfigError("split 'column' needs split_col (--split-col COLUMN)")
            extra = getattr(table, "extra", None)
            if extra is None or split_col not in extra.columns:
                raise InputError(
                    "split column not found", file=str(path) if path else None, column=split_col,
                    hint="name a column holding train/val/test for each row",
                )
            column_values = extra[split_col].to_numpy()
        try:
            sp = make_split(
                table.smiles, kind=split, sizes=tuple(sizes), seed=seed, fold=fold, n_folds=n_folds,
                column_values=column_values, mols=getattr(table, "mols", None), rows=getattr(table, "rows", None),
            )
        except ValueError as err:
            raise ConfigError(f"cannot make a {split!r} split: {err}") from None
    if len(sp.train) == 0:
        raise InputError("the training split is empty", file=str(path) if path else None,
                         hint="use more molecules or larger train size")

    # ---- features (once, cached by content)
    with timer("featurize"):
        graphs = featurize_cached(table.smiles, getattr(table, "mols", None), cache_dir=cache_dir)
        if mol_features is not None:
            graphs = graphs.with_mol_features(_descriptors(table, mol_features))
    if not _is_table(data):
        # split and features are made: the RDKit molecules we parsed (~18 kB each) are
        # not needed any more; a table handed in by the caller is left untouched
        from ._memory import release_memory

        table.mols = []
        release_memory()
    g_train, g_val, g_test = (graphs.subset(idx) for idx in (sp.train, sp.val, sp.test))
    y_train, y_val, y_test = (targets[idx] for idx in (sp.train, sp.val, sp.test))
    for name, y in (("training", y_train),):
        if not np.isfinite(y).any():
            raise InputError(f"the {name} split has no target values", file=str(path) if path else None)

    hp = {
        **DEFAULT_HPARAMS,
        **{k: v for k, v in hparams.items() if v is not None},
        "model": model,
        "task_type": task_type,
        "n_tasks": len(tcols),
        "atom_fdim": int(ATOM_FDIM),
        "bond_fdim": int(BOND_FDIM),
        "n_mol_features": graphs.mol_fdim,
    }
    schedule = {"warmup_epochs": warmup_epochs, "init_lr": init_lr, "max_lr": max_lr, "final_lr": final_lr}

    # ---- train members
    import torch

    members, fit_info = [], []
    with timer("train"), _threads(num_threads):
        threads_used = torch.get_num_threads()  # results depend on it (float reduction order)
        for i in range(ensemble):
            if progress and ensemble > 1:
                print(f"training member {i + 1}/{ensemble} (seed {seed + i})", file=sys.stderr, flush=True)
            m, fi = _fit_member(
                hp if i < ensemble - graph_only_members else _graph_only(hp), seed + i, g_train, y_train,
                g_val if len(sp.val) else None, y_val if len(sp.val) else None,
                epochs=epochs, batch_size=batch_size, patience=patience, schedule=schedule, precision=precision, ema=ema,
                select_by=select_by, progress=progress,
            )
            fi["mol_features"] = m.hparams.get("mol_features")
            log.info("member %d/%d: %s", i + 1, ensemble, fi)
            members.append(m)
            fit_info.append(fi)

    # ---- evaluate
    with timer("evaluate"):
        uncertainty = "mc_dropout" if mc_dropout > 0 else ("ensemble" if ensemble > 1 else "none")
        meta: dict[str, Any] = {
            "model": {"name": model, "hparams": hp},
            "task_type": task_type,
            "target_cols": tcols,
            "smiles_col": getattr(table, "smiles_col", smiles_col),
            "featurizer": {
                "name": "discovery.chem",
                "version": str(FEATURIZER_VERSION),
                "atom_fdim": int(ATOM_FDIM),
                "bond_fdim": int(BOND_FDIM),
                **_descriptor_spec(mol_features),
            },
            "calibration": {"method": uncertainty, "scale": [1.0] * len(tcols),
                            "mc_samples": int(mc_dropout), "mc_p": float(mc_p)},
            "member_seeds": [seed + i for i in range(ensemble)],
            "training_data": {
                "source": str(path) if path else getattr(table, "source", None),
                "sha256": _data_sha256(table, path),
                "n_molecules": len(table),
                "dataset": getattr(info, "name", None),
            },
            "split": {"kind": split, "seed": seed, "sizes": list(sizes),
                      "fold": fold if split == "kfold" else None, "n_folds": n_folds if split == "kfold" else None},
            "training": {"epochs": epochs, "batch_size": batch_size, "patience": patience, "precision": precision,
                         "ema": ema, "select_by": select_by, "graph_only_members": graph_only_members,
                         **schedule},
            "standardize": bool(standardize),
        }
        predictor = Predictor(members, meta)
        results = _evaluate_splits(predictor, {"val": g_val, "test": g_test}, batch_size)
        mixing = None
        if graph_only_members:
            mixing = _choose_mix(results.get("val"), y_val, task_type, ensemble - graph_only_members, ensemble,
                                 mix_weight)
            meta["member_weights"] = mixing["member_weights"]
            results = {name: _reweighted(pr, predictor.sample_weights(mc_dropout)) for name, pr in results.items()}
        # calibration on validation
        cal_scale = [1.0] * len(tcols)
        cal_floor = [0.0] * len(tcols)
        unc_metrics: dict[str, Any] = {"method": uncertainty}
        if task_type == "regression" and uncertainty != "none":
            from .uncertainty import calibration_report, fit_calibration

            pv = results.get("val")
            if pv is not None and np.isfinite(y_val).any():
                sc, fl = fit_calibration(y_val, pv.mean, pv.std)
                cal_scale, cal_floor = sc.tolist(), fl.tolist()
                unc_metrics["fitted_on"] = "validation"
            else:
                unc_metrics["fitted_on"] = None
            meta["calibration"]["scale"] = cal_scale
            meta["calibration"]["floor"] = cal_floor
            meta["calibration"]["n_val"] = int(np.isfinite(y_val).sum())
            for name in ("val", "test"):
                pr = results.get(name)
                y = y_val if name == "val" else y_test
                if pr is not None and len(y):
                    unc_metrics[name] = calibration_report(y, pr.mean, pr.std, cal_scale, tcols, floor=cal_floor)
        elif task_type == "classification":
            unc_metrics["note"] = "std = ensemble standard deviation of the probabilities" if ensemble > 1 or mc_dropout else "single model: no uncertainty"
        else:
            unc_metrics["note"] = "single model without MC dropout: no uncertainty (use ensemble > 1 or mc_dropout > 0)"
        unc_metrics["calibration_scale"] = dict(zip(tcols, cal_scale))
        unc_metrics["calibration_floor"] = dict(zip(tcols, cal_floor))

        metrics = _metrics_json(
            results, {"val": y_val, "test": y_test, "train": y_train}, tcols, task_type, fit_info,
            n_train=len(sp.train), n_val=len(sp.val), n_test=len(sp.test), n_invalid=n_invalid,
        )
        metrics["uncertainty"] = unc_metrics
        if mixing is not None:
            metrics["mixing"] = mixing
        predictions = _prediction_frame(table, sp.test, y_test, results.get("test"), tcols, cal_scale, cal_floor)

    timings = dict(timer.timings)
    timings["total"] = time.perf_counter() - t_start
    metrics["timings_s"] = {k: round(v, 3) for k, v in timings.items()}
    config = {
        "data": str(data) if not _is_table(data) else f"MoleculeTable({getattr(data, 'source', None)})",
        "smiles_col": meta["smiles_col"], "target_cols": tcols, "task_type": task_type,
        "split": split, "sizes": list(sizes), "split_col": split_col, "fold": fold, "n_folds": n_folds,
        "seed": seed, "ensemble": ensemble, "model": model, "epochs": epochs, "batch_size": batch_size,
        "patience": patience, "mc_dropout": mc_dropout, "mc_p": mc_p, "on_error": on_error,
        "standardize": standardize, "hparams": hp, **schedule, "num_threads": threads_used,
        "precision": precision, "ema": ema, "select_by": select_by, "graph_only_members": graph_only_members,
        "mix_weight": mix_weight,
    }
    result = TrainResult(
        metrics=metrics, predictions=predictions, predictor=predictor.to(_device()), split=sp,
        invalid=invalid, config=config, timings=timings,
    )
    if out is not None:
        result.out = _write_outputs(Path(out), result, table, path, meta)
    return result


def _device() -> Any:
    from .bundle import select_device

    return select_device()


def _evaluate_splits(predictor: Any, parts: dict[str, Any], batch_size: int) -> dict[str, Any]:
    """Uncalibrated predictions (mean, std, samples) for each non-empty part, in batches of ``batch_size``.

    Batches of the training size keep the peak memory of a training run at that of its training steps
    (predicting a 420-molecule split in one batch raised it by ~100 MB on Lipophilicity).
    """
    return {name: predictor.predict_graphs(g, calibrated=False, batch_size=batch_size)
            for name, g in parts.items() if g is not None and len(g)}


def _metrics_json(
    results: dict[str, Any],
    ys: dict[str, np.ndarray],
    tcols: list[str],
    task_type: str,
    fit_info: list[dict[str, Any]],
    **counts: int,
) -> dict[str, Any]:
    from .metrics import metrics_table, summarize_members

    metrics: dict[str, Any] = {"task_type": task_type, "target_cols": tcols, **counts}
    n_members = len(fit_info)
    per_member: dict[str, list[Any]] = {}
    for name, pr in results.items():
        y = ys[name]
        metrics[name] = metrics_table(y, pr.mean, tcols, task_type)
        k = pr.samples.shape[0] // n_members
        tables = [metrics_table(y, pr.samples[i * k : (i + 1) * k].mean(0), tcols, task_type) for i in range(n_members)]
        per_member[name] = tables
    metrics["members"] = {
        "fit": fit_info,
        **{name: tables for name, tables in per_member.items()},
        "summary": {name: summarize_members(tables) for name, tables in per_member.items()},
    }
    if task_type == "regression" and "test" in results:
        # reference: predicting the training mean for every test molecule
        mean = np.nanmean(np.where(np.isfinite(ys["train"]), ys["train"], np.nan), axis=0)
        base = np.broadcast_to(mean, ys["test"].shape)
        metrics["baseline_train_mean"] = {"test": metrics_table(ys["test"], base, tcols, task_type)}
    return metrics


def _prediction_frame(
    table: Any, idx: np.ndarray, y: np.ndarray, pred: Any, tcols: list[str], scale: Sequence[float],
    floor: Sequence[float] | None = None,
) -> Any:
    import pandas as pd
    from .uncertainty import apply_calibration


    rows = np.asarray(getattr(table, "rows", np.arange(len(table)) + 2))
    df = pd.DataFrame({"smiles": [table.smiles[i] for i in idx], "row": rows[idx].astype(np.int64)})
    for j, col in enumerate(tcols):
        df[f"{col}_true"] = y[:, j] if len(idx) else []
        df[f"{col}_pred"] = pred.mean[:, j] if pred is not None else np.nan
        df[f"{col}_std"] = (
            apply_calibration(pred.std[:, j], [scale[j]], None if floor is None else [floor[j]]) if pred is not None else np.nan
        )
    return df


def _write_outputs(out: Path, result: TrainResult, table: Any, path: Path | None, meta: dict[str, Any]) -> Path:
    import json

    from ..chem import save_split_json
    from ..fsutil import atomic_dir
    from ..provenance import build_manifest, write_manifest
    from .bundle import TRAINING_SMILES, _json_default, save_bundle

    t0 = time.perf_counter()
    with atomic_dir(out) as tmp:
        save_bundle(tmp / "model", result.predictor.members, meta)
        # the training molecules, so that predict can attach an applicability-domain score
        train_smiles = [table.smiles[i] for i in result.split.train]
        (tmp / "model" / TRAINING_SMILES).write_text("".join(f"{s}\n" for s in train_smiles))
        result.predictions.to_csv(tmp / "test_predictions.csv", index=False)
        save_split_json(tmp / "splits.json", result.split, table.smiles)
        if hasattr(table, "write_invalid"):
            table.write_invalid(tmp / "invalid_rows.csv")
        else:
            result.invalid.to_csv(tmp / "invalid_rows.csv", index=False)
        (tmp / "metrics.json").write_text(json.dumps(result.metrics, indent=2, default=_json_default) + "\n")
        timings = dict(result.timings)
        timings["write"] = time.perf_counter() - t0
        manifest = build_manifest(
            kind="molprop.train",
            inputs={"data": path} if path is not None else {},
            config=result.config,
            seed=result.config.get("seed"),
            timings=timings,
            extra={"outputs": sorted(p.name for p in tmp.iterdir()) + ["manifest.json"],
                   "training_data_sha256": meta["training_data"]["sha256"]},
        )
        write_manifest(tmp, manifest)
    return out
