"""load() and resolve() on the real registered files and on user files."""

from __future__ import annotations

import csv
import gzip
import io
import math
import os
from pathlib import Path

import pandas as pd
import pytest

from discovery import data
from discovery.errors import DatasetNotFoundError, InputError

MIRROR = Path(os.environ["DISCOVERY_DATA_MIRROR"])


def raw_rows(relpath: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows read with the csv module, independently of the loader."""
    raw = (MIRROR / relpath).read_bytes()
    if relpath.endswith(".gz"):
        raw = gzip.decompress(raw)
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"))))
    return rows[0], rows[1:]


def test_load_esol():
    df = data.load("ESOL")
    assert df.shape == (1128, 2)
    assert list(df.columns) == ["smiles", "logp"]
    assert df["logp"].dtype == "float64"
    assert pd.api.types.is_string_dtype(df["smiles"])
    assert all(isinstance(s, str) for s in df["smiles"])
    _, rows = raw_rows("molecules/delaney.csv")
    assert df["smiles"].tolist() == [r[0] for r in rows]
    assert math.isclose(df["logp"].sum(), sum(float(r[1]) for r in rows), abs_tol=1e-9)
    assert df.attrs["dataset"] == "esol" and df.attrs["target_columns"] == ["logp"]


def test_load_tox21_blanks_become_nan():
    df = data.load("tox21")
    header, rows = raw_rows("molecules/tox21.csv")
    blanks = sum(cell == "" for r in rows for cell in r[1:])
    assert blanks == 16026
    assert int(df[list(data.get("tox21").target_columns)].isna().sum().sum()) == blanks
    assert df["smiles"].isna().sum() == 0


def test_load_hiv_gz_and_bace_mol_column():
    hiv = data.load("hiv")
    assert len(hiv) == 41127 and hiv["HIV_active"].dtype == "float64"
    assert set(hiv["HIV_active"].unique()) == {0.0, 1.0}
    bace = data.load("BACE")
    assert list(bace.columns) == ["mol", "Class"] and bace.attrs["smiles_column"] == "mol"


@pytest.mark.parametrize("name", sorted(d.name for d in data.datasets() if d.category == "molecules"))
def test_every_dataset_loads_with_recorded_shape(name):
    info = data.get(name)
    df = data.load(name)
    assert len(df) == info.n_rows
    for col in info.target_columns:
        assert df[col].dtype == "float64", col
    assert df[info.smiles_column].str.len().min() > 0


def test_resolve_name_and_path(tmp_path):
    path, info = data.resolve("Delaney")
    assert info is data.get("esol") and path.name == "delaney.csv" and path.is_file()
    own = tmp_path / "mine.csv"
    own.write_text("smiles,y\nCCO,1\n")
    assert data.resolve(str(own)) == (own, None)
    assert data.resolve(own) == (own, None)


def test_resolve_unknown_suggests_and_names_missing_path():
    with pytest.raises(DatasetNotFoundError) as exc:
        data.resolve("esoll")
    msg = str(exc.value)
    assert "esol" in msg and "no file exists at" in msg and str(Path("esoll").resolve()) in msg
    with pytest.raises(DatasetNotFoundError, match="lipophilicity"):
        data.resolve("lipophilicty")
    with pytest.raises(DatasetNotFoundError, match="no file exists"):
        data.resolve("missing/dir/file.csv")


def test_registered_name_wins_over_bare_word_file_but_paths_win_when_path_like(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("esol").write_text("not a dataset")
    assert data.resolve("esol")[1] is not None  # bare word: the registry
    assert data.resolve("./esol") == (Path("./esol"), None)  # path-like: the file


def test_load_user_csv_types_and_missing_tokens(tmp_path):
    f = tmp_path / "mine.csv"
    f.write_text("smiles,y,note\nCCO,1.5,a\nNA,,b\nN,NA,c\nc1ccccc1,nan,\n")
    df = data.load(f, smiles_column="smiles", target_columns=["y"])
    assert df["smiles"].tolist() == ["CCO", "NA", "N", "c1ccccc1"]  # SMILES kept verbatim
    assert df["y"].iloc[0] == 1.5 and df["y"].isna().tolist() == [False, True, True, True]
    assert df["note"].tolist() == ["a", "b", "c", ""]


def test_load_tsv_and_gz(tmp_path):
    f = tmp_path / "mine.tsv.gz"
    f.write_bytes(gzip.compress(b"smiles\tp\nCCO\t0.5\n"))
    df = data.load(f, smiles_column="smiles", target_columns=["p"])
    assert df["p"].tolist() == [0.5]


def test_non_numeric_target_names_file_row_column_value(tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("smiles,y\nCCO,1\nCCC,abc\nCCN,x\n")
    with pytest.raises(InputError) as exc:
        data.load(f, target_columns=["y"])
    err = exc.value
    assert (err.file, err.row, err.column, err.value) == (str(f), 3, "y", "abc")
    assert "1 more" in str(err)


def test_missing_column_lists_columns(tmp_path):
    f = tmp_path / "c.csv"
    f.write_text("smiles,y\nCCO,1\n")
    with pytest.raises(InputError, match="columns are: smiles, y") as exc:
        data.load(f, smiles_column="SMILES")
    assert exc.value.column == "SMILES"


def test_load_specific_file_of_dataset():
    df = data.load("esol", file="delaney.csv")
    assert len(df) == 1128
    with pytest.raises(DatasetNotFoundError, match="no file 'x.csv'"):
        data.load("esol", file="x.csv")
