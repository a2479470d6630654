"""Applicability domain attached to predictions (nearest-neighbour Tanimoto to the training split)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator

from discovery import molprop
from discovery.errors import ConfigError


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("ad") / "run"
    res = molprop.train("esol", split="scaffold", seed=0, ensemble=1, epochs=2, out=out, hidden=32, depth=2)
    return out, res


def _rdkit_max_sim(queries, train):
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    tfps = [gen.GetFingerprint(Chem.MolFromSmiles(s)) for s in train]
    return np.array([max(DataStructs.BulkTanimotoSimilarity(gen.GetFingerprint(Chem.MolFromSmiles(q)), tfps))
                     for q in queries])


def test_bundle_records_training_split(trained):
    out, res = trained
    saved = (out / "model" / "training_smiles.smi").read_text().split()
    assert len(saved) == len(res.split.train)
    test_smiles = set(res.predictions["smiles"])
    assert not test_smiles & set(saved), "test molecules must not be in the recorded training set"


def test_predictions_carry_ad_equal_to_rdkit(trained, tmp_path):
    out, res = trained
    train = (out / "model" / "training_smiles.smi").read_text().split()
    queries = list(res.predictions["smiles"][:20]) + [train[0], "not_a_smiles"]
    pd.DataFrame({"smiles": queries}).to_csv(tmp_path / "q.csv", index=False)
    df = molprop.predict(out, tmp_path / "q.csv", ad_threshold=0.5)
    assert list(df.columns[-3:]) == ["ad_max_sim", "ad_nearest_smiles", "ad_in_domain"]
    assert len(df) == 21 and len(df.attrs["invalid"]) == 1
    expected = _rdkit_max_sim(df["smiles"], train)
    np.testing.assert_allclose(df["ad_max_sim"].to_numpy(), expected, rtol=0, atol=1e-12)
    assert df["ad_max_sim"].iloc[-1] == 1.0 and df["ad_nearest_smiles"].iloc[-1] == train[0]
    assert (df["ad_in_domain"] == (df["ad_max_sim"] >= 0.5)).all()
    # the streamed file path writes the same columns
    summary = molprop.predict(out, tmp_path / "q.csv", out=tmp_path / "p.csv", chunksize=7, ad_threshold=0.5)
    written = pd.read_csv(tmp_path / "p.csv")
    np.testing.assert_allclose(written["ad_max_sim"], df["ad_max_sim"], atol=1e-12)
    assert summary.columns[-3:] == ["ad_max_sim", "ad_nearest_smiles", "ad_in_domain"]


def test_ad_can_be_switched_off_and_is_required_on_request(trained, tmp_path):
    out, _ = trained
    pd.DataFrame({"smiles": ["CCO", "c1ccccc1O"]}).to_csv(tmp_path / "q.csv", index=False)
    df = molprop.predict(out, tmp_path / "q.csv", ad=False)
    assert not any(c.startswith("ad_") for c in df.columns)
    (out / "model" / "training_smiles.smi").rename(tmp_path / "moved.smi")
    try:
        df = molprop.predict(out, tmp_path / "q.csv")  # old bundle: no domain, no error
        assert not any(c.startswith("ad_") for c in df.columns)
        with pytest.raises(ConfigError, match="training molecules"):
            molprop.predict(out, tmp_path / "q.csv", ad=True)
    finally:
        (tmp_path / "moved.smi").rename(out / "model" / "training_smiles.smi")
