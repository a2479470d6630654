"""Streaming prediction: exact numbers whatever the chunk size, bounded memory, atomic files."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

from discovery.chem import FEATURIZER_VERSION, featurize, read_molecules
from discovery.errors import InputError
from discovery.molprop import predict as predict_fn
from discovery.molprop.bundle import load_bundle, save_bundle
from discovery.molprop.models import build_model

INVALID = {5: "C1CC", 17: "not_a_smiles", 18: "", 40: "c1ccccc1(", 41: "F(F)(F)(F)(F)F"}
N_ROWS = 150
BATCH = 16


def _pm():
    return sys.modules["discovery.molprop.predict"]


@pytest.fixture(scope="module")
def library(tmp_path_factory, request):
    """ESOL's first rows with invalid SMILES at known positions (file rows = index + 2)."""
    from discovery.data import fetch

    esol = pd.read_csv(fetch("esol")[0])
    smiles = esol["smiles"].astype(str).tolist()[:N_ROWS]
    for i, s in INVALID.items():
        smiles[i] = s
    path = tmp_path_factory.mktemp("lib") / "lib.csv"
    pd.DataFrame({"id": range(N_ROWS), "smiles": smiles}).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    meta = {
        "task_type": "regression",
        "target_cols": ["a", "b"],
        "smiles_col": "smiles",
        "featurizer": {"name": "discovery.chem", "version": FEATURIZER_VERSION, "atom_fdim": 72, "bond_fdim": 14},
        "calibration": {"method": "ensemble", "scale": [1.5, 0.5], "mc_samples": 0, "mc_p": 0.1},
        "member_seeds": [0, 1],
    }
    members = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        m = build_model({"model": "dmpnn", "hidden": 32, "ffn_hidden": 16, "n_tasks": 2, "dropout": 0.1})
        m.scaler.fit(np.array([[1.0, 100.0], [3.0, 300.0], [2.0, 250.0]]))
        members.append(m.eval())
    folder = tmp_path_factory.mktemp("model") / "model"
    save_bundle(folder, members, meta)
    return folder


@pytest.fixture(scope="module")
def valid(library):
    """The valid molecules of the library, read in one piece (reference for the streamed results)."""
    return read_molecules(library, "smiles")


def _reference(predictor, valid, **kw):
    return predictor.predict_graphs(featurize(valid.mols), batch_size=BATCH, **kw)


@pytest.mark.parametrize("chunksize", [1, 7, BATCH, 50, 10_000])
def test_streamed_file_equals_in_memory_prediction(tmp_path, library, bundle, valid, chunksize):
    predictor = load_bundle(bundle)
    out = tmp_path / "preds.csv"
    summary = predict_fn(predictor, str(library), out=out, chunksize=chunksize, batch_size=BATCH,
                         smiles_col="smiles", progress=False)
    assert summary.n_predicted == N_ROWS - len(INVALID) and summary.n_invalid == len(INVALID)
    df = pd.read_csv(out, keep_default_na=False, na_values=[""])
    assert list(df.columns) == ["smiles", "row", "a_pred", "a_std", "b_pred", "b_std"]
    assert df["row"].tolist() == [i + 2 for i in range(N_ROWS) if i not in INVALID]
    assert df["smiles"].tolist() == valid.smiles
    ref = _reference(predictor, valid)
    # bit for bit: CSV floats are written with 17 significant digits
    np.testing.assert_array_equal(df[["a_pred", "b_pred"]].to_numpy(), ref.mean)
    np.testing.assert_array_equal(df[["a_std", "b_std"]].to_numpy(), ref.std)
    assert ref.calibrated and summary.uncertainty == "ensemble" and summary.calibrated
    inv = pd.read_csv(tmp_path / "preds.invalid.csv", keep_default_na=False)
    assert inv["row"].tolist() == [i + 2 for i in sorted(INVALID)]
    assert inv["smiles"].tolist() == [INVALID[i] for i in sorted(INVALID)]
    assert (inv["reason"] != "").all()
    assert not list(tmp_path.glob("*partial*")) and sorted(p.name for p in tmp_path.iterdir()) == [
        "preds.csv", "preds.invalid.csv"]


def test_chunk_size_does_not_change_the_file(tmp_path, library, bundle):
    texts = []
    for cs in (3, 10_000):
        out = tmp_path / f"p{cs}.csv"
        predict_fn(bundle, str(library), out=out, chunksize=cs, batch_size=BATCH, progress=False)
        texts.append(out.read_bytes())
    assert texts[0] == texts[1]


def test_same_as_chunkwise_prediction(library, bundle):
    """Regression check against the former implementation (whole chunks through ``predict_graphs``):
    when the chunk size is a multiple of the batch size both see the same batches, so the
    numbers must be identical."""
    from discovery.chem import iter_molecules

    predictor = load_bundle(bundle)
    old = [predictor.predict_graphs(featurize(c.mols), batch_size=BATCH).mean
           for c in iter_molecules(library, "smiles", [], chunksize=4 * BATCH) if len(c)]
    df = predict_fn(predictor, str(library), chunksize=4 * BATCH, batch_size=BATCH)
    np.testing.assert_array_equal(df[["a_pred", "b_pred"]].to_numpy(), np.concatenate(old))


def test_mc_dropout_streamed_equals_one_call(library, bundle, valid):
    predictor = load_bundle(bundle)
    ref = _reference(predictor, valid, mc_samples=3)
    for cs in (5, 10_000):
        df = predict_fn(predictor, str(library), chunksize=cs, batch_size=BATCH, mc_dropout=3)
        assert df.attrs["uncertainty"] == "mc_dropout"
        np.testing.assert_array_equal(df[["a_pred", "b_pred"]].to_numpy(), ref.mean)
        np.testing.assert_array_equal(df[["a_std", "b_std"]].to_numpy(), ref.std)
    # the dropout masks really are random: another seed gives other numbers
    other = predictor.predict_graphs(featurize(valid.mols), batch_size=BATCH, mc_samples=3, seed=1)
    assert not np.array_equal(other.mean, ref.mean)


def test_prediction_stream_pieces(bundle, valid):
    predictor = load_bundle(bundle)
    g = featurize(valid.mols)
    whole = predictor.predict_graphs(g, batch_size=BATCH, mc_samples=2)
    stream = predictor.stream(batch_size=BATCH, mc_samples=2)
    cuts = [0, BATCH, 4 * BATCH, 5 * BATCH, len(g)]
    parts = [stream(g.subset(np.arange(a, b))) for a, b in zip(cuts[:-1], cuts[1:])]
    np.testing.assert_array_equal(np.concatenate([p.samples for p in parts], axis=1), whole.samples)
    np.testing.assert_array_equal(np.concatenate([p.mean for p in parts]), whole.mean)


def test_memory_holds_about_one_batch(monkeypatch, library, bundle):
    """The reader is asked for small chunks and the model sees one batch of graphs at a time;
    results come out while the input is still being read (nothing accumulates)."""
    pm = _pm()
    predictor = load_bundle(bundle)
    read_sizes, batch_sizes, events = [], [], []
    real_chunks, real_featurize = pm._chunks, featurize

    def chunks(data, smiles_col, chunksize, on_error, standardize=False):
        read_sizes.append(chunksize)
        for c in real_chunks(data, smiles_col, chunksize, on_error, standardize):
            events.append("read")
            yield c

    def feat(mols):
        batch_sizes.append(len(mols))
        return real_featurize(mols)

    import discovery.chem as chem

    monkeypatch.setattr(pm, "_chunks", chunks)
    monkeypatch.setattr(chem, "featurize", feat)
    for chunk, pred, inv in pm.iter_prediction_chunks(predictor, str(library), chunksize=10_000, batch_size=BATCH):
        events.append("out")
        assert pred is None or len(pred.mean) == len(chunk)
    assert read_sizes == [BATCH]
    assert all(b == BATCH for b in batch_sizes[:-1]) and 0 < batch_sizes[-1] <= BATCH
    assert sum(batch_sizes) == N_ROWS - len(INVALID)
    # output interleaves with reading: at most two chunks read ahead of the last one written
    first_out = events.index("out")
    assert events[:first_out].count("read") <= 2
    reads_before_last_out = len(events) - 1 - events[::-1].index("out")
    assert events.count("read") - events[:reads_before_last_out].count("read") <= 2


def test_on_error_raise_leaves_no_file(tmp_path, library, bundle):
    out = tmp_path / "preds.csv"
    with pytest.raises(InputError) as err:
        predict_fn(bundle, str(library), out=out, on_error="raise", batch_size=BATCH, progress=False)
    assert err.value.row == 7  # index 5 -> file row 7
    assert list(tmp_path.iterdir()) == []


def test_table_and_smiles_list_inputs_agree(library, bundle, valid):
    predictor = load_bundle(bundle)
    from_table = predict_fn(predictor, valid, batch_size=BATCH)
    from_list = predict_fn(predictor, valid.smiles, batch_size=BATCH)
    np.testing.assert_array_equal(from_table["a_pred"].to_numpy(), from_list["a_pred"].to_numpy())
    np.testing.assert_array_equal(from_table["b_std"].to_numpy(), from_list["b_std"].to_numpy())


def test_bad_batch_size(library, bundle):
    from discovery.errors import ConfigError

    with pytest.raises(ConfigError):
        predict_fn(bundle, str(library), batch_size=0)


def test_predict_path_does_not_import_torch_geometric(tmp_path, library, bundle):
    """torch_geometric costs ~160 MB and 2 s; streaming prediction must not load it."""
    code = (
        "import sys\n"
        "from discovery.molprop import predict\n"
        f"predict({str(bundle)!r}, {str(library)!r}, out={str(tmp_path / 'p.csv')!r}, progress=False)\n"
        "assert 'torch_geometric' not in sys.modules, 'torch_geometric was imported'\n"
        "from discovery.chem.graphs import MolData\n"
        "assert 'torch_geometric' in sys.modules\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert (tmp_path / "p.csv").exists()
