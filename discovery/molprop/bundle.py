"""Model bundles: a folder that fully describes a trained (ensemble) model.

Layout::

    model/
      bundle.json      format_version, task, targets, model name + hparams,
                       featurizer spec, target scaler, calibration, ensemble
                       size, training-data sha256, split
      member_0.pt      {"format_version", "hparams", "state_dict", "seed"}
      member_1.pt      ...

Member files hold only plain tensors, dicts, lists, strings and numbers
(``torch.save`` of a dict; read back with ``torch.load(weights_only=True)``),
never pickled classes, so a bundle keeps loading when the code's classes move
or change. :func:`load_bundle` rebuilds each member with
:func:`~discovery.molprop.models.build_model` from its ``hparams``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from ..errors import ModelFormatError
from ..fsutil import atomic_write_text
from .models import MoleculeModel, build_model
from .uncertainty import apply_calibration, combine_samples, effective_mc_p, mc_dropout, weighted_mean

__all__ = ["FORMAT_VERSION", "Prediction", "PredictionStream", "Predictor", "save_bundle", "load_bundle", "select_device"]

#: version of ``bundle.json`` and ``member_*.pt``; bump when their layout changes
FORMAT_VERSION = 1


def select_device(device: str | None = None) -> torch.device:
    """Device for inference: ``DISCOVERY_DEVICE`` (``auto`` -> CUDA if available, else CPU)."""
    from ..config import get_settings

    name = device or get_settings().device
    if name in ("", "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


@dataclass
class Prediction:
    """Predictions of a bundle for ``n`` molecules and ``t`` targets.

    Attributes
    ----------
    mean : np.ndarray, shape [n, t]
        Original units (regression) or probability of class 1 (classification).
    std : np.ndarray, shape [n, t]
        Uncertainty: standard deviation over members/dropout samples, times
        the calibration scale when ``calibrated``; NaN when ``method == "none"``.
    method : str
        ``"ensemble"``, ``"mc_dropout"`` or ``"none"``.
    calibrated : bool
        Whether the bundle's calibration scale was applied to ``std``.
    samples : np.ndarray, shape [k, n, t]
        Every member (x dropout sample) prediction.
    weights : np.ndarray, shape [k], optional
        Weight of each sample in ``mean`` (None: equal); ``std`` is the
        unweighted spread of the samples either way.
    """

    mean: np.ndarray
    std: np.ndarray
    method: str
    calibrated: bool
    samples: np.ndarray = field(repr=False)
    weights: np.ndarray | None = field(default=None, repr=False)


class Predictor:
    """A loaded bundle: ensemble members plus everything needed to use them.

    Parameters
    ----------
    members : list of MoleculeModel
    meta : dict
        The content of ``bundle.json``.
    path : Path, optional
        Folder it was loaded from.
    """

    def __init__(self, members: Sequence[MoleculeModel], meta: dict[str, Any], path: Path | None = None) -> None:
        if not members:
            raise ValueError("a Predictor needs at least one member model")
        self.members = list(members)
        self.meta = meta
        self.path = path
        self.device = torch.device("cpu")
        for m in self.members:
            m.eval()

    # -- description -----------------------------------------------------------
    @property
    def task_type(self) -> str:
        return str(self.meta["task_type"])

    @property
    def target_cols(self) -> list[str]:
        return list(self.meta["target_cols"])

    @property
    def smiles_col(self) -> str | None:
        return self.meta.get("smiles_col")

    @property
    def calibration(self) -> dict[str, Any]:
        return dict(self.meta.get("calibration") or {"method": "none", "scale": [1.0] * len(self.target_cols)})

    @property
    def ensemble_size(self) -> int:
        return len(self.members)

    @property
    def member_weights(self) -> np.ndarray | None:
        """Weight of each member in the ensemble mean (``None``: equal; set for mixed ensembles)."""
        w = self.meta.get("member_weights")
        if w is None:
            return None
        w = np.asarray(w, dtype=np.float64)
        if w.shape != (len(self.members),) or not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
            raise ValueError(f"member_weights must be {len(self.members)} non-negative numbers with a positive "
                             f"sum, got {self.meta['member_weights']!r}")
        return w

    def sample_weights(self, mc_samples: int) -> np.ndarray | None:
        """Weights of the ``members x max(mc_samples, 1)`` rows of ``Prediction.samples`` (``None``: equal)."""
        w = self.member_weights
        return None if w is None else np.repeat(w, max(int(mc_samples), 1))

    def __repr__(self) -> str:
        name = self.meta.get("model", {}).get("name")
        return (
            f"Predictor(model={name!r}, task_type={self.task_type!r}, targets={self.target_cols}, "
            f"ensemble={self.ensemble_size}, uncertainty={self.calibration.get('method')!r})"
        )

    def to(self, device: str | torch.device) -> "Predictor":
        self.device = torch.device(device)
        for m in self.members:
            m.to(self.device)
        return self

    # -- prediction --------------------------------------------------------------
    def default_method(self) -> str:
        """Uncertainty method the bundle was calibrated for."""
        return str(self.calibration.get("method", "none"))

    def _resolve_mc(self, mc_samples: int | None, mc_p: float | None) -> tuple[int, str, float]:
        """``(mc_samples, method, dropout rate)`` for a prediction call (see :meth:`predict_graphs`)."""
        cal = self.calibration
        if mc_samples is None:
            mc_samples = int(cal.get("mc_samples") or 0) if cal.get("method") == "mc_dropout" else 0
        mc_samples = int(mc_samples)
        if mc_samples < 0:
            raise ValueError(f"mc_samples must be >= 0, got {mc_samples}")
        if mc_samples > 0:
            method = "mc_dropout"
        elif len(self.members) > 1:
            method = "ensemble"
        else:
            method = "none"
        p_default = mc_p if mc_p is not None else float(cal.get("mc_p") or 0.1)
        return mc_samples, method, p_default

    def stream(
        self,
        *,
        batch_size: int = 1024,
        mc_samples: int | None = None,
        mc_p: float | None = None,
        calibrated: bool = True,
        seed: int = 0,
    ) -> "PredictionStream":
        """A :class:`PredictionStream`: predict one long sequence of molecules piece by piece.

        Parameters are those of :meth:`predict_graphs`.
        """
        return PredictionStream(self, batch_size=batch_size, mc_samples=mc_samples, mc_p=mc_p,
                                calibrated=calibrated, seed=seed)

    def predict_graphs(
        self,
        graphs: Any,
        *,
        batch_size: int = 1024,
        mc_samples: int | None = None,
        mc_p: float | None = None,
        calibrated: bool = True,
        seed: int = 0,
    ) -> Prediction:
        """Predict packed graphs with every member; mean and uncertainty.

        Parameters
        ----------
        graphs : PackedGraphs
            ``n`` molecules.
        batch_size : int, default 1024
            Molecules per forward pass. Results can differ with it in the last
            float32 bits (matrix-product blocking depends on the batch shape);
            they do not depend on anything else about the call.
        mc_samples : int, optional
            ``None``: use the method the bundle was calibrated for. ``0``: no
            MC dropout (ensemble spread; NaN std for a single model). ``T > 0``:
            ``T`` stochastic passes per member with dropout on.
        mc_p : float, optional
            Dropout rate for MC dropout when the model itself has none
            (default: the bundle's, else 0.1).
        calibrated : bool, default True
            Multiply ``std`` by the bundle's calibration scale when it was
            fitted for the method used.
        seed : int, default 0
            Seeds the dropout masks (same call -> same numbers).

        Returns
        -------
        Prediction
        """
        return self.stream(batch_size=batch_size, mc_samples=mc_samples, mc_p=mc_p,
                           calibrated=calibrated, seed=seed)(graphs)

    @property
    def mol_features(self) -> str | None:
        """Name of the molecule-level descriptor set the members read (``None``: graphs only)."""
        spec = self.meta.get("featurizer", {}).get("mol_features") or {}
        return spec.get("name")

    def featurize(self, mols: Sequence[Any]) -> Any:
        """Featurize parsed molecules the way this bundle's members were trained.

        Graphs (:func:`discovery.chem.featurize`) plus, for models trained with
        molecule-level descriptors, those descriptors.
        """
        from ..chem import featurize

        graphs = featurize(mols)
        if self.mol_features is not None:
            from ..chem.descriptors import mol_descriptors

            graphs = graphs.with_mol_features(mol_descriptors(mols, self.mol_features)[0])
        return graphs

    def predict_smiles(self, smiles: Sequence[str], **kwargs: Any) -> Any:
        """Predict a list of SMILES.

        Molecules are parsed (and standardized, if the model was trained on
        standardized molecules) like the training data. SMILES that cannot be
        used get NaN predictions and the reason in ``error``.

        Parameters
        ----------
        smiles : sequence of str
        **kwargs
            Passed to :meth:`predict_graphs` (``mc_samples``, ``mc_p``, ...).

        Returns
        -------
        pandas.DataFrame
            ``smiles``, ``<t>_pred``, ``<t>_std`` per target, ``error`` ("" when fine).
        """
        import pandas as pd

        from ..chem import parse_smiles

        smiles = [str(s) for s in smiles]
        mols, ok, errors = [], [], []
        for i, s in enumerate(smiles):
            mol, reason = parse_smiles(s)
            if mol is not None and self.meta.get("standardize"):
                from ..chem import standardize_mol

                try:
                    mol = standardize_mol(mol)
                except ValueError as err:
                    mol, reason = None, str(err)
            if mol is None:
                errors.append(str(reason))
            else:
                mols.append(mol)
                ok.append(i)
                errors.append("")
        t = len(self.target_cols)
        mean = np.full((len(smiles), t), np.nan)
        std = np.full((len(smiles), t), np.nan)
        method, calibrated = self.default_method(), False
        if mols:
            pred = self.predict_graphs(self.featurize(mols), **kwargs)
            mean[ok], std[ok] = pred.mean, pred.std
            method, calibrated = pred.method, pred.calibrated
        df = pd.DataFrame({"smiles": smiles})
        for j, col in enumerate(self.target_cols):
            df[f"{col}_pred"] = mean[:, j]
            df[f"{col}_std"] = std[:, j]
        df["error"] = errors
        df.attrs["uncertainty"], df.attrs["calibrated"] = method, calibrated
        return df

    # -- saving ----------------------------------------------------------------
    def save(self, folder: str | os.PathLike) -> Path:
        """Write this predictor as a bundle folder (see :func:`save_bundle`)."""
        return save_bundle(folder, self.members, self.meta)


class PredictionStream:
    """Predict consecutive pieces of one molecule sequence exactly as one call would.

    ``stream(g1)``, ``stream(g2)``, ... give the same numbers, bit for bit, as
    ``predictor.predict_graphs(concat(g1, g2, ...))`` with the same settings,
    provided every piece but the last holds a multiple of ``batch_size``
    molecules (then the forward passes see the same batches) — MC-dropout
    masks included: the random state is carried from one piece to the next.
    This is what lets :func:`discovery.molprop.predict` stream a file of any
    size through a model with one batch of graphs in memory.

    Parameters
    ----------
    predictor : Predictor
    batch_size, mc_samples, mc_p, calibrated, seed
        As in :meth:`Predictor.predict_graphs`.
    """

    def __init__(
        self,
        predictor: Predictor,
        *,
        batch_size: int = 1024,
        mc_samples: int | None = None,
        mc_p: float | None = None,
        calibrated: bool = True,
        seed: int = 0,
    ) -> None:
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.predictor = predictor
        self.batch_size = int(batch_size)
        self.mc_samples, self.method, self.p = predictor._resolve_mc(mc_samples, mc_p)
        self.calibrated = calibrated
        self.seed = int(seed)
        self._rng_state: tuple[torch.Tensor, torch.Tensor | None] | None = None

    @torch.no_grad()
    def __call__(self, graphs: Any) -> Prediction:
        """Predict the next piece (``PackedGraphs`` of ``n`` molecules) -> :class:`Prediction` of ``n`` rows."""
        from .data import iter_batches

        pr = self.predictor
        dev = pr.device
        n, t = len(graphs), len(pr.target_cols)
        mc = self.mc_samples
        k = len(pr.members) * max(mc, 1)
        samples = np.empty((k, n, t), dtype=np.float64)
        cuda = dev.type == "cuda"
        cuda_index = dev.index if dev.index is not None else (torch.cuda.current_device() if cuda else 0)
        with torch.random.fork_rng(devices=[cuda_index] if cuda else []):
            if self._rng_state is None:
                torch.manual_seed(self.seed)
            else:
                torch.set_rng_state(self._rng_state[0])
                if cuda and self._rng_state[1] is not None:
                    torch.cuda.set_rng_state(self._rng_state[1], cuda_index)
            for idx, g in iter_batches(graphs, self.batch_size):
                g = g.to(dev)
                lo, hi = int(idx[0]), int(idx[-1]) + 1
                row = 0
                for model in pr.members:
                    if mc > 0:
                        with mc_dropout(model, effective_mc_p(model, self.p)):
                            for _ in range(mc):
                                samples[row, lo:hi] = model.predict(g).cpu().double().numpy()
                                row += 1
                    else:
                        samples[row, lo:hi] = model.predict(g).cpu().double().numpy()
                        row += 1
            self._rng_state = (torch.get_rng_state(), torch.cuda.get_rng_state(cuda_index) if cuda else None)
        weights = pr.sample_weights(mc)
        mean, std = weighted_mean(samples, weights), combine_samples(samples)[1]
        is_cal = False
        cal = pr.calibration
        if self.method == "none":
            std = np.full_like(mean, np.nan)
        elif self.calibrated and pr.task_type == "regression" and cal.get("method") == self.method:
            std = apply_calibration(std, cal.get("scale", [1.0] * t), cal.get("floor"))
            is_cal = True
        return Prediction(mean=mean, std=std, method=self.method, calibrated=is_cal, samples=samples, weights=weights)


#: file of a bundle folder listing the training-split SMILES, one per line (read by predict's
#: applicability domain; bundles written before it existed simply have no domain)
TRAINING_SMILES = "training_smiles.smi"


def save_bundle(folder: str | os.PathLike, members: Sequence[MoleculeModel], meta: dict[str, Any]) -> Path:
    """Write ``bundle.json`` and ``member_{i}.pt`` into ``folder``.

    Parameters
    ----------
    folder : path
        Created if missing (the caller makes it atomic, e.g. inside ``atomic_dir``).
    members : list of MoleculeModel
    meta : dict
        Bundle metadata (task_type, target_cols, ...); ``format_version``,
        ``ensemble_size``, ``members``, ``model`` and ``scaler`` are filled in here.

    Returns
    -------
    Path
        The folder.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    meta = dict(meta)
    meta["format_version"] = FORMAT_VERSION
    meta["ensemble_size"] = len(members)
    meta["members"] = []
    hp0 = members[0].hparams
    meta["model"] = {"name": hp0.get("model"), "hparams": hp0}
    meta["scaler"] = members[0].scaler.state()
    for i, model in enumerate(members):
        name = f"member_{i}.pt"
        state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        payload = {
            "format_version": FORMAT_VERSION,
            "hparams": dict(model.hparams),
            "state_dict": state,
            "seed": meta.get("member_seeds", [None] * len(members))[i],
        }
        tmp = folder / f".{name}.partial"
        torch.save(payload, tmp)
        os.replace(tmp, folder / name)
        meta["members"].append(name)
    atomic_write_text(folder / "bundle.json", json.dumps(meta, indent=2, default=_json_default) + "\n")
    return folder


def _json_default(o: Any) -> Any:
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serializable: {type(o).__name__}")


def _bundle_dir(path: str | os.PathLike) -> Path:
    p = Path(path)
    if (p / "bundle.json").is_file():
        return p
    if (p / "model" / "bundle.json").is_file():
        return p / "model"
    raise ModelFormatError(
        "not a model bundle: no bundle.json here or in its model/ folder",
        file=str(p),
        hint="pass the output folder of 'discovery molprop train' or its model/ subfolder",
    )


def _check_version(value: Any, where: Path) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ModelFormatError(f"missing or invalid format_version {value!r}", file=str(where))
    if value > FORMAT_VERSION:
        raise ModelFormatError(
            f"model bundle format_version {value} is newer than this discovery understands "
            f"(it reads format_version <= {FORMAT_VERSION})",
            file=str(where),
            hint="upgrade the discovery package, or retrain the model with this version",
        )
    if value < 1:
        raise ModelFormatError(f"unknown format_version {value}", file=str(where))


def _check_featurizer(spec: dict[str, Any], where: Path) -> None:
    try:
        from .. import chem
    except ImportError:  # pragma: no cover - chem is part of the package
        return
    current = {
        "version": str(getattr(chem, "FEATURIZER_VERSION", spec.get("version"))),
        "atom_fdim": int(getattr(chem, "ATOM_FDIM", spec.get("atom_fdim"))),
        "bond_fdim": int(getattr(chem, "BOND_FDIM", spec.get("bond_fdim"))),
    }
    desc = spec.get("mol_features")
    if desc:
        from ..chem.descriptors import DESCRIPTOR_SETS, DESCRIPTORS_VERSION

        name = desc.get("name")
        known = name in DESCRIPTOR_SETS and list(DESCRIPTOR_SETS[name]) == list(desc.get("names", []))
        spec = {**spec, "descriptor set": name, "descriptors version": desc.get("version")}
        current["descriptor set"] = name if known else f"no set {name!r} with the same descriptors"
        current["descriptors version"] = DESCRIPTORS_VERSION
    for key, now in current.items():
        if key in spec and str(spec[key]) != str(now):
            raise ModelFormatError(
                f"model was trained with featurizer {key} {spec[key]!r}, this discovery's featurizer has {now!r}",
                file=str(where),
                hint="retrain the model with this version of discovery, or install the version that trained it",
            )


def load_bundle(path: str | os.PathLike, device: str | torch.device | None = None) -> Predictor:
    """Load a bundle folder (or a train output folder containing ``model/``).

    Parameters
    ----------
    path : path
        Folder with ``bundle.json`` or a run folder with ``model/bundle.json``.
    device : str or torch.device, optional
        Default: ``DISCOVERY_DEVICE`` (auto: CUDA if available).

    Returns
    -------
    Predictor

    Raises
    ------
    ModelFormatError
        No bundle, unreadable files, a ``format_version`` newer than this
        code, a featurizer that differs from the current one, or weights that
        do not fit the recorded hyperparameters.
    """
    folder = _bundle_dir(path)
    meta_path = folder / "bundle.json"
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ModelFormatError(f"cannot read bundle.json: {err}", file=str(meta_path)) from None
    if not isinstance(meta, dict):
        raise ModelFormatError("bundle.json is not a JSON object", file=str(meta_path))
    _check_version(meta.get("format_version"), meta_path)
    for key in ("task_type", "target_cols", "members"):
        if key not in meta:
            raise ModelFormatError(f"bundle.json lacks {key!r}", file=str(meta_path))
    _check_featurizer(meta.get("featurizer") or {}, meta_path)
    members = []
    for name in meta["members"]:
        mpath = folder / name
        try:
            payload = torch.load(mpath, map_location="cpu", weights_only=True)
        except FileNotFoundError:
            raise ModelFormatError("member weights file is missing", file=str(mpath)) from None
        except Exception as err:  # corrupt file, pickled classes, ...
            raise ModelFormatError(f"cannot read member weights ({type(err).__name__}: {err})", file=str(mpath)) from None
        if not isinstance(payload, dict) or "state_dict" not in payload or "hparams" not in payload:
            raise ModelFormatError("member file lacks hparams/state_dict", file=str(mpath))
        _check_version(payload.get("format_version"), mpath)
        try:
            model = build_model(payload["hparams"])
            model.load_state_dict(payload["state_dict"], strict=True)
        except (RuntimeError, ValueError, KeyError, TypeError) as err:
            raise ModelFormatError(f"weights do not match the recorded hyperparameters: {err}", file=str(mpath)) from None
        members.append(model)
    predictor = Predictor(members, meta, path=folder)
    try:
        predictor.member_weights
    except (ValueError, TypeError) as err:
        raise ModelFormatError(str(err), file=str(meta_path)) from None
    return predictor.to(select_device(None if device is None else str(device)))
