"""Training through the Python API on small ESOL subsets: determinism, NaN masking, options."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from discovery.chem import read_molecules
from discovery.data import resolve
from discovery.errors import ConfigError
from discovery.molprop import train
from discovery.molprop.data import GraphLoader
from discovery.molprop.models import build_model
from discovery.molprop.module import MolPropModule

SMALL = dict(epochs=2, hidden=32, ffn_hidden=32, depth=2, batch_size=32, split="random", num_threads=1)


def _first_rows(name, target, n):
    path, _ = resolve(name)
    return read_molecules(path, "smiles", [target]).subset(np.arange(n))


@pytest.fixture(scope="module")
def esol150():
    return _first_rows("ESOL", "logp", 150)


def _numbers(res):
    return res.metrics["test"]["logp"], res.metrics["val"]["logp"], res.predictions["logp_pred"].to_numpy()


def test_same_seed_same_numbers_different_seed_different(esol150):
    a = train(esol150, seed=0, **SMALL)
    b = train(esol150, seed=0, **SMALL)
    c = train(esol150, seed=1, **SMALL)
    ta, va, pa = _numbers(a)
    tb, vb, pb = _numbers(b)
    assert ta == tb and va == vb  # equal to the last digit
    np.testing.assert_array_equal(pa, pb)
    tc, _, pc = _numbers(c)
    assert tc != ta
    assert not np.array_equal(a.split.test, c.split.test) or not np.array_equal(pa, pc)


def test_result_contents(esol150):
    res = train(esol150, seed=0, **SMALL)
    m = res.metrics
    assert m["n_train"] + m["n_val"] + m["n_test"] == 150
    assert m["n_invalid"] == 0
    for part in ("test", "val"):
        for k in ("rmse", "mae", "r2"):
            assert np.isfinite(m[part]["logp"][k])
    assert m["members"]["fit"][0]["epochs_run"] == 2
    assert list(res.predictions.columns) == ["smiles", "row", "logp_true", "logp_pred", "logp_std"]
    assert res.predictions["logp_std"].isna().all()  # a single model has no uncertainty
    assert m["uncertainty"]["method"] == "none"
    assert res.out is None and res.bundle_path is None
    # the predictor predicts in original units
    df = res.predictor.predict_smiles(["CCO", "not a smiles", ""])
    assert np.isfinite(df.loc[0, "logp_pred"]) and np.isnan(df.loc[1:, "logp_pred"]).all()
    assert df.loc[0, "error"] == "" and "Parse Error" in df.loc[1, "error"] and df.loc[2, "error"] == "empty SMILES"
    # the Python API takes a list of SMILES as data too
    from discovery.molprop import predict

    df2 = predict(res.predictor, ["CCO", "c1ccccc1"])
    assert df2["row"].tolist() == [1, 2] and df2.loc[0, "logp_pred"] == df.loc[0, "logp_pred"]


def test_nan_targets_train_and_are_masked(esol150):
    """Multi-task data with missing labels trains; metrics count only present labels."""
    t = esol150
    y2 = t.targets[:, 0] * 2.0 + 1.0
    y2[::3] = np.nan
    t2 = t.subset(np.arange(len(t)))
    t2.targets = np.column_stack([t.targets[:, 0], y2])
    t2.target_cols = ["logp", "twice"]
    res = train(t2, seed=0, **SMALL)
    m = res.metrics
    for col in ("logp", "twice"):
        assert np.isfinite(m["test"][col]["rmse"])
    n_present = int(np.isfinite(y2[res.split.test]).sum())
    assert m["test"]["twice"]["n"] == n_present < m["test"]["logp"]["n"]
    assert np.isnan(res.predictions["twice_true"]).sum() == len(res.split.test) - n_present


def test_masked_label_values_do_not_change_training(esol150):
    """Whatever sits under the mask, the trained weights are bit-identical."""
    graphs_y = esol150.targets.copy()
    graphs_y[::4, 0] = np.nan
    from discovery.chem import featurize

    graphs = featurize(esol150.mols)

    def run(fill):
        torch.manual_seed(0)
        model = build_model({"hidden": 16, "ffn_hidden": 16})
        model.scaler.fit(graphs_y)
        loader = GraphLoader(graphs, model.scaler.transform_numpy(graphs_y), batch_size=32, shuffle=True, seed=0)
        loader.y[loader.mask == 0] = fill
        module = MolPropModule(model)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        for batch in loader:
            opt.zero_grad()
            module.training_step(batch, 0).backward()
            opt.step()
        return model.state_dict()

    a, b = run(0.0), run(1e6)
    for k in a:
        assert torch.equal(a[k], b[k]), k


@pytest.mark.parametrize("name", ["gin", "attentivefp"])
def test_other_models_train(esol150, name):
    res = train(esol150, model=name, seed=0, **SMALL)
    assert np.isfinite(res.metrics["test"]["logp"]["rmse"])
    assert res.predictor.meta["model"]["name"] == name


def test_ensemble_uncertainty_and_calibration(esol150):
    res = train(esol150, seed=0, ensemble=2, **SMALL)
    m = res.metrics
    assert len(m["members"]["fit"]) == 2 and [f["seed"] for f in m["members"]["fit"]] == [0, 1]
    assert len(m["members"]["test"]) == 2
    assert m["members"]["summary"]["test"]["logp"]["rmse"]["sd"] >= 0
    u = m["uncertainty"]
    assert u["method"] == "ensemble" and u["fitted_on"] == "validation"
    rep = u["test"]["logp"]
    for k in ("miscalibration_area_before", "miscalibration_area_after", "coverage90_before", "coverage90_after"):
        assert rep[k] is not None and np.isfinite(rep[k])
    assert (res.predictions["logp_std"] > 0).all()
    assert res.predictor.calibration["scale"][0] == pytest.approx(rep["scale"])


def test_mc_dropout_uncertainty(esol150):
    res = train(esol150, seed=0, mc_dropout=5, mc_p=0.2, **SMALL)
    assert res.metrics["uncertainty"]["method"] == "mc_dropout"
    assert (res.predictions["logp_std"] > 0).all()


def test_bad_options(esol150):
    with pytest.raises(ConfigError, match="unknown model"):
        train(esol150, model="nope", epochs=1)
    with pytest.raises(ConfigError, match="unknown hyperparameter"):
        train(esol150, epochs=1, hiddn=3)
    with pytest.raises(ConfigError, match="ensemble"):
        train(esol150, epochs=1, ensemble=0)


def test_column_and_kfold_splits(tmp_path, esol150):
    df = esol150.to_frame()[["smiles", "logp"]].iloc[:60].copy()
    df["part"] = ["train"] * 40 + ["VAL"] * 10 + ["test"] * 10
    path = tmp_path / "d.csv"
    df.to_csv(path, index=False)
    small = {**SMALL, "epochs": 1}
    small.pop("split")
    res = train(str(path), target_cols="logp", split="column", split_col="part", **small)
    assert (res.split.train.tolist(), res.split.val.tolist(), res.split.test.tolist()) == (
        list(range(40)), list(range(40, 50)), list(range(50, 60)))
    with pytest.raises(ConfigError, match="split_col"):
        train(str(path), target_cols="logp", split="column", **small)
    folds = [train(str(path), target_cols="logp", split="kfold", fold=k, n_folds=3, **small).split.test for k in range(3)]
    assert sorted(np.concatenate(folds).tolist()) == list(range(60))


def test_molecule_descriptors_train_save_and_predict(tmp_path, esol150):
    from discovery.molprop import load_bundle

    res = train(esol150, seed=0, mol_features="physchem", out=tmp_path / "run", **SMALL)
    hp = res.predictor.members[0].hparams
    assert hp["mol_features"] == "physchem" and hp["n_mol_features"] == 64
    member = res.predictor.members[0]
    # the head reads graph vector + descriptors; the scaler holds the training split's statistics
    assert member.head[0][0].in_features == 32 + 64
    from discovery.chem import mol_descriptors
    from rdkit import Chem

    train_mols = [Chem.MolFromSmiles(esol150.smiles[i]) for i in res.split.train]
    want_mean = np.nanmean(mol_descriptors(train_mols)[0].astype(np.float64), axis=0)
    np.testing.assert_allclose(member.feature_scaler.mean.numpy(), want_mean, rtol=1e-5, atol=1e-5)
    # a saved model computes the descriptors itself when it predicts new molecules
    smiles = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1"]
    before = res.predictor.predict_smiles(smiles)["logp_pred"].to_numpy()
    loaded = load_bundle(tmp_path / "run")
    assert loaded.mol_features == "physchem"
    np.testing.assert_array_equal(loaded.predict_smiles(smiles)["logp_pred"].to_numpy(), before)
    # the descriptors matter: different values, different predictions
    graphs = loaded.featurize([Chem.MolFromSmiles(s) for s in smiles])
    shifted = graphs.with_mol_features(graphs.mol_features + 1.0)
    assert not np.allclose(loaded.predict_graphs(shifted).mean, loaded.predict_graphs(graphs).mean)
    # graphs without descriptors are refused with the reason
    from discovery.chem import featurize

    with pytest.raises(ValueError, match="needs 64 molecule-level descriptors"):
        loaded.predict_graphs(featurize([Chem.MolFromSmiles(s) for s in smiles]))
    # a bundle whose descriptors this version computes differently is refused on load
    import json

    from discovery.errors import ModelFormatError

    spec_file = tmp_path / "run" / "model" / "bundle.json"
    spec = json.loads(spec_file.read_text())
    spec["featurizer"]["mol_features"]["version"] = "0"
    spec_file.write_text(json.dumps(spec))
    with pytest.raises(ModelFormatError, match="descriptors version '0'"):
        load_bundle(tmp_path / "run")


def test_unknown_descriptor_set_is_a_config_error(esol150):
    with pytest.raises(ConfigError, match="unknown molecule descriptor set 'morgan'"):
        train(esol150, mol_features="morgan", **SMALL)


def test_quantile_descriptor_scaling_trains_saves_and_predicts(tmp_path, esol150):
    from rdkit import Chem

    from discovery.chem import mol_descriptors
    from discovery.molprop import load_bundle

    res = train(esol150, seed=0, mol_features="physchem", feature_scaling="quantile", out=tmp_path / "q", **SMALL)
    member = res.predictor.members[0]
    assert member.hparams["feature_scaling"] == "quantile" and member.feature_scaling == "quantile"
    # the knots are the training split's quantiles (median = middle knot)
    train_mols = [Chem.MolFromSmiles(esol150.smiles[i]) for i in res.split.train]
    want_median = np.nanmedian(mol_descriptors(train_mols)[0].astype(np.float64), axis=0)
    np.testing.assert_allclose(member.feature_scaler.knots[:, 50].numpy(), want_median, rtol=1e-5, atol=1e-4)
    smiles = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1"]
    before = res.predictor.predict_smiles(smiles)["logp_pred"].to_numpy()
    loaded = load_bundle(tmp_path / "q")
    assert loaded.members[0].feature_scaling == "quantile"
    np.testing.assert_array_equal(loaded.predict_smiles(smiles)["logp_pred"].to_numpy(), before)
    # a bundle written before the option existed (no feature_scaling key) loads with standard scaling
    import torch

    std = train(esol150, seed=0, mol_features="physchem", out=tmp_path / "s", **SMALL)
    member_file = tmp_path / "s" / "model" / "member_0.pt"
    payload = torch.load(member_file, weights_only=False)
    assert payload["hparams"].pop("feature_scaling") == "standard"
    torch.save(payload, member_file)
    old = load_bundle(tmp_path / "s")
    assert old.members[0].feature_scaling == "standard"
    np.testing.assert_array_equal(old.predict_smiles(smiles)["logp_pred"].to_numpy(),
                                  std.predictor.predict_smiles(smiles)["logp_pred"].to_numpy())
    with pytest.raises(ConfigError, match="feature_scaling must be one of"):
        train(esol150, mol_features="physchem", feature_scaling="rank", **SMALL)


def test_bf16_mixed_training_is_deterministic_and_saves_float32(tmp_path, esol150):
    from discovery.molprop import load_bundle

    a = train(esol150, seed=0, precision="bf16-mixed", out=tmp_path / "a", **SMALL)
    b = train(esol150, seed=0, precision="bf16-mixed", **SMALL)
    f = train(esol150, seed=0, **SMALL)
    ta, va, pa = _numbers(a)
    tb, vb, pb = _numbers(b)
    assert ta == tb and va == vb
    np.testing.assert_array_equal(pa, pb)
    # the matrix products really ran in bfloat16: same seed, other bits than float32 training
    assert not np.array_equal(pa, _numbers(f)[2])
    assert np.isfinite(pa).all()
    assert a.config["precision"] == "bf16-mixed" and f.config["precision"] == "32"
    member = load_bundle(tmp_path / "a").members[0]
    assert {p.dtype for p in member.parameters()} == {torch.float32}


def test_bf16_training_caps_the_kernel_caches(monkeypatch, esol150):
    # each batch shape compiles its own bf16 kernel; uncapped, ideep's and oneDNN's caches keep ~1,000 of them
    from discovery.molprop.train import ONEDNN_CACHE_ENTRIES

    for var in ("LRU_CACHE_CAPACITY", "ONEDNN_PRIMITIVE_CACHE_CAPACITY"):
        monkeypatch.delenv(var, raising=False)
    train(esol150, seed=0, **SMALL)
    assert "LRU_CACHE_CAPACITY" not in os.environ  # float32 training leaves them alone
    train(esol150, seed=0, precision="bf16-mixed", **SMALL)
    assert os.environ["LRU_CACHE_CAPACITY"] == os.environ["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] == str(ONEDNN_CACHE_ENTRIES)
    monkeypatch.setenv("LRU_CACHE_CAPACITY", "4")  # the user's choice wins
    train(esol150, seed=0, precision="bf16-mixed", **SMALL)
    assert os.environ["LRU_CACHE_CAPACITY"] == "4"


def test_mixed_ensemble_of_descriptor_and_graph_only_members(tmp_path, esol150):
    from rdkit import Chem

    from discovery.molprop import load_bundle

    res = train(esol150, seed=0, ensemble=3, graph_only_members=1, mol_features="physchem", out=tmp_path / "m",
                **SMALL)
    members = res.predictor.members
    # the last member learns from the graph alone: no descriptor scaler, a head on the graph vector only
    assert [m.n_mol_features for m in members] == [64, 64, 0]
    assert members[2].feature_scaler is None and members[2].head[0][0].in_features == 32
    assert members[0].head[0][0].in_features == 32 + 64
    assert [f["mol_features"] for f in res.metrics["members"]["fit"]] == ["physchem", "physchem", None]
    assert res.config["graph_only_members"] == 1
    loaded = load_bundle(tmp_path / "m")
    assert loaded.mol_features == "physchem" and [m.n_mol_features for m in loaded.members] == [64, 64, 0]
    smiles = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1"]
    graphs = loaded.featurize([Chem.MolFromSmiles(s) for s in smiles])
    pred = loaded.predict_graphs(graphs)
    # the ensemble is the validation-weighted mean of its two groups, and the graph-only member ignores the
    # descriptors; the uncertainty stays the members' unweighted spread
    mix = res.metrics["mixing"]
    w = mix["descriptor_share"]
    assert mix["chosen_by"] == "validation" and w in [round(0.1 * i, 1) for i in range(11)]
    errors = mix["validation_error_by_share"]
    assert errors[f"{w:.1f}"] == min(errors.values())
    np.testing.assert_allclose(mix["member_weights"], [w / 2, w / 2, 1 - w])
    np.testing.assert_allclose(pred.mean, w * pred.samples[:2].mean(axis=0) + (1 - w) * pred.samples[2])
    np.testing.assert_allclose(loaded.predict_graphs(graphs, calibrated=False).std, pred.samples.std(axis=0))
    shifted = loaded.predict_graphs(graphs.with_mol_features(graphs.mol_features + 1.0))
    np.testing.assert_array_equal(shifted.samples[2], pred.samples[2])
    assert not np.allclose(shifted.samples[0], pred.samples[0])
    np.testing.assert_array_equal(loaded.predict_smiles(smiles)["logp_pred"].to_numpy(),
                                  res.predictor.predict_smiles(smiles)["logp_pred"].to_numpy())
    # otherwise the same architecture
    differ = {k for k in members[0].hparams if members[0].hparams[k] != members[2].hparams.get(k)}
    assert differ == {"mol_features", "n_mol_features"}
    # a bundle whose weights do not fit its members is refused on load
    import json

    from discovery.errors import ModelFormatError

    spec_file = tmp_path / "m" / "model" / "bundle.json"
    spec = json.loads(spec_file.read_text())
    assert spec["member_weights"] == mix["member_weights"]
    spec["member_weights"] = [1.0, 0.0]
    spec_file.write_text(json.dumps(spec))
    with pytest.raises(ModelFormatError, match="member_weights must be 3 non-negative numbers"):
        load_bundle(tmp_path / "m")
    # the validation error of each share is that of the mixed validation predictions
    from discovery.molprop.train import _mix_error

    val = res.predictor.predict_graphs(res.predictor.featurize(
        [Chem.MolFromSmiles(esol150.smiles[i]) for i in res.split.val]), calibrated=False)
    y_val = np.asarray(esol150.targets, dtype=float)[res.split.val].reshape(-1, 1)
    desc, graph = val.samples[:2].mean(axis=0), val.samples[2]
    for share in ("0.0", "0.5", "1.0"):
        want = _mix_error(y_val, float(share) * desc + (1 - float(share)) * graph, "regression")
        assert errors[share] == pytest.approx(want, rel=1e-9)
    assert _mix_error(y_val, desc, "regression") == pytest.approx(
        np.sqrt(np.mean((desc - y_val) ** 2)) / np.std(y_val))
    # a fixed share is used as given
    fixed = train(esol150, seed=0, ensemble=2, graph_only_members=1, mol_features="physchem", mix_weight=0.3, **SMALL)
    assert fixed.metrics["mixing"]["chosen_by"] == "given" and fixed.metrics["mixing"]["member_weights"] == [0.3, 0.7]
    with pytest.raises(ConfigError, match="mix_weight must be in"):
        train(esol150, ensemble=2, graph_only_members=1, mol_features="physchem", mix_weight=1.5, **SMALL)
    with pytest.raises(ConfigError, match="graph_only_members must be an integer in"):
        train(esol150, ensemble=2, graph_only_members=2, mol_features="physchem", **SMALL)
    with pytest.raises(ConfigError, match="graph_only_members needs mol_features"):
        train(esol150, ensemble=2, graph_only_members=1, **SMALL)


def test_bad_schedule_and_precision_options(esol150):
    with pytest.raises(ConfigError, match="precision must be one of"):
        train(esol150, precision="16", **SMALL)
    with pytest.raises(ConfigError, match="max_lr must be a positive number"):
        train(esol150, max_lr=0.0, **SMALL)
    with pytest.raises(ConfigError, match="warmup_epochs"):
        train(esol150, warmup_epochs=-1, **SMALL)


def test_release_memory_callback_trims_once_per_epoch():
    from discovery.molprop.module import ReleaseMemoryCallback

    cb = ReleaseMemoryCallback()
    cb.on_validation_end(None, None)  # Lightning validates at the end of the training epoch ...
    cb.on_train_epoch_end(None, None)  # ... so the epoch's end finds the heap trimmed already
    assert cb.trims == 1
    cb.on_train_epoch_end(None, None)  # an epoch without validation is trimmed at its end
    assert cb.trims == 2


def test_ema_callback_averages_and_swaps_weights():
    from types import SimpleNamespace

    from discovery.molprop.module import EMACallback

    net = torch.nn.Linear(2, 1)
    trainer = SimpleNamespace(sanity_checking=False)
    with torch.no_grad():
        net.weight.fill_(1.0)
        net.bias.fill_(0.0)
    cb = EMACallback(0.5)
    cb.on_fit_start(trainer, net)
    with torch.no_grad():
        net.weight.fill_(3.0)
    cb.on_train_batch_end(trainer, net, None, None, 0)  # d_0 = min(0.5, 1/10) = 0.1
    np.testing.assert_allclose(cb.ema[0].numpy(), 0.1 * 1.0 + 0.9 * 3.0)
    cb.on_train_batch_end(trainer, net, None, None, 1)  # d_1 = min(0.5, 2/11)
    d1 = 2 / 11
    want = d1 * 2.8 + (1 - d1) * 3.0
    np.testing.assert_allclose(cb.ema[0].numpy(), want, rtol=1e-6)
    cb.on_validation_start(trainer, net)
    np.testing.assert_allclose(net.weight.detach().numpy(), want, rtol=1e-6)  # validation sees the average
    cb.on_validation_end(trainer, net)
    assert (net.weight.detach() == 3.0).all()  # training goes on from its own weights
    with pytest.raises(ValueError, match="decay"):
        EMACallback(1.0)


def test_ema_training_keeps_the_averaged_weights(esol150):
    a = train(esol150, seed=0, ema=0.9, **SMALL)
    b = train(esol150, seed=0, ema=0.9, **SMALL)
    f = train(esol150, seed=0, **SMALL)
    np.testing.assert_array_equal(_numbers(a)[2], _numbers(b)[2])
    assert not np.array_equal(_numbers(a)[2], _numbers(f)[2])
    assert a.config["ema"] == 0.9 and f.config["ema"] is None
    with pytest.raises(ConfigError, match="ema must be in"):
        train(esol150, ema=1.5, **SMALL)


def test_feature_flag_bundle_round_trip_and_needs_feature_dropout(tmp_path, esol150):
    from discovery.molprop import load_bundle

    res = train(esol150, seed=0, mol_features="physchem", feature_dropout=0.5, feature_flag=True,
                out=tmp_path / "f", **SMALL)
    smiles = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1"]
    loaded = load_bundle(tmp_path / "f")
    assert loaded.members[0].feature_flag
    np.testing.assert_array_equal(loaded.predict_smiles(smiles)["logp_pred"].to_numpy(),
                                  res.predictor.predict_smiles(smiles)["logp_pred"].to_numpy())
    with pytest.raises(ConfigError, match="feature_flag needs"):
        train(esol150, mol_features="physchem", feature_flag=True, **SMALL)


def test_feature_average_bundle_round_trip_and_needs_feature_dropout(tmp_path, esol150):
    from discovery.molprop import load_bundle

    res = train(esol150, seed=0, mol_features="physchem", feature_dropout=0.5, feature_average=True,
                out=tmp_path / "a", **SMALL)
    plain = train(esol150, seed=0, mol_features="physchem", feature_dropout=0.5, **SMALL)
    smiles = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1"]
    loaded = load_bundle(tmp_path / "a")
    assert loaded.members[0].feature_average and res.config["hparams"]["feature_average"]
    np.testing.assert_array_equal(loaded.predict_smiles(smiles)["logp_pred"].to_numpy(),
                                  res.predictor.predict_smiles(smiles)["logp_pred"].to_numpy())
    # averaging acts in evaluation (validation, test, prediction): other predictions than without it
    assert not np.array_equal(_numbers(res)[2], _numbers(plain)[2])
    with pytest.raises(ConfigError, match="feature_average needs"):
        train(esol150, mol_features="physchem", feature_average=True, **SMALL)


def test_validation_score_is_one_minus_roc_auc_or_rmse():
    from discovery.molprop.module import validation_score

    # task 0: 3 of the 4 (positive, negative) pairs ranked right -> AUC 0.75; task 1: one class -> left out
    out = torch.tensor([[0.9, 0.1], [0.2, 0.2], [0.4, 0.3], [0.1, 0.4]])
    y = torch.tensor([[1.0, 1.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]])
    mask = torch.tensor([[1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [1.0, 0.0]])
    assert validation_score(out, y, mask, "classification") == pytest.approx(0.25)
    assert np.isnan(validation_score(out, y, torch.zeros_like(mask), "classification"))
    # regression: per-task RMSE over present labels, averaged over tasks
    reg_mask = torch.tensor([[1.0, 1.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    want0 = np.sqrt(np.mean(np.square([0.9 - 1.0, 0.2 - 1.0, 0.1 - 0.0])))
    want1 = np.sqrt(np.mean(np.square([0.1 - 1.0, 0.3 - 1.0, 0.4 - 0.0])))
    assert validation_score(out, y, reg_mask, "regression") == pytest.approx((want0 + want1) / 2)


@pytest.fixture(scope="module")
def bbbp300():
    return _first_rows("BBBP", "p_np", 300)


def test_select_by_metric_keeps_the_epoch_with_the_best_validation_auc(bbbp300):
    opts = dict(SMALL, epochs=6, patience=None, split="scaffold")
    res = train(bbbp300, seed=0, select_by="metric", **opts)
    fit = res.metrics["members"]["fit"][0]
    assert fit["selected_by"] == "val_score" and res.config["select_by"] == "metric"
    # the kept weights are those of the best epoch: their validation ROC-AUC is 1 - the best score
    assert res.metrics["val"]["p_np"]["roc_auc"] == pytest.approx(1.0 - fit["best_val_score"], abs=1e-6)
    by_loss = train(bbbp300, seed=0, **opts)
    assert by_loss.metrics["members"]["fit"][0]["selected_by"] == "val_loss"
    assert res.metrics["val"]["p_np"]["roc_auc"] >= by_loss.metrics["val"]["p_np"]["roc_auc"]
    with pytest.raises(ConfigError, match="select_by must be one of"):
        train(bbbp300, select_by="auc", **SMALL)


def test_select_by_metric_is_the_loss_choice_for_one_regression_task(esol150):
    # RMSE on one task orders the epochs as the MSE loss does: the same epoch, the same numbers
    opts = dict(SMALL, epochs=4, patience=None)
    a, b = train(esol150, seed=0, select_by="metric", **opts), train(esol150, seed=0, **opts)
    assert a.metrics["members"]["fit"][0]["selected_by"] == "val_score"
    assert a.metrics["members"]["fit"][0]["best_epoch"] == b.metrics["members"]["fit"][0]["best_epoch"]
    np.testing.assert_array_equal(_numbers(a)[2], _numbers(b)[2])


def test_one_class_validation_falls_back_to_the_loss():
    from discovery.molprop.train import _has_both_classes

    assert _has_both_classes(np.array([[0.0, np.nan], [1.0, 1.0]]))
    assert not _has_both_classes(np.array([[1.0, np.nan], [1.0, 0.0]])[:, :1])
    assert not _has_both_classes(None)
