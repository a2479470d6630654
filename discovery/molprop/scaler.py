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

__all__ = ["TargetScaler"]


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
