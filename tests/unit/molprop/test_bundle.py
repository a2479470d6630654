"""Model bundles: round trip, plain-tensor member files, format and featurizer checks."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from rdkit import Chem

from discovery.chem import FEATURIZER_VERSION, featurize
from discovery.errors import ModelFormatError
from discovery.molprop.bundle import FORMAT_VERSION, Predictor, load_bundle, save_bundle
from discovery.molprop.models import build_model

SMILES = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "C", "ClC(Cl)Cl", "OC(=O)C=C"]


def _meta(t=("a", "b"), method="ensemble"):
    return {
        "task_type": "regression",
        "target_cols": list(t),
        "smiles_col": "smiles",
        "featurizer": {"name": "discovery.chem", "version": FEATURIZER_VERSION, "atom_fdim": 72, "bond_fdim": 14},
        "calibration": {"method": method, "scale": [1.5, 0.5], "mc_samples": 0, "mc_p": 0.1},
        "member_seeds": [0, 1],
    }


@pytest.fixture()
def members():
    out = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        m = build_model({"model": "dmpnn", "hidden": 24, "ffn_hidden": 12, "n_tasks": 2, "dropout": 0.1})
        m.scaler.fit(np.array([[1.0, 100.0], [3.0, 300.0], [2.0, 250.0]]))
        out.append(m.eval())
    return out


@pytest.fixture(scope="module")
def graphs():
    return featurize([Chem.MolFromSmiles(s) for s in SMILES])


def test_save_load_identical_predictions(tmp_path, members, graphs):
    pred = Predictor(members, _meta())
    before = pred.predict_graphs(graphs)
    save_bundle(tmp_path / "model", members, _meta())
    loaded = load_bundle(tmp_path)  # the run folder (contains model/) works too
    after = loaded.predict_graphs(graphs)
    np.testing.assert_array_equal(before.mean, after.mean)
    np.testing.assert_array_equal(before.std, after.std)
    assert after.method == "ensemble" and after.calibrated
    # calibration scale is applied per target
    raw = loaded.predict_graphs(graphs, calibrated=False)
    np.testing.assert_allclose(after.std, raw.std * np.array([1.5, 0.5]))
    # original units: predictions are in the range of the targets' scale
    assert loaded.target_cols == ["a", "b"] and loaded.ensemble_size == 2
    meta = json.loads((tmp_path / "model" / "bundle.json").read_text())
    assert meta["format_version"] == FORMAT_VERSION == 1
    assert meta["model"]["name"] == "dmpnn" and meta["model"]["hparams"]["hidden"] == 24
    assert meta["scaler"]["mean"] == pytest.approx([2.0, 650.0 / 3])
    assert meta["ensemble_size"] == 2 and meta["members"] == ["member_0.pt", "member_1.pt"]


def test_member_files_hold_plain_data_only(tmp_path, members):
    save_bundle(tmp_path, members, _meta())
    payload = torch.load(tmp_path / "member_0.pt", weights_only=True)
    assert set(payload) == {"format_version", "hparams", "state_dict", "seed"}
    assert payload["format_version"] == 1 and payload["seed"] == 0

    def plain(o):
        if isinstance(o, dict):
            return all(isinstance(k, str) and plain(v) for k, v in o.items())
        if isinstance(o, (list, tuple)):
            return all(plain(v) for v in o)
        return o is None or isinstance(o, (str, int, float, bool, torch.Tensor))

    assert plain(payload)


def test_mc_dropout_prediction_is_seeded(members, graphs):
    pred = Predictor(members, _meta())
    a = pred.predict_graphs(graphs, mc_samples=4)
    b = pred.predict_graphs(graphs, mc_samples=4)
    assert a.method == "mc_dropout" and not a.calibrated  # calibrated for ensemble, not MC
    assert a.samples.shape == (8, len(SMILES), 2)
    np.testing.assert_array_equal(a.mean, b.mean)
    assert (a.std > 0).all()
    c = pred.predict_graphs(graphs, mc_samples=4, seed=1)
    assert not np.array_equal(a.mean, c.mean)


def test_single_model_without_uncertainty_gives_nan_std(members, graphs):
    meta = _meta(method="none")
    pred = Predictor(members[:1], meta).predict_graphs(graphs)
    assert pred.method == "none" and np.isnan(pred.std).all() and np.isfinite(pred.mean).all()


def test_future_format_version_is_refused(tmp_path, members):
    save_bundle(tmp_path, members, _meta())
    meta = json.loads((tmp_path / "bundle.json").read_text())
    meta["format_version"] = FORMAT_VERSION + 1
    (tmp_path / "bundle.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFormatError, match=r"format_version 2 is newer.*reads format_version <= 1") as err:
        load_bundle(tmp_path)
    assert "bundle.json" in str(err.value) and "upgrade" in str(err.value)
    assert err.value.exit_code == 2


def test_future_member_version_is_refused(tmp_path, members):
    save_bundle(tmp_path, members, _meta())
    payload = torch.load(tmp_path / "member_1.pt", weights_only=True)
    payload["format_version"] = 7
    torch.save(payload, tmp_path / "member_1.pt")
    with pytest.raises(ModelFormatError, match="member_1.pt.*format_version 7"):
        load_bundle(tmp_path)


def test_featurizer_mismatch_is_refused(tmp_path, members):
    meta = _meta()
    meta["featurizer"]["version"] = "v0-old"
    save_bundle(tmp_path, members, meta)
    with pytest.raises(ModelFormatError, match="featurizer version 'v0-old'"):
        load_bundle(tmp_path)


def test_not_a_bundle_and_corrupt_members(tmp_path, members):
    with pytest.raises(ModelFormatError, match="not a model bundle"):
        load_bundle(tmp_path)
    save_bundle(tmp_path, members, _meta())
    (tmp_path / "member_0.pt").write_bytes(b"garbage")
    with pytest.raises(ModelFormatError, match="cannot read member weights"):
        load_bundle(tmp_path)
    (tmp_path / "member_0.pt").unlink()
    with pytest.raises(ModelFormatError, match="missing"):
        load_bundle(tmp_path)


def test_wrong_shapes_are_refused(tmp_path, members):
    save_bundle(tmp_path, members, _meta())
    payload = torch.load(tmp_path / "member_0.pt", weights_only=True)
    payload["hparams"]["hidden"] = 48
    torch.save(payload, tmp_path / "member_0.pt")
    with pytest.raises(ModelFormatError, match="do not match the recorded hyperparameters"):
        load_bundle(tmp_path)
