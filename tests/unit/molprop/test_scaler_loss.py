"""Target scaler round trip, masked losses, LR schedule, batch iteration."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from rdkit import Chem

from discovery.chem import featurize
from discovery.molprop.data import GraphLoader
from discovery.molprop.models import build_model
from discovery.molprop.module import masked_loss, noam_lambda
from discovery.molprop.scaler import TargetScaler


def test_scaler_round_trip_with_nans():
    rng = np.random.default_rng(0)
    y = rng.normal(loc=[5.0, -2.0, 100.0], scale=[2.0, 0.1, 30.0], size=(50, 3))
    y[3, 0] = y[7, 2] = np.nan
    sc = TargetScaler(3).fit(y)
    np.testing.assert_allclose(sc.mean.numpy(), np.nanmean(y, 0), rtol=1e-6)
    np.testing.assert_allclose(sc.std.numpy(), np.nanstd(y, 0), rtol=1e-6)
    z = sc.transform_numpy(y)
    assert np.isnan(z[3, 0]) and np.isnan(z[7, 2])
    np.testing.assert_allclose(np.nanmean(z, 0), 0, atol=1e-6)
    yt = torch.tensor(np.nan_to_num(y), dtype=torch.float32)
    torch.testing.assert_close(sc.inverse_transform(sc.transform(yt)), yt, rtol=1e-5, atol=1e-4)


def test_scaler_constant_and_empty_targets_stay_finite():
    y = np.array([[1.0, np.nan], [1.0, np.nan]])
    sc = TargetScaler(2).fit(y)
    assert sc.mean.tolist() == [1.0, 0.0] and sc.std.tolist() == [1.0, 1.0]


def test_scaler_lives_in_state_dict():
    m = build_model({"hidden": 8, "ffn_hidden": 4, "n_tasks": 2})
    m.scaler.fit(np.array([[1.0, 10.0], [3.0, 30.0]]))
    sd = m.state_dict()
    assert torch.equal(sd["scaler.mean"], torch.tensor([2.0, 20.0]))
    m2 = build_model({"hidden": 8, "ffn_hidden": 4, "n_tasks": 2})
    m2.load_state_dict(sd)
    assert torch.equal(m2.scaler.std, torch.tensor([1.0, 10.0]))


@pytest.mark.parametrize("task", ["regression", "classification"])
def test_masked_entries_do_not_affect_loss_or_gradients(task):
    torch.manual_seed(0)
    out = torch.randn(6, 3, requires_grad=True)
    y = torch.randint(0, 2, (6, 3)).float() if task == "classification" else torch.randn(6, 3)
    mask = torch.ones(6, 3)
    mask[1, 0] = mask[4, 2] = mask[5, 1] = 0.0
    total, count = masked_loss(out, y, mask, task)
    assert count.item() == 15
    # reference: only the present entries, computed directly
    keep = mask.bool()
    if task == "classification":
        ref = torch.nn.functional.binary_cross_entropy_with_logits(out[keep], y[keep], reduction="sum")
    else:
        ref = ((out[keep] - y[keep]) ** 2).sum()
    torch.testing.assert_close(total, ref)
    # arbitrary (even huge/NaN-free garbage) values under the mask change nothing
    y2 = y.clone()
    y2[~keep] = 1e6 if task == "regression" else 1.0 - y2[~keep]
    torch.testing.assert_close(masked_loss(out, y2, mask, task)[0], total)
    total.backward()
    assert torch.all(out.grad[~keep] == 0)
    assert torch.all(out.grad[keep] != 0)


def test_noam_schedule_matches_chemprop():
    build_NoamLike_LRSched = pytest.importorskip("chemprop.schedulers").build_NoamLike_LRSched

    steps_per_epoch, epochs = 7, 10
    warm, total = 2 * steps_per_epoch, epochs * steps_per_epoch
    f = noam_lambda(warm, total, 1e-4, 1e-3, 1e-4)
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([p], lr=1e-4)
    ref = build_NoamLike_LRSched(opt, warm, total - warm, 1e-4, 1e-3, 1e-4).lr_lambdas[0]
    for step in range(total + 3):
        assert f(step) == pytest.approx(ref(step), rel=1e-12)
    assert f(0) * 1e-4 == pytest.approx(1e-4)
    assert f(warm) * 1e-4 == pytest.approx(1e-3)
    assert f(total) * 1e-4 == pytest.approx(1e-4)
    # degenerate: all epochs are warm-up
    g = noam_lambda(10, 10, 1e-4, 1e-3, 1e-4)
    assert g(5) * 1e-4 == pytest.approx(5.5e-4) and g(10) * 1e-4 == pytest.approx(1e-4)


def test_graph_loader_batches_and_epochs():
    smiles = ["C" * (i % 5 + 1) for i in range(23)]
    graphs = featurize([Chem.MolFromSmiles(s) for s in smiles])
    y = np.arange(23, dtype=float)[:, None]
    y[4] = np.nan
    loader = GraphLoader(graphs, y, batch_size=5, shuffle=True, seed=3)
    assert len(loader) == 5
    e1, e2 = list(loader), list(loader)
    seen = torch.cat([b.index for b in e1])
    assert sorted(seen.tolist()) == list(range(23))
    assert not torch.equal(seen, torch.cat([b.index for b in e2]))  # new permutation each epoch
    again = GraphLoader(graphs, y, batch_size=5, shuffle=True, seed=3)
    assert torch.equal(seen, torch.cat([b.index for b in again]))  # same seed, same order
    for b in e1:
        assert b.graphs.num_graphs == len(b.index)
        np.testing.assert_array_equal(b.y[:, 0].numpy(), np.nan_to_num(y[b.index.numpy(), 0]))
        assert b.mask[:, 0].tolist() == [0.0 if i == 4 else 1.0 for i in b.index.tolist()]
    assert len(GraphLoader(graphs, y, batch_size=5, drop_last=True)) == 4


def test_quantile_scaler_maps_training_values_through_their_cdf():
    from discovery.molprop.scaler import QuantileScaler

    rng = np.random.default_rng(0)
    x = np.c_[rng.lognormal(size=2000), rng.integers(0, 3, 2000).astype(float), np.full(2000, 5.0)]
    x[7, 0] = np.nan
    q = QuantileScaler(3).fit(x)
    y = q.transform(torch.tensor(x, dtype=torch.float32)).numpy()
    # a heavy-tailed column becomes ~uniform on [0, 1]; the missing value stays missing
    assert np.isnan(y[7, 0]) and np.isnan(y).sum() == 1
    assert 0.0 <= np.nanmin(y[:, 0]) and np.nanmax(y[:, 0]) <= 1.0
    assert abs(np.nanmean(y[:, 0]) - 0.5) < 0.01 and abs(np.nanstd(y[:, 0]) - 12 ** -0.5) < 0.01
    # order is kept
    order = np.argsort(x[:, 0][~np.isnan(x[:, 0])])
    assert np.all(np.diff(y[:, 0][~np.isnan(x[:, 0])][order]) >= 0)
    # tied values (a count) map to the middle of their run of quantiles, near the midpoint of their CDF step
    for v in (0.0, 1.0, 2.0):
        got = np.unique(y[x[:, 1] == v, 1])
        assert len(got) == 1
        lo, hi = (x[:, 1] < v).mean(), (x[:, 1] <= v).mean()
        assert abs(got[0] - (lo + hi) / 2) < 0.02
    assert np.unique(y[:, 2]).tolist() == [0.5]  # a constant column sits in the middle
    # outside the training range: 0 below, 1 above
    out = q.transform(torch.tensor([[-1.0, -1.0, 4.0], [1e9, 9.0, 6.0]])).numpy()
    assert out.tolist() == [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]
    with pytest.raises(ValueError, match="expected 3 columns"):
        q.fit(x[:, :2])


@pytest.mark.parametrize("scaling,neutral", [("standard", 0.0), ("quantile", 0.5)])
def test_feature_dropout_blanks_whole_descriptor_blocks_in_training_only(scaling, neutral):
    from discovery.chem import mol_descriptors

    smiles = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "CCN(CC)CC", "OC(=O)c1ccccc1", "CCCCCCCC"] * 20
    mols = [Chem.MolFromSmiles(s) for s in smiles]
    values = mol_descriptors(mols)[0]
    graphs = featurize(mols).with_mol_features(values)
    model = build_model({"hidden": 8, "ffn_hidden": 4, "n_mol_features": values.shape[1], "feature_scaling": scaling,
                         "feature_dropout": 0.5})
    model.fit_feature_scaler(values)
    batch = next(iter(GraphLoader(graphs, batch_size=len(smiles), shuffle=False))).graphs
    model.eval()
    z_eval = model.fingerprint(batch)[:, 8:]
    torch.manual_seed(0)
    model.train()
    z_train = model.fingerprint(batch)[:, 8:]
    blank = (z_train == neutral).all(dim=1)
    assert 0.35 < blank.float().mean().item() < 0.65  # about half the molecules, each block whole
    torch.testing.assert_close(z_train[~blank], z_eval[~blank])  # the others untouched
    assert not (z_eval == neutral).all(dim=1).any()  # evaluation never blanks
    with pytest.raises(ValueError, match="feature_dropout"):
        build_model({"hidden": 8, "ffn_hidden": 4, "n_mol_features": 3, "feature_dropout": 1.0})


def test_feature_flag_marks_dropped_descriptor_blocks():
    from discovery.chem import mol_descriptors

    smiles = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "CCN(CC)CC", "OC(=O)c1ccccc1", "CCCCCCCC"] * 20
    mols = [Chem.MolFromSmiles(s) for s in smiles]
    values = mol_descriptors(mols)[0]
    graphs = featurize(mols).with_mol_features(values)
    d = values.shape[1]
    model = build_model({"hidden": 8, "ffn_hidden": 4, "n_mol_features": d, "feature_dropout": 0.5,
                         "feature_flag": True})
    assert model.head[0][0].in_features == 8 + d + 1
    model.fit_feature_scaler(values)
    batch = next(iter(GraphLoader(graphs, batch_size=len(smiles), shuffle=False))).graphs
    model.eval()
    fp_eval = model.fingerprint(batch)
    assert fp_eval.shape == (len(smiles), 8 + d + 1) and (fp_eval[:, -1] == 1).all()  # present in evaluation
    torch.manual_seed(0)
    model.train()
    fp = model.fingerprint(batch)
    blank = (fp[:, 8:-1] == 0).all(dim=1)
    assert 0.35 < blank.float().mean().item() < 0.65
    torch.testing.assert_close(fp[:, -1], (~blank).float())  # flag 0 exactly where the block was dropped
    # without the flag (and in bundles written before it existed) the head sees d + D inputs
    assert build_model({"hidden": 8, "ffn_hidden": 4, "n_mol_features": d}).head[0][0].in_features == 8 + d


@pytest.mark.parametrize("flag", [False, True])
def test_feature_average_is_the_mean_of_the_two_views_in_evaluation_only(flag):
    from discovery.chem import mol_descriptors

    smiles = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "CCN(CC)CC", "OC(=O)c1ccccc1", "CCCCCCCC"] * 5
    mols = [Chem.MolFromSmiles(s) for s in smiles]
    values = mol_descriptors(mols)[0]
    graphs = featurize(mols).with_mol_features(values)
    d = values.shape[1]
    hp = {"hidden": 8, "ffn_hidden": 4, "n_mol_features": d, "feature_dropout": 0.5, "feature_flag": flag}
    torch.manual_seed(0)
    model = build_model({**hp, "feature_average": True})
    model.fit_feature_scaler(values)
    batch = next(iter(GraphLoader(graphs, batch_size=len(smiles), shuffle=False))).graphs
    model.eval()
    fp = model.fingerprint(batch)  # descriptors present (flag 1)
    dropped = fp.clone()
    dropped[:, 8:8 + d] = 0.0  # the training mean after standard scaling
    if flag:
        dropped[:, -1] = 0.0
    want = 0.5 * (model.head(fp) + model.head(dropped))
    torch.testing.assert_close(model(batch), want)
    assert not torch.allclose(model(batch), model.head(fp))  # the dropped view counts
    model.train()  # training sees one view per molecule, as without averaging
    torch.manual_seed(1)
    a = model(batch)
    torch.manual_seed(1)
    torch.testing.assert_close(a, model.head(model.fingerprint(batch)))
    with pytest.raises(ValueError, match="feature_average needs"):
        build_model({"hidden": 8, "ffn_hidden": 4, "n_mol_features": d, "feature_average": True})
