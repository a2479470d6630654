"""Batch iteration over packed graphs, without a torch ``DataLoader``.

The whole training set is featurized once into one
:class:`discovery.chem.PackedGraphs`; an epoch is a permutation of its
indices (drawn from a generator seeded by ``(seed, epoch)``) cut into
batches, each assembled by the vectorized ``PackedGraphs.collate``. That
avoids per-molecule ``Data`` objects, worker processes and Python-level
collation, which dominate the step time of small molecular models.

Targets are standardized once up front (regression) and handed out as two
float32 tensors, the values with NaN replaced by 0 and a 0/1 mask.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np
import torch

__all__ = ["Batch", "GraphLoader", "iter_batches"]


@dataclass
class Batch:
    """One training/evaluation batch.

    Attributes
    ----------
    graphs : GraphBatch
        The collated graphs (``num_graphs = B``).
    y : torch.Tensor or None
        ``[B, t]`` float32 targets (standardized for regression), NaN -> 0.
    mask : torch.Tensor or None
        ``[B, t]`` float32, 1 where a target is present.
    index : torch.Tensor
        ``[B]`` int64 positions of these molecules in the packed set.
    """

    graphs: Any
    y: torch.Tensor | None
    mask: torch.Tensor | None
    index: torch.Tensor

    def to(self, device: torch.device | str) -> "Batch":
        dev = torch.device(device)
        if dev.type == "cpu" and self.graphs.x.device.type == "cpu":
            return self
        return Batch(
            graphs=self.graphs.to(dev),
            y=None if self.y is None else self.y.to(dev),
            mask=None if self.mask is None else self.mask.to(dev),
            index=self.index,
        )


class GraphLoader:
    """Iterable of :class:`Batch` over a :class:`~discovery.chem.PackedGraphs`.

    Parameters
    ----------
    graphs : PackedGraphs
        ``n`` molecules.
    targets : np.ndarray, optional
        ``[n, t]`` float targets, NaN = missing (already standardized if wanted).
    batch_size : int, default 64
    shuffle : bool, default False
        Draw a new permutation each epoch from ``np.random.default_rng([seed, epoch])``,
        where ``epoch`` counts the calls to ``iter()``.
    seed : int, default 0
    drop_last : bool, default False
        Drop a final incomplete batch (needed with batch norm for size-1 batches).

    Notes
    -----
    ``len(loader)`` is the number of batches per epoch, which Lightning uses
    for the learning-rate schedule.
    """

    def __init__(
        self,
        graphs: Any,
        targets: np.ndarray | None = None,
        batch_size: int = 64,
        shuffle: bool = False,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.graphs = graphs
        self.n = len(graphs)
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.seed = int(seed)
        self.drop_last = drop_last
        self.epoch = 0
        if targets is not None:
            t = np.asarray(targets, dtype=np.float64).reshape(self.n, -1)
            present = np.isfinite(t)
            self.y = torch.from_numpy(np.where(present, t, 0.0).astype(np.float32))
            self.mask = torch.from_numpy(present.astype(np.float32))
        else:
            self.y = self.mask = None

    def __len__(self) -> int:
        if self.drop_last and self.n >= self.batch_size:
            return self.n // self.batch_size
        return -(-self.n // self.batch_size)

    def __iter__(self) -> Iterator[Batch]:
        if self.shuffle:
            rng = np.random.default_rng([self.seed, self.epoch])
            order = torch.from_numpy(rng.permutation(self.n).astype(np.int64))
        else:
            order = torch.arange(self.n, dtype=torch.long)
        self.epoch += 1
        for k in range(len(self)):
            idx = order[k * self.batch_size : (k + 1) * self.batch_size]
            yield Batch(
                graphs=self.graphs.collate(idx),
                y=None if self.y is None else self.y.index_select(0, idx),
                mask=None if self.mask is None else self.mask.index_select(0, idx),
                index=idx,
            )


def iter_batches(graphs: Any, batch_size: int = 1024) -> Iterator[tuple[torch.Tensor, Any]]:
    """Yield ``(index [B], GraphBatch)`` over all molecules in order (for prediction)."""
    n = len(graphs)
    for start in range(0, n, batch_size):
        idx = torch.arange(start, min(n, start + batch_size), dtype=torch.long)
        yield idx, graphs.collate(idx)
