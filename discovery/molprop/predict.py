"""Chunked prediction with a saved bundle.

The input is streamed with :func:`discovery.chem.iter_molecules` in small
chunks; the valid molecules form the model's batches (``batch_size``), each
featurized, predicted, appended to the output CSV through an open file handle
and dropped, so memory holds about one batch of molecules and graphs whatever
the file size (see :func:`iter_prediction_chunks`), and the numbers do not
depend on the chunk size. The CSV is written under a temporary name and
renamed when complete; rejected rows go to a sibling ``<stem>.invalid.csv``
(always written, maybe empty).

Output columns: ``smiles``, ``row`` (1-based file line, header = 1), and for
each target ``<t>_pred`` (original units, or probability of class 1) and
``<t>_std`` (uncertainty after calibration; empty when the bundle has no
uncertainty method, i.e. a single model without MC dropout).
"""

from __future__ import annotations

import os
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

__all__ = ["PredictSummary", "predict", "invalid_path_for", "iter_prediction_chunks"]


@dataclass
class PredictSummary:
    """What :func:`predict` reports when it writes files.

    Attributes
    ----------
    out : Path
        The predictions CSV.
    invalid_out : Path
        The rejected-rows CSV (``row``, ``smiles``, ``reason``).
    n_predicted : int
    n_invalid : int
    uncertainty : str
        ``"ensemble"``, ``"mc_dropout"`` or ``"none"``.
    calibrated : bool
    seconds : float
    """

    out: Path
    invalid_out: Path
    n_predicted: int
    n_invalid: int
    uncertainty: str
    calibrated: bool
    seconds: float = 0.0
    columns: list[str] = field(default_factory=list)

    def line(self) -> str:
        """One-line human summary."""
        cal = "calibrated" if self.calibrated else "uncalibrated"
        unc = "no uncertainty" if self.uncertainty == "none" else f"uncertainty: {self.uncertainty}, {cal}"
        return (
            f"predicted {self.n_predicted} molecules -> {self.out} ({unc}); "
            f"{self.n_invalid} invalid rows -> {self.invalid_out} [{self.seconds:.1f} s]"
        )


def invalid_path_for(out: str | os.PathLike) -> Path:
    """``preds.csv`` -> ``preds.invalid.csv`` (next to the predictions)."""
    p = Path(out)
    return p.with_name(f"{p.stem}.invalid{p.suffix or '.csv'}")


def _chunks(data: Any, smiles_col: str | None, chunksize: int, on_error: str, standardize: bool = False) -> Iterator[Any]:
    from .train import _is_table

    if _is_table(data):
        yield data
        return
    from ..chem import iter_molecules
    from ..data import resolve

    path, info = resolve(data)
    if smiles_col is None and info is not None:
        smiles_col = getattr(info, "smiles_col", None) or getattr(info, "smiles_column", None)
    yield from iter_molecules(path, smiles_col, [], chunksize=chunksize, on_error=on_error, standardize=standardize)


class _Pending:
    """A chunk read from the input whose molecules are (partly) still waiting for the model."""

    __slots__ = ("chunk", "parts", "done")

    def __init__(self, chunk: Any) -> None:
        self.chunk = chunk
        self.parts: list[Any] = []
        self.done = 0

    @property
    def complete(self) -> bool:
        return self.done == len(self.chunk)

    def prediction(self) -> Any:
        if not self.parts:
            return None
        from .bundle import Prediction

        if len(self.parts) == 1:
            return self.parts[0]
        p0 = self.parts[0]
        return Prediction(
            mean=np.concatenate([p.mean for p in self.parts]),
            std=np.concatenate([p.std for p in self.parts]),
            method=p0.method,
            calibrated=p0.calibrated,
            samples=np.concatenate([p.samples for p in self.parts], axis=1),
            weights=p0.weights,
        )


def _slice_prediction(pred: Any, lo: int, hi: int) -> Any:
    from .bundle import Prediction

    return Prediction(mean=pred.mean[lo:hi], std=pred.std[lo:hi], method=pred.method,
                      calibrated=pred.calibrated, samples=pred.samples[:, lo:hi], weights=pred.weights)


def iter_prediction_chunks(
    predictor: Any,
    data: Any,
    *,
    smiles_col: str | None = None,
    chunksize: int = 10000,
    mc_dropout: int | None = None,
    mc_p: float | None = None,
    on_error: str = "report",
    batch_size: int = 1024,
) -> Iterator[tuple[Any, Any, Any]]:
    """Stream ``data`` through ``predictor``; yield ``(chunk_table, Prediction or None, invalid DataFrame)``.

    Records are read and parsed ``min(chunksize, batch_size)`` at a time; the
    valid molecules of consecutive chunks form the model's batches of
    ``batch_size`` (the last one shorter), which are featurized, predicted and
    dropped one at a time. Memory therefore holds at most about two batches of
    RDKit molecules and one batch of graphs, whatever the input size, and the
    numbers are exactly those of ``predictor.predict_graphs`` on all valid
    molecules at once with the same ``batch_size`` (MC-dropout masks included):
    they do not depend on ``chunksize``.

    Parameters
    ----------
    predictor : Predictor
    data : str, path or MoleculeTable
        Registry name or file (read in chunks), or a table.
    smiles_col, chunksize, mc_dropout, mc_p, on_error, batch_size
        As in :func:`predict`.

    Yields
    ------
    tuple
        ``(MoleculeTable chunk, Prediction of its len(chunk) molecules or None when it has none,
        DataFrame of its rejected rows)``, in input order.
    """
    from ._memory import mmap_large_blocks, release_memory

    if int(batch_size) < 1:
        from ..errors import ConfigError

        raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
    batch_size = int(batch_size)
    standardize = bool(predictor.meta.get("standardize", False))
    stream = predictor.stream(batch_size=batch_size, mc_samples=mc_dropout, mc_p=mc_p)
    mmap_large_blocks()  # batch tensors as their own mappings: no heap fragmentation (see _memory)
    pending: deque[_Pending] = deque()
    buf_mols: list[Any] = []
    buf_owner: list[tuple[_Pending, int]] = []

    def run_batch() -> None:
        pred = stream(predictor.featurize(buf_mols))
        lo = 0
        for entry, n in buf_owner:
            entry.parts.append(_slice_prediction(pred, lo, lo + n))
            entry.done += n
            lo += n
        buf_mols.clear()
        buf_owner.clear()
        del pred
        release_memory()  # keep the resident size flat (see discovery.molprop._memory)

    def completed() -> Iterator[tuple[Any, Any, Any]]:
        while pending and pending[0].complete:
            entry = pending.popleft()
            yield entry.chunk, entry.prediction(), entry.chunk.invalid

    for chunk in _chunks(data, smiles_col, min(chunksize, batch_size), on_error, standardize):
        entry = _Pending(chunk)
        pending.append(entry)
        mols, pos = chunk.mols, 0
        while pos < len(mols):
            take = min(batch_size - len(buf_mols), len(mols) - pos)
            buf_mols.extend(mols[pos : pos + take])
            buf_owner.append((entry, take))
            pos += take
            if len(buf_mols) == batch_size:
                run_batch()
        yield from completed()
    if buf_mols:
        run_batch()
    yield from completed()


def _frame(chunk: Any, pred: Any, tcols: list[str], ad: Any = None) -> Any:
    import pandas as pd

    df = pd.DataFrame({"smiles": list(chunk.smiles), "row": np.asarray(chunk.rows, dtype=np.int64)})
    for j, col in enumerate(tcols):
        df[f"{col}_pred"] = pred.mean[:, j] if pred is not None else np.empty(0)
        df[f"{col}_std"] = pred.std[:, j] if pred is not None else np.empty(0)
    if ad is not None:
        ad.attach(df)
    return df


#: columns added to predictions when the model's training set is known
AD_COLUMNS = ("ad_max_sim", "ad_nearest_smiles", "ad_in_domain")


class _Domain:
    """Nearest-neighbour applicability domain against a bundle's training molecules.

    ``ad_max_sim`` is the largest Tanimoto similarity (Morgan radius 2, 2048
    bits) of a molecule to the model's training split, ``ad_nearest_smiles``
    that training molecule, ``ad_in_domain`` whether ``ad_max_sim >=
    threshold`` (Sheridan et al. 2004). Computed with the NumPy kernel of
    :mod:`discovery.screening`, so prediction does not load JAX.
    """

    def __init__(self, training_smiles: list[str], threshold: float) -> None:
        from ..screening import FingerprintIndex

        self.index = FingerprintIndex.from_smiles(training_smiles, on_error="report")
        self.threshold = float(threshold)

    def attach(self, df: Any) -> None:
        """Add the :data:`AD_COLUMNS` for ``df["smiles"]`` to ``df`` (in place)."""
        from ..screening import applicability_domain

        if not len(df):  # a chunk of invalid rows only
            for name in AD_COLUMNS:
                df[name] = np.empty(0)
            return
        scores = applicability_domain(list(df["smiles"]), self.index, threshold=self.threshold, kernel="numpy")
        for name in AD_COLUMNS:
            df[name] = scores[name].to_numpy()


def _training_smiles(predictor: Any) -> list[str] | None:
    """Training-split SMILES saved beside a bundle (None for bundles written without them)."""
    from .bundle import TRAINING_SMILES

    folder = getattr(predictor, "path", None)
    if folder is None or not (Path(folder) / TRAINING_SMILES).is_file():
        return None
    return [s for s in (Path(folder) / TRAINING_SMILES).read_text().splitlines() if s]


def _domain(predictor: Any, ad: bool | None, threshold: float) -> _Domain | None:
    """The applicability-domain scorer: on by default when the training set is known."""
    if ad is False:
        return None
    smiles = _training_smiles(predictor)
    if smiles is None:
        if ad:
            from ..errors import ConfigError

            raise ConfigError("this model bundle does not record its training molecules, so no applicability "
                              "domain can be computed", file=str(getattr(predictor, "path", "")),
                              hint="retrain with this version, or predict without --ad")
        return None
    return _Domain(smiles, threshold)


class _Progress:
    """Rich progress over rows when stderr is a terminal; silent otherwise."""

    def __init__(self, enabled: bool, total: int | None) -> None:
        self.bar = None
        if enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(
                TextColumn("predicting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                transient=True,
            )
            self.task = self.bar.add_task("predict", total=total)
            self.bar.start()

    def advance(self, n: int) -> None:
        if self.bar is not None:
            self.bar.advance(self.task, n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _count_lines(path: Path) -> int | None:
    try:
        if path.suffix.lower() not in (".csv", ".tsv", ".smi", ".txt") or path.stat().st_size > (1 << 31):
            return None
        with open(path, "rb") as fh:
            return max(sum(1 for _ in fh) - 1, 0)
    except OSError:
        return None


def predict(
    model_dir: str | os.PathLike | Any,
    data: Any,
    out: str | os.PathLike | None = None,
    chunksize: int = 10000,
    *,
    smiles_col: str | None = None,
    mc_dropout: int | None = None,
    mc_p: float | None = None,
    on_error: str = "report",
    batch_size: int = 1024,
    progress: bool | None = None,
    log: Callable[[str], None] | None = None,
    ad: bool | None = None,
    ad_threshold: float = 0.35,
) -> Any:
    """Predict molecules with a trained bundle, chunk by chunk.

    Parameters
    ----------
    model_dir : path or Predictor
        A train output folder, its ``model/`` bundle, or a loaded :class:`Predictor`.
    data : str, path or MoleculeTable
        Registry name, file (CSV/TSV/SMI/SDF) or table.
    out : path, optional
        Write predictions here (CSV, atomically) and rejected rows to
        :func:`invalid_path_for` ``(out)``; otherwise return a DataFrame.
    chunksize : int, default 10000
        At most this many records are read and parsed at a time (the reader
        uses ``min(chunksize, batch_size)``); results do not depend on it.
    smiles_col : str, optional
        SMILES column (default: the reader's detection / registry's).
    mc_dropout : int, optional
        ``None``: the bundle's uncertainty method; ``0``: ensemble spread only;
        ``T > 0``: ``T`` MC-dropout samples per member.
    mc_p : float, optional
        MC-dropout rate for models trained without dropout.
    on_error : {"report", "raise"}
    batch_size : int, default 1024
        Molecules per featurization and forward pass; with the model's hidden
        size it sets the memory needed (the forward pass of a D-MPNN with
        hidden size 300 takes about 0.3 GB for 1024 drug-like molecules).
        Predictions can differ with it in the last float32 bits.
    progress : bool, optional
        Progress bar (default: when stderr is a terminal).
    log : callable, optional
        Receives the summary line.
    ad : bool, optional
        Attach the applicability domain (``ad_max_sim``, ``ad_nearest_smiles``,
        ``ad_in_domain``: nearest-neighbour Tanimoto to the model's training
        split). Default: when the bundle records its training molecules
        (bundles trained by this version do); ``True`` fails if it does not.
    ad_threshold : float, default 0.35
        ``ad_in_domain`` is ``ad_max_sim >= ad_threshold``.

    Returns
    -------
    pandas.DataFrame or PredictSummary
        The predictions (``smiles``, ``row``, ``<t>_pred``, ``<t>_std``, and the
        ``ad_*`` columns when the domain is known; the
        rejected rows in ``df.attrs["invalid"]``) when ``out`` is None, else
        a :class:`PredictSummary`.
    """
    import pandas as pd

    from ..fsutil import atomic_path
    from .bundle import Predictor, load_bundle

    t0 = time.perf_counter()
    if chunksize < 1:
        from ..errors import ConfigError

        raise ConfigError(f"chunksize must be >= 1, got {chunksize}")
    predictor = model_dir if isinstance(model_dir, Predictor) else load_bundle(model_dir)
    tcols = predictor.target_cols
    domain = _domain(predictor, ad, ad_threshold)
    ad_cols = list(AD_COLUMNS) if domain is not None else []
    if isinstance(data, (list, tuple)) and all(isinstance(s, str) for s in data):
        # a list of SMILES: predict in memory (row = position, 1-based)
        df = predictor.predict_smiles(data, mc_samples=mc_dropout, mc_p=mc_p, batch_size=batch_size)
        df.insert(1, "row", np.arange(1, len(df) + 1))
        if domain is not None:
            domain.attach(df)
        if out is None:
            return df
        bad = df["error"] != ""
        out = Path(out)
        inv_out = invalid_path_for(out)
        with atomic_path(out) as tmp, atomic_path(inv_out) as tmp_inv:
            df.loc[~bad].drop(columns="error").to_csv(tmp, index=False)
            df.loc[bad, ["row", "smiles", "error"]].rename(columns={"error": "reason"}).to_csv(tmp_inv, index=False)
        summary = PredictSummary(
            out=out, invalid_out=inv_out, n_predicted=int((~bad).sum()), n_invalid=int(bad.sum()),
            uncertainty=df.attrs["uncertainty"], calibrated=df.attrs["calibrated"], seconds=time.perf_counter() - t0,
        )
        if log is not None:
            log(summary.line())
        return summary
    if progress is None:
        progress = sys.stderr.isatty() and out is not None
    total = None
    if progress and not hasattr(data, "smiles"):
        try:
            from ..data import resolve

            total = _count_lines(Path(resolve(data)[0]))
        except Exception:
            total = None
    bar = _Progress(bool(progress), total)
    method, calibrated = predictor.default_method(), False
    n_pred = n_invalid = 0
    try:
        chunks = iter_prediction_chunks(
            predictor, data, smiles_col=smiles_col, chunksize=chunksize, mc_dropout=mc_dropout,
            mc_p=mc_p, on_error=on_error, batch_size=batch_size,
        )
        if out is None:
            frames, invalids = [], []
            for chunk, pred, inv in chunks:
                frames.append(_frame(chunk, pred, tcols, domain))
                invalids.append(inv)
                if pred is not None:
                    method, calibrated = pred.method, pred.calibrated
                bar.advance(len(chunk) + len(inv))
            df = pd.concat(frames, ignore_index=True) if frames else _frame_empty(tcols, ad_cols)
            inv_all = pd.concat(invalids, ignore_index=True) if invalids else pd.DataFrame(columns=["row", "smiles", "reason"])
            df.attrs["invalid"] = inv_all
            df.attrs["uncertainty"] = method
            df.attrs["calibrated"] = calibrated
            return df
        out = Path(out)
        inv_out = invalid_path_for(out)
        header = ["smiles", "row"] + [f"{c}_{k}" for c in tcols for k in ("pred", "std")] + ad_cols
        with atomic_path(out) as tmp, atomic_path(inv_out) as tmp_inv:
            # one handle per file, appended chunk by chunk: nothing accumulates in memory
            with open(tmp, "w", newline="") as fh, open(tmp_inv, "w", newline="") as fh_inv:
                # headers written by pandas too (same quoting and line ends as the rows)
                pd.DataFrame(columns=header).to_csv(fh, index=False)
                pd.DataFrame(columns=["row", "smiles", "reason"]).to_csv(fh_inv, index=False)
                for chunk, pred, inv in chunks:
                    df = _frame(chunk, pred, tcols, domain)
                    if len(df):
                        df.to_csv(fh, header=False, index=False)
                    if len(inv):
                        inv.loc[:, ["row", "smiles", "reason"]].to_csv(fh_inv, header=False, index=False)
                    if pred is not None:
                        method, calibrated = pred.method, pred.calibrated
                    n_pred += len(df)
                    n_invalid += len(inv)
                    bar.advance(len(chunk) + len(inv))
    finally:
        bar.close()
    summary = PredictSummary(
        out=out, invalid_out=inv_out, n_predicted=n_pred, n_invalid=n_invalid, uncertainty=method,
        calibrated=calibrated, seconds=time.perf_counter() - t0,
        columns=["smiles", "row"] + [f"{c}_{k}" for c in tcols for k in ("pred", "std")] + ad_cols,
    )
    if log is not None:
        log(summary.line())
    return summary


def _frame_empty(tcols: list[str], extra: list[str] | None = None) -> Any:
    import pandas as pd

    cols = ["smiles", "row"] + [f"{c}_{k}" for c in tcols for k in ("pred", "std")] + list(extra or [])
    return pd.DataFrame({c: [] for c in cols})
