"""Chunked prediction with a saved bundle.

The input is streamed with :func:`discovery.chem.iter_molecules`: each chunk
is featurized, predicted and appended to the output CSV, so memory holds one
chunk of graphs at a time whatever the file size. The CSV is written under a
temporary name and renamed when complete; rejected rows go to a sibling
``<stem>.invalid.csv`` (always written, maybe empty).

Output columns: ``smiles``, ``row`` (1-based file line, header = 1), and for
each target ``<t>_pred`` (original units, or probability of class 1) and
``<t>_std`` (uncertainty after calibration; empty when the bundle has no
uncertainty method, i.e. a single model without MC dropout).
"""

from __future__ import annotations

import os
import sys
import time
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
    """Yield ``(chunk_table, Prediction or None, invalid DataFrame)`` per input chunk."""
    from ..chem import featurize

    standardize = bool(predictor.meta.get("standardize", False))
    for chunk in _chunks(data, smiles_col, chunksize, on_error, standardize):
        pred = None
        if len(chunk):
            graphs = featurize(chunk.mols)
            pred = predictor.predict_graphs(graphs, batch_size=batch_size, mc_samples=mc_dropout, mc_p=mc_p)
            del graphs
        yield chunk, pred, chunk.invalid


def _frame(chunk: Any, pred: Any, tcols: list[str]) -> Any:
    import pandas as pd

    df = pd.DataFrame({"smiles": list(chunk.smiles), "row": np.asarray(chunk.rows, dtype=np.int64)})
    for j, col in enumerate(tcols):
        df[f"{col}_pred"] = pred.mean[:, j] if pred is not None else np.empty(0)
        df[f"{col}_std"] = pred.std[:, j] if pred is not None else np.empty(0)
    return df


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
        Molecules per chunk (bounds memory).
    smiles_col : str, optional
        SMILES column (default: the reader's detection / registry's).
    mc_dropout : int, optional
        ``None``: the bundle's uncertainty method; ``0``: ensemble spread only;
        ``T > 0``: ``T`` MC-dropout samples per member.
    mc_p : float, optional
        MC-dropout rate for models trained without dropout.
    on_error : {"report", "raise"}
    batch_size : int, default 1024
    progress : bool, optional
        Progress bar (default: when stderr is a terminal).
    log : callable, optional
        Receives the summary line.

    Returns
    -------
    pandas.DataFrame or PredictSummary
        The predictions (``smiles``, ``row``, ``<t>_pred``, ``<t>_std``; the
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
    if isinstance(data, (list, tuple)) and all(isinstance(s, str) for s in data):
        # a list of SMILES: predict in memory (row = position, 1-based)
        df = predictor.predict_smiles(data, mc_samples=mc_dropout, mc_p=mc_p, batch_size=batch_size)
        df.insert(1, "row", np.arange(1, len(df) + 1))
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
                frames.append(_frame(chunk, pred, tcols))
                invalids.append(inv)
                if pred is not None:
                    method, calibrated = pred.method, pred.calibrated
                bar.advance(len(chunk) + len(inv))
            df = pd.concat(frames, ignore_index=True) if frames else _frame_empty(tcols)
            inv_all = pd.concat(invalids, ignore_index=True) if invalids else pd.DataFrame(columns=["row", "smiles", "reason"])
            df.attrs["invalid"] = inv_all
            df.attrs["uncertainty"] = method
            df.attrs["calibrated"] = calibrated
            return df
        out = Path(out)
        inv_out = invalid_path_for(out)
        with atomic_path(out) as tmp, atomic_path(inv_out) as tmp_inv:
            first = True
            first_inv = True
            for chunk, pred, inv in chunks:
                df = _frame(chunk, pred, tcols)
                if len(df) or first:
                    df.to_csv(tmp, mode="w" if first else "a", header=first, index=False)
                    first = False
                if len(inv) or first_inv:
                    inv.loc[:, ["row", "smiles", "reason"]].to_csv(
                        tmp_inv, mode="w" if first_inv else "a", header=first_inv, index=False
                    )
                    first_inv = False
                if pred is not None:
                    method, calibrated = pred.method, pred.calibrated
                n_pred += len(df)
                n_invalid += len(inv)
                bar.advance(len(chunk) + len(inv))
            if first:
                _frame_empty(tcols).to_csv(tmp, index=False)
            if first_inv:
                pd.DataFrame(columns=["row", "smiles", "reason"]).to_csv(tmp_inv, index=False)
    finally:
        bar.close()
    summary = PredictSummary(
        out=out, invalid_out=inv_out, n_predicted=n_pred, n_invalid=n_invalid, uncertainty=method,
        calibrated=calibrated, seconds=time.perf_counter() - t0,
        columns=["smiles", "row"] + [f"{c}_{k}" for c in tcols for k in ("pred", "std")],
    )
    if log is not None:
        log(summary.line())
    return summary


def _frame_empty(tcols: list[str]) -> Any:
    import pandas as pd

    cols = ["smiles", "row"] + [f"{c}_{k}" for c in tcols for k in ("pred", "std")]
    return pd.DataFrame({c: [] for c in cols})
