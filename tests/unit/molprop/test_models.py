"""Encoders, head and model assembly: shapes, registry, D-MPNN math against references."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from rdkit import Chem

from discovery.chem import ATOM_FDIM, BOND_FDIM, featurize
from discovery.molprop.models import (
    AGGREGATIONS,
    DEFAULT_HPARAMS,
    ENCODERS,
    DMPNNEncoder,
    FFNHead,
    MoleculeModel,
    aggregate,
    build_model,
)

SMILES = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "C", "[Na+].[Cl-]", "C1CC1C(F)(F)F", "N#CC=O"]


@pytest.fixture(scope="module")
def graphs():
    return featurize([Chem.MolFromSmiles(s) for s in SMILES])


@pytest.fixture(scope="module")
def batch(graphs):
    return graphs.collate(np.arange(len(SMILES)))


def test_registry_names():
    assert set(ENCODERS) == {"dmpnn", "gin", "attentivefp"}
    assert set(AGGREGATIONS) == {"norm", "mean", "sum"}


@pytest.mark.parametrize("name", ["dmpnn", "gin", "attentivefp"])
@pytest.mark.parametrize("n_tasks", [1, 3])
def test_forward_shapes(name, n_tasks, batch):
    torch.manual_seed(0)
    model = build_model({"model": name, "n_tasks": n_tasks, "hidden": 32, "ffn_hidden": 16, "depth": 2})
    enc = model.encoder(batch)
    assert enc.shape == (len(SMILES), 32)
    out = model(batch)
    assert out.shape == (len(SMILES), n_tasks)
    assert torch.isfinite(out).all()
    # gradients reach every parameter
    out.sum().backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None, pname


@pytest.mark.parametrize("name", ["dmpnn", "gin", "attentivefp"])
def test_graph_without_atoms_in_batch_order_irrelevant(name, graphs):
    """A molecule's encoding does not depend on the other molecules in its batch."""
    torch.manual_seed(0)
    model = build_model({"model": name, "hidden": 16, "ffn_hidden": 8}).eval()
    with torch.no_grad():
        full = model(graphs.collate(np.arange(len(SMILES))))
        rev = model(graphs.collate(np.arange(len(SMILES))[::-1].copy()))
        one = model(graphs.collate(np.array([2])))
    torch.testing.assert_close(full, rev.flip(0), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(full[2:3], one, rtol=1e-5, atol=1e-5)


def test_unknown_names_raise():
    with pytest.raises(ValueError, match="unknown model"):
        build_model({"model": "transformer"})
    with pytest.raises(ValueError, match="unknown aggregation"):
        build_model({"aggregation": "max"})


def _naive_dmpnn(enc: DMPNNEncoder, x, edge_index, edge_attr, depth):
    """Per-edge Python loops following the D-MPNN equations literally."""
    src, dst = edge_index.tolist()
    E = len(src)
    rev = [next(k for k in range(E) if src[k] == dst[e] and dst[k] == src[e]) for e in range(E)]
    W_i, W_h, W_o = enc.W_i, enc.W_h, enc.W_o
    h0 = [W_i(torch.cat([x[src[e]], edge_attr[e]])) for e in range(E)]
    h = [torch.relu(v) for v in h0]
    for _ in range(depth - 1):
        new = []
        for e in range(E):
            m = sum((h[k] for k in range(E) if dst[k] == src[e] and k != rev[e]), torch.zeros_like(h[0]))
            new.append(torch.relu(h0[e] + W_h(m)))
        h = new
    out = []
    for v in range(x.shape[0]):
        m_v = sum((h[k] for k in range(E) if dst[k] == v), torch.zeros(W_h.in_features))
        out.append(torch.relu(W_o(torch.cat([x[v], m_v]))))
    return torch.stack(out)


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_dmpnn_matches_naive_reference(depth, graphs):
    torch.manual_seed(1)
    enc = DMPNNEncoder(ATOM_FDIM, BOND_FDIM, hidden=12, depth=depth)
    g = graphs.collate(np.array([2]))  # paracetamol
    with torch.no_grad():
        fast = enc.atom_features(g)
        slow = _naive_dmpnn(enc, g.x, g.edge_index, g.edge_attr, depth)
        torch.testing.assert_close(fast, slow, rtol=1e-5, atol=1e-6)
        # readout: Chemprop's norm aggregation = sum over atoms / 100
        torch.testing.assert_close(enc(g), slow.sum(0, keepdim=True) / 100.0, rtol=1e-5, atol=1e-6)


def test_dmpnn_matches_chemprop_bond_message_passing(batch):
    """Same weights in Chemprop v2's BondMessagePassing give the same atom/graph encodings."""
    chemprop_mp = pytest.importorskip("chemprop.nn.message_passing")
    from chemprop.data import BatchMolGraph
    from chemprop.nn.agg import NormAggregation

    torch.manual_seed(2)
    ours = DMPNNEncoder(ATOM_FDIM, BOND_FDIM, hidden=300, depth=3)
    theirs = chemprop_mp.BondMessagePassing(d_v=ATOM_FDIM, d_e=BOND_FDIM, d_h=300, depth=3)
    missing = theirs.load_state_dict(ours.state_dict(), strict=False)
    assert not missing.missing_keys and not missing.unexpected_keys
    bmg = BatchMolGraph.__new__(BatchMolGraph)
    bmg.V, bmg.E = batch.x, batch.edge_attr
    bmg.edge_index, bmg.rev_edge_index, bmg.batch = batch.edge_index, batch.rev_edge_index, batch.batch
    with torch.no_grad():
        h_theirs = theirs(bmg)
        torch.testing.assert_close(ours.atom_features(batch), h_theirs, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(ours(batch), NormAggregation()(h_theirs, batch.batch), rtol=1e-5, atol=1e-6)


def test_aggregations(batch):
    h = torch.randn(batch.x.shape[0], 4)
    s = aggregate("sum", h, batch.batch, batch.num_graphs)
    for i in range(batch.num_graphs):
        torch.testing.assert_close(s[i], h[batch.batch == i].sum(0))
    torch.testing.assert_close(aggregate("norm", h, batch.batch, batch.num_graphs), s / 100)
    mean = aggregate("mean", h, batch.batch, batch.num_graphs)
    torch.testing.assert_close(mean[0], h[batch.batch == 0].mean(0))
    # a trailing graph without atoms gets zeros
    z = aggregate("mean", h, batch.batch, batch.num_graphs + 1)
    assert torch.equal(z[-1], torch.zeros(4))


def test_ffn_head_layout_matches_chemprop():
    head = FFNHead(300, 2, hidden=300, n_layers=1, dropout=0.1)
    assert [type(m).__name__ for m in head[0]] == ["Linear"]
    assert [type(m).__name__ for m in head[1]] == ["ReLU", "Dropout", "Linear"]
    assert head(torch.zeros(5, 300)).shape == (5, 2)
    assert len(FFNHead(10, 1, n_layers=0)) == 1


def test_defaults_match_chemprop():
    assert DEFAULT_HPARAMS["hidden"] == 300 and DEFAULT_HPARAMS["depth"] == 3
    assert DEFAULT_HPARAMS["dropout"] == 0.0 and DEFAULT_HPARAMS["aggregation"] == "norm"
    assert DEFAULT_HPARAMS["ffn_hidden"] == 300 and DEFAULT_HPARAMS["ffn_layers"] == 1
    assert DEFAULT_HPARAMS["batch_norm"] is False
    m = build_model({})
    assert m.encoder.W_i.bias is None and m.encoder.W_h.bias is None and m.encoder.W_o.bias is not None
    assert isinstance(m.bn, torch.nn.Identity)
    n_params = sum(p.numel() for p in m.parameters())
    assert n_params == 227_700 + 90_601  # Chemprop v2 default MPNN: 227.7K message passing + 90.6K FFN


def test_predict_units_and_probabilities(batch):
    torch.manual_seed(0)
    reg = build_model({"hidden": 16, "ffn_hidden": 8, "n_tasks": 2}).eval()
    reg.scaler.mean.copy_(torch.tensor([10.0, -3.0]))
    reg.scaler.std.copy_(torch.tensor([2.0, 0.5]))
    with torch.no_grad():
        torch.testing.assert_close(reg.predict(batch), reg(batch) * reg.scaler.std + reg.scaler.mean)
    clf = build_model({"hidden": 16, "ffn_hidden": 8, "task_type": "classification"}).eval()
    with torch.no_grad():
        p = clf.predict(batch)
    assert ((p > 0) & (p < 1)).all()
    torch.testing.assert_close(p, torch.sigmoid(clf(batch)))
    assert isinstance(clf, MoleculeModel)
