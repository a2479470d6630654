"""Target standardization kept inside the model as buffers.

Regression targets are trained on ``z = (y - mean) / std`` per task, with the
train-set mean and (population) standard deviation, missing values (NaN)
ignored. The statistics are buffers, so they travel with the ``state_dict``
and a loaded model predicts in original units without any side file.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

__all__ = ["TargetScaler", "QuantileScaler"]


class TargetScaler(nn.Module):
    """Per-task standardization ``z = (y - mean) / std``.

    Parameters
    ----------
    n_tasks : int
        Number of targets t; starts as the identity (mean 0, std 1).

    Attributes
    ----------
    mean, std : Tensor, shape [t], float32 buffers
    """

    mean: Tensor
    std: Tensor

    def __init__(self, n_tasks: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(n_tasks))
        self.register_buffer("std", torch.ones(n_tasks))

    def fit(self, y: np.ndarray) -> "TargetScaler":
        """Set mean/std from targets ``y`` [n, t] (NaN = missing).

        A task with no values, or a constant one, gets mean 0 / std 1
        respectively, so transforms stay finite.
        """
        y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        if y.shape[1] != self.mean.shape[0]:
            raise ValueError(f"expected {self.mean.shape[0]} target columns, got {y.shape[1]}")
        mean = np.zeros(y.shape[1])
        std = np.ones(y.shape[1])
        for j in range(y.shape[1]):
            col = y[:, j][np.isfinite(y[:, j])]
            if col.size:
                mean[j] = col.mean()
                s = col.std()
                std[j] = s if s > 0 else 1.0
        self.mean.copy_(torch.as_tensor(mean, dtype=self.mean.dtype))
        self.std.copy_(torch.as_tensor(std, dtype=self.std.dtype))
        return self

    def transform(self, y: Tensor) -> Tensor:
        """Original units -> standardized, [n, t] -> [n, t]."""
        return (y - self.mean) / self.std

    def inverse_transform(self, z: Tensor) -> Tensor:
        """Standardized -> original units, [n, t] -> [n, t]."""
        return z * self.std + self.mean

    def transform_numpy(self, y: np.ndarray) -> np.ndarray:
        """:meth:`transform` on a float array [n, t] (NaN stays NaN)."""
        return (np.asarray(y, dtype=np.float64) - self.mean.cpu().double().numpy()) / self.std.cpu().double().numpy()

    def state(self) -> dict[str, list[float]]:
        """JSON-ready ``{"mean": [...], "std": [...]}``."""
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}


class QuantileScaler(nn.Module):
    """Per-column empirical CDF, ``x -> F_train(x)`` in [0, 1] (piecewise linear between quantiles).

    The robust scaling Chemprop v1 applies to its ``rdkit_2d_normalized`` descriptors (there by a
    fitted distribution per descriptor; here by ``n_knots`` training quantiles): heavy tails and
    outliers are bounded, and every column has the same range whatever its units. A value equal to
    a run of tied quantiles maps to the middle of the run; values outside the training range map
    to 0 or 1; NaN stays NaN (the model maps it to 0.5, the training median).

    Attributes
    ----------
    knots : Tensor, shape [D, n_knots], float32 buffer (sorted per row)
    """

    knots: Tensor

    def __init__(self, n_features: int, n_knots: int = 101) -> None:
        super().__init__()
        self.register_buffer("knots", torch.linspace(0.0, 1.0, n_knots).repeat(n_features, 1))

    def fit(self, x: np.ndarray) -> "QuantileScaler":
        """Set the quantiles from the training values ``x`` [n, D] (NaN = missing)."""
        x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
        D, K = self.knots.shape
        if x.shape[1] != D:
            raise ValueError(f"expected {D} columns, got {x.shape[1]}")
        knots = np.zeros((D, K))
        grid = np.linspace(0.0, 1.0, K)
        for j in range(D):
            col = x[:, j][np.isfinite(x[:, j])]
            knots[j] = np.quantile(col, grid) if col.size else 0.0
        self.knots.copy_(torch.as_tensor(knots, dtype=self.knots.dtype))
        return self

    def transform(self, x: Tensor) -> Tensor:
        """[n, D] -> [n, D] in [0, 1] (NaN stays NaN)."""
        K = self.knots.shape[1]
        xt = x.to(self.knots.dtype).t().contiguous()  # [D, n]
        lo = torch.searchsorted(self.knots, xt, right=False)  # knots < x
        hi = torch.searchsorted(self.knots, xt, right=True)  # knots <= x
        # strictly between knots lo-1 and lo: interpolate linearly
        j = lo.clamp(1, K - 1)
        x0 = torch.gather(self.knots, 1, j - 1)
        x1 = torch.gather(self.knots, 1, j)
        t = ((xt - x0) / (x1 - x0).clamp_min(1e-12)).clamp(0.0, 1.0)
        between = (j - 1 + t) / (K - 1)
        tied = (lo + hi - 1).to(xt.dtype) / (2 * (K - 1))  # x equals knots lo..hi-1
        y = torch.where(hi > lo, tied, between)
        y = torch.where(hi == 0, torch.zeros_like(y), y)  # below every knot
        y = torch.where(lo >= K, torch.ones_like(y), y)  # above every knot
        y = torch.where(torch.isnan(xt), xt, y)
        return y.t().to(x.dtype)
