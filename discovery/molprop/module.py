"""The Lightning module: masked losses, Chemprop's Noam-like schedule, light logging.

Losses are averaged over the *present* labels only (NaN targets are masked
out, exactly as in Chemprop's ``ChempropMetric``): mean squared error on
standardized targets for regression, binary cross-entropy on logits for
classification.

To keep Lightning's per-step overhead low the module logs nothing per step;
the epoch's train and validation losses are accumulated as tensors (no
``.item()`` syncs inside the loop) and logged once per epoch as
``train_loss`` and ``val_loss``.

With ``select_by="metric"`` the validation epoch also logs ``val_score``,
the task's metric as an error (lower is better): ``1 - ROC-AUC`` for
classification, RMSE in standardized units for regression, each averaged
over tasks. Early stopping and the kept best state can then follow the
metric the model is judged by rather than the loss, as Chemprop v1 did (its
``--metric``, ROC-AUC for classification; Yang et al. 2019): on a small
classification validation set the cross-entropy can rise from overconfident
wrong predictions while the ranking, which ROC-AUC scores, still improves.
"""

from __future__ import annotations

import math
from typing import Any

import lightning.pytorch as pl
import torch
from torch import Tensor
from torch.nn import functional as F

from .data import Batch
from .models import MoleculeModel
from .train import SELECT_BY

__all__ = [
    "MolPropModule", "masked_loss", "validation_score", "noam_lambda", "BestStateCallback", "ReleaseMemoryCallback",
    "EMACallback",
]


def masked_loss(out: Tensor, y: Tensor, mask: Tensor, task_type: str) -> tuple[Tensor, Tensor]:
    """Summed loss over present labels and the number of present labels.

    Parameters
    ----------
    out : Tensor, shape [B, t]
        Standardized predictions (regression) or logits (classification).
    y : Tensor, shape [B, t]
        Targets in the same space (NaN already replaced by any finite value).
    mask : Tensor, shape [B, t]
        1.0 where the label is present, 0.0 where it is missing.
    task_type : {"regression", "classification"}

    Returns
    -------
    total : Tensor, scalar
        ``sum(mask * loss)``; masked entries contribute exactly 0 (and no gradient).
    count : Tensor, scalar
        ``sum(mask)``.
    """
    if task_type == "classification":
        per = F.binary_cross_entropy_with_logits(out, y, reduction="none")
    else:
        per = (out - y) ** 2
    per = torch.where(mask > 0, per, torch.zeros_like(per))
    return per.sum(), mask.sum()


def noam_lambda(
    warmup_steps: int, total_steps: int, init_lr: float, max_lr: float, final_lr: float
) -> Any:
    """Chemprop's Noam-like schedule as a ``LambdaLR`` multiplier of ``init_lr``.

    Linear warm-up from ``init_lr`` to ``max_lr`` over ``warmup_steps``, then
    exponential decay reaching ``final_lr`` at ``total_steps``.
    """
    cooldown = max(total_steps - warmup_steps, 0)

    def f(step: int) -> float:
        if step < warmup_steps:
            return (init_lr + step * (max_lr - init_lr) / warmup_steps) / init_lr
        if step < warmup_steps + cooldown:
            return max_lr * (final_lr / max_lr) ** ((step - warmup_steps) / cooldown) / init_lr
        return final_lr / init_lr

    return f


def validation_score(out: Tensor, y: Tensor, mask: Tensor, task_type: str) -> float:
    """The task's metric as an error, averaged over tasks (see the module docstring); NaN if undefined.

    ``out`` are logits (classification) or standardized predictions
    (regression), ``y`` the targets in the same space, ``mask`` 1 where a
    label is present. A classification task whose labels hold one class has
    no ROC-AUC and is left out of the mean.
    """
    import numpy as np

    from .metrics import mean_task_error

    o, t, m = (a.detach().float().cpu().numpy() for a in (out, y, mask))
    return mean_task_error(np.where(m > 0, t, np.nan), o, task_type)


class MolPropModule(pl.LightningModule):
    """Wraps a :class:`~discovery.molprop.models.MoleculeModel` for ``Trainer.fit``.

    Parameters
    ----------
    model : MoleculeModel
    warmup_epochs : int, default 2
    init_lr, max_lr, final_lr : float, default 1e-4, 1e-3, 1e-4
        Chemprop's learning-rate schedule (Adam, stepped every batch).
    steps_per_epoch : int, optional
        Batches per epoch (``len(train_loader)``); read from the trainer if omitted.
    select_by : {"loss", "metric"}, default "loss"
        ``"metric"`` also logs ``val_score`` after each validation.
    """

    def __init__(
        self,
        model: MoleculeModel,
        warmup_epochs: int = 2,
        init_lr: float = 1e-4,
        max_lr: float = 1e-3,
        final_lr: float = 1e-4,
        steps_per_epoch: int | None = None,
        select_by: str = "loss",
    ) -> None:
        super().__init__()
        if select_by not in SELECT_BY:
            raise ValueError(f"select_by must be one of {SELECT_BY}, got {select_by!r}")
        self.select_by = select_by
        self._val_out: list[tuple[Tensor, Tensor, Tensor]] = []
        self.model = model
        self.steps_per_epoch = steps_per_epoch
        self.task_type = model.task_type
        self.warmup_epochs = warmup_epochs
        self.init_lr, self.max_lr, self.final_lr = init_lr, max_lr, final_lr
        self._train_acc: list[Tensor] = []
        self._val_acc: list[Tensor] = []

    def forward(self, g: Any) -> Tensor:
        return self.model(g)

    # -- steps ---------------------------------------------------------------
    def transfer_batch_to_device(self, batch: Batch, device: torch.device, dataloader_idx: int) -> Batch:
        return batch.to(device)

    def training_step(self, batch: Batch, batch_idx: int) -> Tensor:
        out = self.model(batch.graphs)
        total, count = masked_loss(out, batch.y, batch.mask, self.task_type)
        loss = total / count.clamp(min=1.0)
        self._train_acc.append(torch.stack((total.detach(), count)))
        return loss

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        out = self.model(batch.graphs)
        total, count = masked_loss(out, batch.y, batch.mask, self.task_type)
        self._val_acc.append(torch.stack((total, count)))
        if self.select_by == "metric":
            self._val_out.append((out.detach(), batch.y, batch.mask))

    def epoch_train_loss(self) -> Tensor | None:
        """Mean training loss of the current epoch so far (None before the first step)."""
        if not self._train_acc:
            return None
        s = torch.stack(self._train_acc).sum(0)
        return s[0] / s[1].clamp(min=1.0)

    def on_train_epoch_end(self) -> None:
        loss = self.epoch_train_loss()
        if loss is not None:
            self.log("train_loss", loss, prog_bar=True)
        self._train_acc = []

    def on_validation_epoch_end(self) -> None:
        if self._val_acc:
            s = torch.stack(self._val_acc).sum(0)
            self.log("val_loss", s[0] / s[1].clamp(min=1.0), prog_bar=True)
        if self._val_out:
            out, y, mask = (torch.cat(parts) for parts in zip(*self._val_out))
            self.log("val_score", validation_score(out, y, mask, self.task_type), prog_bar=True)
        self._val_acc = []
        self._val_out = []

    # -- optimisation ----------------------------------------------------------
    def configure_optimizers(self) -> dict[str, Any]:
        try:  # the fused kernel is several times faster than the per-parameter loop on CPU
            opt = torch.optim.Adam(self.parameters(), lr=self.init_lr, fused=True)
        except (RuntimeError, TypeError):
            opt = torch.optim.Adam(self.parameters(), lr=self.init_lr)
        if self.steps_per_epoch is not None:
            steps_per_epoch = int(self.steps_per_epoch)
        else:
            _ = self.trainer.estimated_stepping_batches  # makes Lightning load the train loader
            steps_per_epoch = int(self.trainer.num_training_batches)
        steps_per_epoch = max(steps_per_epoch, 1)
        max_epochs = self.trainer.max_epochs if self.trainer.max_epochs and self.trainer.max_epochs > 0 else 100
        warmup = min(self.warmup_epochs, max_epochs) * steps_per_epoch
        total = max_epochs * steps_per_epoch
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, noam_lambda(warmup, total, self.init_lr, self.max_lr, self.final_lr)
        )
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


class ReleaseMemoryCallback(pl.Callback):
    """Return freed heap memory to the OS once per epoch: after validation, or at the epoch's end without one.

    Keeps the resident size of a long fit from creeping up with heap
    fragmentation (see :mod:`discovery.molprop._memory`); numbers are unaffected.
    Lightning validates at the end of the training epoch, just before
    ``on_train_epoch_end``, so a second trim there would find little to free
    and costs a walk of the heap (~2% of a Lipophilicity run when done twice).
    """

    def __init__(self) -> None:
        self.trims = 0
        self._validated = False

    def _trim(self) -> None:
        from ._memory import release_memory

        release_memory()
        self.trims += 1

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._trim()
        self._validated = True

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not self._validated:
            self._trim()
        self._validated = False


class EMACallback(pl.Callback):
    """Exponential moving average of the weights; validation (and so the kept best state) uses the average.

    After every optimizer step ``ema = d_t * ema + (1 - d_t) * w`` for each
    parameter, with ``d_t = min(decay, (1 + t) / (10 + t))`` at step ``t`` so
    the start-up weights fade fast (the warm-up of TensorFlow's
    ``ExponentialMovingAverage``). For each validation the averaged weights
    are swapped in and the training weights put back afterwards, so early
    stopping and :class:`BestStateCallback` see the average; list this
    callback *after* ``BestStateCallback`` so the best state is copied while
    the average is in place. Buffers (batch-norm statistics) are not averaged.
    Polyak-Ruppert averaging; Polyak & Juditsky 1992, SIAM J. Control Optim. 30:838.

    Parameters
    ----------
    decay : float in (0, 1)
        ``d``; the average spans about ``1 / (1 - d)`` steps.
    """

    def __init__(self, decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must be in (0, 1), got {decay}")
        self.decay = float(decay)
        self.steps = 0
        self.ema: list[Tensor] | None = None
        self._params: list[Tensor] = []  # the trained parameters (detached views), fixed at fit start
        self._raw: list[Tensor] | None = None

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.steps = 0
        self._params = [p.detach() for p in pl_module.parameters() if p.requires_grad]
        self.ema = [p.clone() for p in self._params]

    @torch.no_grad()
    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        assert self.ema is not None
        d = min(self.decay, (1.0 + self.steps) / (10.0 + self.steps))
        self.steps += 1
        torch._foreach_mul_(self.ema, d)
        torch._foreach_add_(self.ema, self._params, alpha=1.0 - d)

    @torch.no_grad()
    def on_validation_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.ema is None or trainer.sanity_checking:
            return
        self._raw = [p.clone() for p in self._params]
        torch._foreach_copy_(self._params, self.ema)

    @torch.no_grad()
    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._raw is None:
            return
        torch._foreach_copy_(self._params, self._raw)
        self._raw = None


class BestStateCallback(pl.Callback):
    """Keep an in-memory copy of the weights with the lowest monitored loss; restore it at the end.

    Cheaper than checkpoint files: a ``state_dict`` clone per improvement,
    no optimizer state, no disk.

    Parameters
    ----------
    monitor : str, default "val_loss"
        ``"val_loss"`` or ``"val_score"`` is read after each validation,
        ``"train_loss"`` after each training epoch (when there is no
        validation set).
    """

    def __init__(self, monitor: str = "val_loss") -> None:
        self.monitor = monitor
        self.best = math.inf
        self.best_epoch = -1
        self.epochs_run = 0
        self.state: dict[str, Tensor] | None = None

    def _check(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.monitor == "train_loss":
            # callbacks run before the module's on_train_epoch_end, which logs it
            value = pl_module.epoch_train_loss()  # type: ignore[operator]
        else:
            value = trainer.callback_metrics.get(self.monitor)
        if value is None:
            return
        v = float(value)
        self.epochs_run = trainer.current_epoch + 1
        if math.isfinite(v) and v < self.best:
            self.best = v
            self.best_epoch = trainer.current_epoch
            self.state = {k: t.detach().clone() for k, t in pl_module.state_dict().items()}

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.monitor != "train_loss" and not trainer.sanity_checking:
            self._check(trainer, pl_module)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.monitor == "train_loss":
            self._check(trainer, pl_module)

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.state is not None:
            pl_module.load_state_dict(self.state)
