"""Graph encoders, the feed-forward head and the model that joins them.

A model is assembled from explicit parts, as in Chemprop v2::

    MoleculeModel(encoder, head, task_type, n_tasks)
        encoder : GraphBatch -> [num_graphs, d]      (D-MPNN, GIN or AttentiveFP)
        head    : [num_graphs, d] -> [num_graphs, t] (FFN)

Encoders are chosen by name through :data:`ENCODERS` (``"dmpnn"``, ``"gin"``,
``"attentivefp"``); :func:`build_model` turns a plain ``hparams`` dict into a
model, so a saved bundle only ever stores that dict and a ``state_dict``.

Regression targets are standardized inside the model: the train-set mean and
standard deviation live in buffers (:class:`~discovery.molprop.scaler.TargetScaler`),
``forward`` returns standardized outputs (what the loss sees) and
:meth:`MoleculeModel.predict` returns original units. For classification
``forward`` returns logits and ``predict`` probabilities.

Every encoder reads only these attributes of a batch (a
:class:`discovery.chem.GraphBatch` or anything shaped like it):

=================  ==========  ==============================================
attribute          shape       meaning
=================  ==========  ==============================================
``x``              [N, F_v]    atom features, float32
``edge_index``     [2, E]      directed bonds (src, dst), global atom indices
``edge_attr``      [E, F_e]    bond features of each directed bond, float32
``rev_edge_index`` [E]         index of the reverse of each directed bond
``batch``          [N]         graph index of each atom
``num_graphs``     int         number of graphs B
=================  ==========  ==============================================
"""

from __future__ import annotations

from typing import Any, Callable, Protocol

import numpy as np
import torch
from torch import Tensor, nn

from .scaler import QuantileScaler, TargetScaler

__all__ = [
    "AGGREGATIONS",
    "ENCODERS",
    "DEFAULT_HPARAMS",
    "AttentiveFPEncoder",
    "DMPNNEncoder",
    "FFNHead",
    "GINEncoder",
    "MoleculeModel",
    "aggregate",
    "build_model",
    "register_encoder",
]


class BatchLike(Protocol):
    x: Tensor
    edge_index: Tensor
    edge_attr: Tensor
    rev_edge_index: Tensor
    batch: Tensor
    num_graphs: int


# --------------------------------------------------------------------------- aggregation


def _sum_agg(h: Tensor, batch: Tensor, num_graphs: int) -> Tensor:
    return h.new_zeros(num_graphs, h.shape[1]).index_add_(0, batch, h)


def _norm_agg(h: Tensor, batch: Tensor, num_graphs: int) -> Tensor:
    # Chemprop's NormAggregation: sum / 100
    return _sum_agg(h, batch, num_graphs) / 100.0


def _mean_agg(h: Tensor, batch: Tensor, num_graphs: int) -> Tensor:
    counts = torch.bincount(batch, minlength=num_graphs).clamp_(min=1).to(h.dtype)
    return _sum_agg(h, batch, num_graphs) / counts.unsqueeze(1)


#: name -> function (node features [N, d], batch [N], num_graphs) -> [num_graphs, d]
AGGREGATIONS: dict[str, Callable[[Tensor, Tensor, int], Tensor]] = {
    "norm": _norm_agg,
    "mean": _mean_agg,
    "sum": _sum_agg,
}


def aggregate(name: str, h: Tensor, batch: Tensor, num_graphs: int) -> Tensor:
    """Pool node features into graph features.

    Parameters
    ----------
    name : {"norm", "mean", "sum"}
        ``norm`` is the sum divided by 100 (Chemprop's default).
    h : Tensor, shape [N, d]
    batch : Tensor, shape [N], long
    num_graphs : int

    Returns
    -------
    Tensor, shape [num_graphs, d]
        Graphs without atoms get a zero vector.
    """
    try:
        fn = AGGREGATIONS[name]
    except KeyError:
        raise ValueError(f"unknown aggregation {name!r}; choose one of {sorted(AGGREGATIONS)}") from None
    return fn(h, batch, num_graphs)


# --------------------------------------------------------------------------- encoders

#: name -> encoder class; every class takes (atom_fdim, bond_fdim, **hparams)
ENCODERS: dict[str, type["Encoder"]] = {}


def register_encoder(name: str) -> Callable[[type["Encoder"]], type["Encoder"]]:
    """Class decorator adding an encoder to :data:`ENCODERS` under ``name``."""

    def deco(cls: type[Encoder]) -> type[Encoder]:
        ENCODERS[name] = cls
        cls.name = name
        return cls

    return deco


class Encoder(nn.Module):
    """Base class: a batch of molecular graphs -> one vector per graph.

    Subclasses define ``output_dim`` and ``forward(batch) -> Tensor [num_graphs, output_dim]``.
    ``hparam_names`` lists the keyword arguments the constructor accepts
    (besides ``atom_fdim`` and ``bond_fdim``), used to pick them out of a
    flat hparams dict.
    """

    name: str = ""
    output_dim: int
    hparam_names: tuple[str, ...] = ()


@register_encoder("dmpnn")
class DMPNNEncoder(Encoder):
    r"""Directed message-passing neural network (Chemprop v2 ``BondMessagePassing``).

    .. math::

        H^0_{e} &= W_i\,[x_{src(e)} \,\Vert\, e_e] \\
        H^1_{e} &= \mathrm{relu}(H^0_e) \\
        M^{t}_{e} &= \sum_{e' \to src(e)} H^{t}_{e'} - H^{t}_{rev(e)} \\
        H^{t+1}_{e} &= \mathrm{dropout}(\mathrm{relu}(H^0_e + W_h M^t_e)),\quad t = 1..depth-1 \\
        m_v &= \sum_{e \to v} H_e \\
        h_v &= \mathrm{dropout}(\mathrm{relu}(W_o [x_v \Vert m_v] + b_o)) \\
        h_G &= \mathrm{agg}_{v \in G}(h_v)

    ``W_i`` and ``W_h`` have no bias (Chemprop's default ``bias=False``).

    Parameters
    ----------
    atom_fdim, bond_fdim : int
        Feature sizes F_v and F_e.
    hidden : int, default 300
    depth : int, default 3
        Number of message-passing steps (``depth - 1`` edge updates).
    dropout : float, default 0.0
    aggregation : {"norm", "mean", "sum"}, default "norm"
    bias : bool, default False
        Bias on ``W_i`` and ``W_h``.

    Shapes
    ------
    batch -> [num_graphs, hidden]
    """

    hparam_names = ("hidden", "depth", "dropout", "aggregation", "bias")

    def __init__(
        self,
        atom_fdim: int,
        bond_fdim: int,
        hidden: int = 300,
        depth: int = 3,
        dropout: float = 0.0,
        aggregation: str = "norm",
        bias: bool = False,
    ) -> None:
        super().__init__()
        if depth < 1:
            raise ValueError(f"depth must be >= 1, got {depth}")
        if aggregation not in AGGREGATIONS:
            raise ValueError(f"unknown aggregation {aggregation!r}; choose one of {sorted(AGGREGATIONS)}")
        self.W_i = nn.Linear(atom_fdim + bond_fdim, hidden, bias=bias)
        self.W_h = nn.Linear(hidden, hidden, bias=bias)
        self.W_o = nn.Linear(atom_fdim + hidden, hidden)
        self.dropout = nn.Dropout(dropout)
        self.depth = depth
        self.aggregation = aggregation
        self.output_dim = hidden

    def atom_features(self, g: BatchLike) -> Tensor:
        """Hidden atom representations ``h_v`` before pooling, shape [N, hidden]."""
        x, edge_attr = g.x, g.edge_attr
        src, dst = g.edge_index[0], g.edge_index[1]
        rev = g.rev_edge_index
        n_atoms = x.shape[0]
        h0 = self.W_i(torch.cat((x.index_select(0, src), edge_attr), dim=1))
        h = torch.relu(h0)
        w_h = self.W_h.weight.t()
        for _ in range(1, self.depth):
            node_sum = h.new_zeros(n_atoms, h.shape[1]).index_add_(0, dst, h)
            # m = node_sum[src] - h[rev] without an [E, hidden] temporary: ``rev`` is an
            # involution (the reverse of the reverse edge is the edge), so
            # m[rev[i]] -= h[i] for all i is m[j] -= h[rev[j]]; a + (-1 * b) == a - b
            # exactly in IEEE arithmetic, so the bits are those of the plain
            # expression, while at most three [E, hidden] tensors are alive at once
            m = node_sum.index_select(0, src)
            del node_sum
            m.index_add_(0, rev, h, alpha=-1)
            del h
            # relu(H0 + W_h m) with the add fused into the matmul
            if self.W_h.bias is None:
                h = torch.addmm(h0, m, w_h).relu_()
            else:
                h = torch.relu(h0 + self.W_h(m))
            del m
            h = self.dropout(h)
        m_v = h.new_zeros(n_atoms, h.shape[1]).index_add_(0, dst, h)
        return self.dropout(torch.relu(self.W_o(torch.cat((x, m_v), dim=1))))

    def forward(self, g: BatchLike) -> Tensor:
        # pooled in float32 also under bf16 autocast (a no-op in float32)
        return aggregate(self.aggregation, self.atom_features(g).float(), g.batch, g.num_graphs)


@register_encoder("gin")
class GINEncoder(Encoder):
    r"""Graph isomorphism network with edge features (``torch_geometric.nn.GINEConv``).

    .. math::

        h^0_v &= W_{in} x_v \\
        h^{l+1}_v &= h^l_v + \mathrm{dropout}(\mathrm{relu}(\mathrm{MLP}_l((1+\epsilon_l) h^l_v
                     + \sum_{u \to v} \mathrm{relu}(h^l_u + W_e e_{uv})))) \\
        h_G &= \mathrm{agg}_{v \in G}(h^{depth}_v)

    Parameters
    ----------
    atom_fdim, bond_fdim : int
    hidden : int, default 300
    depth : int, default 3
        Number of GINE layers.
    dropout : float, default 0.0
    aggregation : {"norm", "mean", "sum"}, default "norm"

    Shapes
    ------
    batch -> [num_graphs, hidden]
    """

    hparam_names = ("hidden", "depth", "dropout", "aggregation")

    def __init__(
        self,
        atom_fdim: int,
        bond_fdim: int,
        hidden: int = 300,
        depth: int = 3,
        dropout: float = 0.0,
        aggregation: str = "norm",
    ) -> None:
        super().__init__()
        from torch_geometric.nn import GINEConv

        if aggregation not in AGGREGATIONS:
            raise ValueError(f"unknown aggregation {aggregation!r}; choose one of {sorted(AGGREGATIONS)}")
        self.lin_in = nn.Linear(atom_fdim, hidden)
        self.convs = nn.ModuleList(
            GINEConv(
                nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, hidden)),
                train_eps=True,
                edge_dim=bond_fdim,
            )
            for _ in range(depth)
        )
        self.dropout = nn.Dropout(dropout)
        self.aggregation = aggregation
        self.output_dim = hidden

    def forward(self, g: BatchLike) -> Tensor:
        h = self.lin_in(g.x)
        for conv in self.convs:
            h = h + self.dropout(torch.relu(conv(h, g.edge_index, g.edge_attr)))
        return aggregate(self.aggregation, h, g.batch, g.num_graphs)


@register_encoder("attentivefp")
class AttentiveFPEncoder(Encoder):
    """AttentiveFP (Xiong et al. 2020) via ``torch_geometric.nn.models.AttentiveFP``.

    Graph attention over atoms (``depth`` layers) followed by ``timesteps``
    rounds of attentive GRU readout over the molecule; the pooling is part of
    the model, so there is no ``aggregation`` choice.

    Parameters
    ----------
    atom_fdim, bond_fdim : int
    hidden : int, default 300
    depth : int, default 3
        Number of atom-level attention layers.
    dropout : float, default 0.0
    timesteps : int, default 2
        Molecule-level readout steps.

    Shapes
    ------
    batch -> [num_graphs, hidden]
    """

    hparam_names = ("hidden", "depth", "dropout", "timesteps")

    def __init__(
        self,
        atom_fdim: int,
        bond_fdim: int,
        hidden: int = 300,
        depth: int = 3,
        dropout: float = 0.0,
        timesteps: int = 2,
    ) -> None:
        super().__init__()
        from torch_geometric.nn.models import AttentiveFP

        self.net = AttentiveFP(
            in_channels=atom_fdim,
            hidden_channels=hidden,
            out_channels=hidden,
            edge_dim=bond_fdim,
            num_layers=depth,
            num_timesteps=timesteps,
            dropout=dropout,
        )
        self.output_dim = hidden

    def forward(self, g: BatchLike) -> Tensor:
        out = self.net(g.x, g.edge_index, g.edge_attr, g.batch)
        if out.shape[0] != g.num_graphs:  # trailing graphs without atoms
            out = torch.cat((out, out.new_zeros(g.num_graphs - out.shape[0], out.shape[1])))
        return out


# --------------------------------------------------------------------------- head and model


class FFNHead(nn.Sequential):
    """Feed-forward head, laid out like Chemprop's ``MLP.build``.

    ``Linear(d, hidden)`` then ``n_layers`` times ``[ReLU, Dropout, Linear]``,
    the last Linear mapping to ``n_tasks``; ``n_layers=0`` is a single
    linear layer.

    Shapes
    ------
    [B, input_dim] -> [B, n_tasks]
    """

    def __init__(self, input_dim: int, n_tasks: int, hidden: int = 300, n_layers: int = 1, dropout: float = 0.0) -> None:
        dims = [input_dim] + [hidden] * n_layers + [n_tasks]
        blocks: list[nn.Module] = [nn.Sequential(nn.Linear(dims[0], dims[1]))]
        for d1, d2 in zip(dims[1:-1], dims[2:]):
            blocks.append(nn.Sequential(nn.ReLU(), nn.Dropout(dropout), nn.Linear(d1, d2)))
        super().__init__(*blocks)


#: the hyperparameters every model records; encoder-specific ones are picked by name
DEFAULT_HPARAMS: dict[str, Any] = {
    "model": "dmpnn",
    "task_type": "regression",
    "n_tasks": 1,
    "atom_fdim": 72,
    "bond_fdim": 14,
    "hidden": 300,
    "depth": 3,
    "dropout": 0.0,
    "aggregation": "norm",
    "bias": False,
    "timesteps": 2,
    "ffn_hidden": 300,
    "ffn_layers": 1,
    "batch_norm": False,
    "mol_features": None,
    "n_mol_features": 0,
    # "standard" (mean/sd, clipped; the only scaling before 2026-11-30, so bundles without the key use it)
    # or "quantile" (training-set empirical CDF, Chemprop v1's rdkit_2d_normalized idea)
    "feature_scaling": "standard",
    # training only: each molecule's whole descriptor block is replaced by the neutral value (standard: the
    # training mean, quantile: the median) with this probability, so the head cannot lean on the
    # descriptors alone and the message passing keeps learning ("modality dropout")
    "feature_dropout": 0.0,
    # with feature dropout: one more head input, 1 where the descriptors are present and 0 where they were
    # dropped, so the head can tell the two training modes apart (always 1 in evaluation); bundles
    # without the key have no such input
    "feature_flag": False,
    # with feature dropout: in evaluation, predict the mean of the head's outputs with the descriptors present
    # and with them dropped (the two input modes the head was trained on); bundles without the key do not
    "feature_average": False,
}

FEATURE_SCALINGS = ("standard", "quantile")

TASK_TYPES = ("regression", "classification")


class MoleculeModel(nn.Module):
    """Encoder + optional batch norm + FFN head + target scaler.

    Parameters
    ----------
    encoder : Encoder
    head : FFNHead
    task_type : {"regression", "classification"}
    n_tasks : int
    batch_norm : bool, default False
        Batch norm on the pooled graph vector (Chemprop's ``batch_norm``).
    hparams : dict, optional
        The dict this model was built from (kept for saving).
    n_mol_features : int, default 0
        Number D of molecule-level descriptors (``batch.x_d``, see
        :mod:`discovery.chem.descriptors`) joined to the graph vector before
        the head, as Chemprop's ``X_d``. They are scaled with the training
        split's statistics (:attr:`feature_scaler`, set by
        :meth:`fit_feature_scaler`): ``feature_scaling="standard"``
        standardizes and clips to +-6 sd, a missing value (NaN) becoming 0,
        the training mean; ``"quantile"`` maps each descriptor through its
        training CDF to [0, 1] (:class:`~discovery.molprop.scaler.QuantileScaler`),
        NaN becoming 0.5, the training median. The head's input is ``d + D``.
    feature_scaling : {"standard", "quantile"}, default "standard"
    feature_dropout : float, default 0.0
        In training, the probability that a molecule's whole descriptor
        block is set to the neutral value (0 after standard scaling, 0.5
        after quantile scaling); never applied in evaluation or prediction.
    feature_flag : bool, default False
        Append a presence flag to the descriptors (1 = present, 0 = dropped
        by feature dropout; 1 in evaluation), so the head input is
        ``d + D + 1``.
    feature_average : bool, default False
        With feature dropout: in evaluation (and so in validation and
        prediction) the output is the mean of the head's outputs with the
        descriptors present and with them dropped (standardized outputs or
        logits), a two-member ensemble that shares the encoder: one view
        leans on the descriptors, the other on the learned graph vector only.

    Shapes
    ------
    ``forward``: batch -> [B, n_tasks] standardized outputs (regression) or logits
    ``predict``: batch -> [B, n_tasks] original units (regression) or probabilities
    """

    #: standardized descriptors are clipped to this many standard deviations
    FEATURE_CLIP = 6.0

    def __init__(
        self,
        encoder: Encoder,
        head: nn.Module,
        task_type: str,
        n_tasks: int,
        batch_norm: bool = False,
        hparams: dict[str, Any] | None = None,
        n_mol_features: int = 0,
        feature_scaling: str = "standard",
        feature_dropout: float = 0.0,
        feature_flag: bool = False,
        feature_average: bool = False,
    ) -> None:
        super().__init__()
        if task_type not in TASK_TYPES:
            raise ValueError(f"task_type must be one of {TASK_TYPES}, got {task_type!r}")
        self.encoder = encoder
        self.bn = nn.BatchNorm1d(encoder.output_dim) if batch_norm else nn.Identity()
        self.head = head
        self.task_type = task_type
        self.n_tasks = n_tasks
        self.scaler = TargetScaler(n_tasks)
        self.n_mol_features = int(n_mol_features)
        if feature_scaling not in FEATURE_SCALINGS:
            raise ValueError(f"feature_scaling must be one of {FEATURE_SCALINGS}, got {feature_scaling!r}")
        self.feature_scaling = feature_scaling
        if not 0.0 <= feature_dropout < 1.0:
            raise ValueError(f"feature_dropout must be in [0, 1), got {feature_dropout}")
        self.feature_dropout = float(feature_dropout)
        self.feature_flag = bool(feature_flag) and self.n_mol_features > 0
        if feature_average and not (self.n_mol_features and self.feature_dropout > 0):
            raise ValueError("feature_average needs molecule-level descriptors and feature_dropout > 0")
        self.feature_average = bool(feature_average)
        scaler_cls = QuantileScaler if feature_scaling == "quantile" else TargetScaler
        self.feature_scaler = scaler_cls(self.n_mol_features) if self.n_mol_features else None
        self.hparams = dict(hparams or {})

    def fit_feature_scaler(self, values: Any) -> None:
        """Set the descriptor standardization from the training split's ``[n, D]`` values."""
        if self.feature_scaler is None:
            raise ValueError("this model takes no molecule-level descriptors")
        self.feature_scaler.fit(np.asarray(values, dtype=np.float64))

    def fingerprint(self, g: BatchLike) -> Tensor:
        """Graph vectors, shape [B, d] (``[B, d + D]`` with molecule-level descriptors)."""
        h = self.bn(self.encoder(g))
        if self.feature_scaler is None:
            return h
        z, present = self._descriptors(g)
        return self._join(h, z, present)

    def _descriptors(self, g: BatchLike) -> tuple[Tensor, Tensor | None]:
        """Scaled descriptors (feature dropout applied in training) and the presence mask (None: all present)."""
        x_d = getattr(g, "x_d", None)
        if x_d is None or x_d.shape[-1] != self.n_mol_features:
            got = None if x_d is None else tuple(x_d.shape)
            raise ValueError(
                f"this model needs {self.n_mol_features} molecule-level descriptors "
                f"({self.hparams.get('mol_features')!r}) with every batch, got {got}"
            )
        z = self.feature_scaler.transform(x_d)
        if self.feature_scaling == "standard":
            z = z.clamp(-self.FEATURE_CLIP, self.FEATURE_CLIP)
        z = z.nan_to_num(self._neutral)
        present = None
        if self.training and self.feature_dropout > 0:
            drop = torch.rand(z.shape[0], 1, device=z.device) < self.feature_dropout
            z = torch.where(drop, torch.full_like(z, self._neutral), z)
            present = (~drop).to(z.dtype)
        return z, present

    @property
    def _neutral(self) -> float:
        return 0.5 if self.feature_scaling == "quantile" else 0.0  # the training median / mean

    def _join(self, h: Tensor, z: Tensor, present: Tensor | None) -> Tensor:
        if self.feature_flag:
            z = torch.cat((z, torch.ones_like(z[:, :1]) if present is None else present), dim=1)
        return torch.cat((h, z), dim=1)

    def forward(self, g: BatchLike) -> Tensor:
        """Standardized predictions (regression) or logits (classification), shape [B, t]."""
        if not self.feature_average or self.training:
            return self.head(self.fingerprint(g))
        with_d, without = self.feature_views(g)
        return 0.5 * (with_d + without)

    def feature_views(self, g: BatchLike) -> tuple[Tensor, Tensor]:
        """Head outputs with the descriptors present and with them dropped (the training mean), each [B, t].

        The two inputs a model trained with feature dropout has seen; ``feature_average`` predicts their mean.
        """
        h = self.bn(self.encoder(g))
        z, _ = self._descriptors(g)
        dropped = torch.full_like(z, self._neutral)
        return self.head(self._join(h, z, None)), self.head(self._join(h, dropped, torch.zeros_like(z[:, :1])))

    def predict(self, g: BatchLike) -> Tensor:
        """Predictions in original units (regression) or probabilities, shape [B, t]."""
        return self.to_original(self.forward(g))

    def to_original(self, out: Tensor) -> Tensor:
        """Forward outputs to original units (regression) or probabilities (classification)."""
        if self.task_type == "classification":
            return torch.sigmoid(out)
        return self.scaler.inverse_transform(out)


def build_model(hparams: dict[str, Any]) -> MoleculeModel:
    """Build a :class:`MoleculeModel` from a plain hparams dict.

    Missing keys take :data:`DEFAULT_HPARAMS`; the encoder is looked up in
    :data:`ENCODERS` by ``hparams["model"]``.

    Raises
    ------
    ValueError
        Unknown model name or task type.
    """
    hp = {**DEFAULT_HPARAMS, **hparams}
    name = hp["model"]
    if name not in ENCODERS:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(ENCODERS)}")
    enc_cls = ENCODERS[name]
    encoder = enc_cls(int(hp["atom_fdim"]), int(hp["bond_fdim"]), **{k: hp[k] for k in enc_cls.hparam_names})
    n_d = int(hp.get("n_mol_features") or 0)
    flag = bool(hp.get("feature_flag")) and n_d > 0
    head = FFNHead(
        encoder.output_dim + n_d + int(flag), int(hp["n_tasks"]), int(hp["ffn_hidden"]), int(hp["ffn_layers"]),
        float(hp["dropout"]),
    )
    return MoleculeModel(
        encoder, head, hp["task_type"], int(hp["n_tasks"]), bool(hp["batch_norm"]), hparams=hp, n_mol_features=n_d,
        feature_scaling=str(hp.get("feature_scaling") or "standard"),
        feature_dropout=float(hp.get("feature_dropout") or 0.0), feature_flag=flag,
        feature_average=bool(hp.get("feature_average")),
    )
