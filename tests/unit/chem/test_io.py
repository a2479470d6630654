"""Reading molecule files: formats, row numbers, invalid records, bad input."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rdkit import Chem

from discovery.chem.io import MoleculeTable, detect_smiles_column, iter_molecules, parse_smiles, read_molecules
from discovery.errors import AllRowsInvalidError, InputError

CSV = (
    "id,SMILES,logS,assay\n"  # row 1
    "a,CCO,1.5,x\n"  # row 2
    "b,C1CC,2,y\n"  # row 3: unclosed ring
    "\n"  # row 4: blank line (not a record)
    "c,,3,z\n"  # row 5: empty SMILES
    "d,c1ccccc1,,w\n"  # row 6: blank target -> NaN
    "e,N(C)(C)(C)(C)C,NA,v\n"  # row 7: valence error
    "f,CC(=O)[O-].[Na+],-0.25,u\n"  # row 8
)


def write(path: Path, text: str, gz: bool = False) -> Path:
    if gz:
        path = path.with_name(path.name + ".gz")
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    return path


def gzip_copy(path: Path) -> Path:
    out = path.with_name(path.name + ".gz")
    with open(path, "rb") as src, gzip.open(out, "wb") as dst:
        shutil.copyfileobj(src, dst)
    return out


# --------------------------------------------------------------------------- CSV
@pytest.mark.parametrize("gz", [False, True])
def test_csv_rows_targets_and_invalid_report(tmp_path, gz):
    path = write(tmp_path / "m.csv", CSV, gz)
    t = read_molecules(path, target_cols=["logS"])
    assert isinstance(t, MoleculeTable)
    assert t.smiles_col == "SMILES" and t.target_cols == ["logS"]
    assert t.smiles == ["CCO", "c1ccccc1", "CC(=O)[O-].[Na+]"]
    assert t.rows.dtype == np.int64 and t.rows.tolist() == [2, 6, 8]
    assert t.targets.dtype == np.float64 and t.targets.shape == (3, 1)
    np.testing.assert_array_equal(t.targets[:, 0], [1.5, np.nan, -0.25])
    assert all(m.GetNumAtoms() > 0 for m in t.mols)
    assert list(t.extra.columns) == ["id", "assay"] and t.extra["id"].tolist() == ["a", "d", "f"]
    inv = t.invalid
    assert list(inv.columns) == ["row", "smiles", "reason"]
    assert inv["row"].tolist() == [3, 5, 7]
    assert inv["smiles"].tolist() == ["C1CC", "", "N(C)(C)(C)(C)C"]
    assert inv["reason"].tolist()[0] == "SMILES Parse Error: unclosed ring for input: 'C1CC'"
    assert inv["reason"].tolist()[1] == "empty SMILES"
    assert inv["reason"].tolist()[2] == "Explicit valence for atom # 0 N, 5, is greater than permitted"
    assert len(t) == 3 and t.n_invalid == 3


def test_to_frame_and_write_invalid(tmp_path):
    t = read_molecules(write(tmp_path / "m.csv", CSV), target_cols=["logS"])
    df = t.to_frame()
    assert list(df.columns) == ["row", "SMILES", "id", "assay", "logS"]
    assert df["row"].tolist() == [2, 6, 8]
    out = tmp_path / "out" / "invalid_rows.csv"
    t.write_invalid(out)
    back = pd.read_csv(out, keep_default_na=False)
    assert list(back.columns) == ["row", "smiles", "reason"]
    assert back["row"].tolist() == [3, 5, 7]
    assert back["reason"][2] == "Explicit valence for atom # 0 N, 5, is greater than permitted"


def test_parse_error_reason_is_rdkit_text():
    mol, reason = parse_smiles("CC(C")
    assert mol is None
    assert reason.startswith("SMILES Parse Error: extra open parentheses while parsing: CC(C")
    assert "[" not in reason.split(":")[0]  # timestamps removed
    assert parse_smiles("  ") == (None, "empty SMILES")
    m, r = parse_smiles(" CCO ")
    assert r is None and m.GetNumAtoms() == 3


@pytest.mark.parametrize("gz", [False, True])
def test_tsv(tmp_path, gz):
    path = write(tmp_path / "m.tsv", "name\tsmiles\ty\nx\tCCN\t1\ny\tbad(\t2\nz\tO\t\n", gz)
    t = read_molecules(path, target_cols="y")
    assert t.smiles == ["CCN", "O"] and t.rows.tolist() == [2, 4]
    assert t.invalid["row"].tolist() == [3] and "bad(" in t.invalid["reason"][0]
    assert np.isnan(t.targets[1, 0])


# --------------------------------------------------------------------------- SMI
@pytest.mark.parametrize("suffix", [".smi", ".txt"])
@pytest.mark.parametrize("gz", [False, True])
def test_smi_without_header(tmp_path, suffix, gz):
    text = "CCO ethanol\n\nc1ccccc1 benzene ring\nC1CC broken\nCC\n"
    t = read_molecules(write(tmp_path / f"m{suffix}", text, gz))
    assert t.smiles == ["CCO", "c1ccccc1", "CC"]
    assert t.rows.tolist() == [1, 3, 5]  # no header: the first line is row 1
    assert t.extra["name"].tolist() == ["ethanol", "benzene ring", ""]
    assert t.invalid["row"].tolist() == [4]


def test_smi_with_header(tmp_path):
    text = "SMILES id pIC50\nCCO m1 5.5\n# a comment\nC1CC m2 6\nc1ccncc1 m3 7.25\n"
    t = read_molecules(write(tmp_path / "m.smi", text), target_cols=["pIC50"])
    assert t.smiles_col == "SMILES"
    assert t.smiles == ["CCO", "c1ccncc1"] and t.rows.tolist() == [2, 5]
    assert t.targets[:, 0].tolist() == [5.5, 7.25]
    assert t.invalid["row"].tolist() == [4]


# --------------------------------------------------------------------------- SDF
def make_sdf(path: Path) -> Path:
    good1 = Chem.MolFromSmiles("CCO")
    good1.SetProp("_Name", "ethanol")
    good1.SetProp("logS", "1.25")
    bad = Chem.MolFromSmiles("CC(C)(C)(C)C", sanitize=False)
    bad.UpdatePropertyCache(strict=False)
    good2 = Chem.MolFromSmiles("c1ccccc1O")
    good2.SetProp("_Name", "phenol")
    good2.SetProp("logS", "")
    blocks = [
        Chem.MolToMolBlock(good1) + "> <logS>\n1.25\n\n$$$$\n",
        Chem.MolToMolBlock(bad, kekulize=False) + "> <logS>\n3\n\n$$$$\n",
        Chem.MolToMolBlock(good2) + "> <logS>\n\n\n$$$$\n",
    ]
    path.write_text("".join(blocks))
    return path


@pytest.mark.parametrize("gz", [False, True])
def test_sdf(tmp_path, gz):
    path = make_sdf(tmp_path / "m.sdf")
    if gz:
        path = gzip_copy(path)
    t = read_molecules(path, target_cols=["logS"])
    assert t.rows.tolist() == [1, 3]  # SD files: 1-based record index
    assert t.smiles == ["CCO", "Oc1ccccc1"]
    assert t.extra["title"].tolist() == ["ethanol", "phenol"]
    assert t.targets[0, 0] == 1.25 and np.isnan(t.targets[1, 0])
    assert t.invalid["row"].tolist() == [2]
    assert t.invalid["reason"][0] == (
        "Explicit valence for atom # 1 C, 5, is greater than permitted | Could not sanitize molecule ending on line 30"
    )


# --------------------------------------------------------------------------- bad input
def test_missing_and_empty_files(tmp_path):
    with pytest.raises(InputError, match="file not found") as e:
        read_molecules(tmp_path / "nope.csv")
    assert e.value.file.endswith("nope.csv") and e.value.exit_code == 2
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(InputError, match="empty"):
        read_molecules(tmp_path / "empty.csv")
    (tmp_path / "header.csv").write_text("smiles,y\n")
    with pytest.raises(InputError, match="header but no data rows") as e:
        read_molecules(tmp_path / "header.csv")
    assert "header.csv" in str(e.value)
    (tmp_path / "blank.csv").write_text("smiles,y\n\n\n")
    with pytest.raises(InputError, match="no data rows"):
        read_molecules(tmp_path / "blank.csv")
    (tmp_path / "x.xlsx").write_text("a")
    with pytest.raises(InputError, match="unknown file type"):
        read_molecules(tmp_path / "x.xlsx")


def test_missing_smiles_column_lists_columns_and_suggests(tmp_path):
    path = write(tmp_path / "m.csv", CSV)
    with pytest.raises(InputError) as e:
        read_molecules(path, smiles_col="smile")
    msg = str(e.value)
    assert "m.csv" in msg and "column 'smile'" in msg
    assert "['id', 'SMILES', 'logS', 'assay']" in msg and "did you mean 'SMILES'" in msg
    assert e.value.column == "smile"


def test_missing_target_column(tmp_path):
    with pytest.raises(InputError) as e:
        read_molecules(write(tmp_path / "m.csv", CSV), target_cols=["logs_"])
    assert e.value.column == "logs_" and "did you mean 'logS'" in str(e.value)


def test_non_numeric_target_names_row_column_value(tmp_path):
    text = "smiles,y\nCCO,1\nCCN,\nCCC,abc\nCCCC,2x\n"
    with pytest.raises(InputError) as e:
        read_molecules(write(tmp_path / "m.csv", text), target_cols=["y"])
    err = e.value
    assert (err.row, err.column, err.value) == (4, "y", "abc")
    assert "row 4" in str(err) and "'abc'" in str(err) and "2 such values" in str(err)


def test_all_rows_invalid(tmp_path):
    text = "smiles\nC1CC\nXx\n\nCC(\n"
    with pytest.raises(AllRowsInvalidError) as e:
        read_molecules(write(tmp_path / "m.csv", text))
    msg = str(e.value)
    assert "all 3 records are invalid" in msg
    assert "row 2: SMILES Parse Error: unclosed ring" in msg and "row 5:" in msg
    assert isinstance(e.value, InputError) and e.value.exit_code == 2


def test_on_error_raise_stops_at_first_invalid(tmp_path):
    with pytest.raises(InputError) as e:
        read_molecules(write(tmp_path / "m.csv", CSV), on_error="raise")
    err = e.value
    assert (err.row, err.column, err.value) == (3, "SMILES", "C1CC")
    assert "unclosed ring" in str(err)
    with pytest.raises(InputError, match="on_error"):
        read_molecules(write(tmp_path / "m.csv", CSV), on_error="ignore")


def test_invalid_never_becomes_empty_graph(tmp_path):
    from discovery.chem.featurize import featurize

    t = read_molecules(write(tmp_path / "m.csv", CSV))
    g = featurize(t.mols)
    assert len(g) == len(t) == 3 and int(g.num_atoms.min()) > 0


# --------------------------------------------------------------------------- detection
def test_detect_smiles_column():
    assert detect_smiles_column(["ID", "Canonical_SMILES"], {}) == "Canonical_SMILES"
    assert detect_smiles_column(["Drug", "Y"], {}) == "Drug"
    sample = {"cid": ["CHEMBL1", "CHEMBL2", "CHEMBL3"], "structure_txt": ["CCO", "c1ccccc1", "CC(=O)O"], "v": ["1", "2", "3"]}
    assert detect_smiles_column(["cid", "structure_txt", "v"], sample) == "structure_txt"
    rows = [["x1", "CCO"], ["x2", "CCN"]]
    assert detect_smiles_column(["name", "s"], rows) == "s"
    with pytest.raises(InputError, match="no SMILES column"):
        detect_smiles_column(["a", "b"], {"a": ["1", "2"], "b": ["hello world", "foo bar"]})


def test_detection_in_file(tmp_path):
    path = write(tmp_path / "m.csv", "compound,structure_txt,act\nm1,CCO,1\nm2,CCCl,2\n")
    t = read_molecules(path, require_targets=True)
    assert t.smiles_col == "structure_txt" and t.target_cols == ["act"]


def test_require_targets_uses_numeric_columns_and_reports_rows_without_targets(tmp_path):
    text = "smiles,name,a,b\nCCO,x,1,\nCCN,y,,\nCCC,z,,2.5\n"
    t = read_molecules(write(tmp_path / "m.csv", text), require_targets=True)
    assert t.target_cols == ["a", "b"]
    assert t.rows.tolist() == [2, 4]
    assert t.invalid["row"].tolist() == [3] and t.invalid["reason"][0] == "no target value"
    with pytest.raises(InputError, match="no numeric target column"):
        read_molecules(write(tmp_path / "n.csv", "smiles,name\nCCO,x\n"), require_targets=True)


# --------------------------------------------------------------------------- streaming
def test_streaming_row_numbers_continue_across_chunks(tmp_path):
    lines = ["smiles,y"]
    for i in range(10):
        lines.append("C1CC,0" if i in (3, 7) else f"{'C' * (i + 1)},{i}")
    path = write(tmp_path / "m.csv", "\n".join(lines) + "\n")
    chunks = list(iter_molecules(path, target_cols=["y"], chunksize=4))
    assert [len(c) + c.n_invalid for c in chunks] == [4, 4, 2]
    assert chunks[0].rows.tolist() == [2, 3, 4] and chunks[0].invalid["row"].tolist() == [5]
    assert chunks[1].rows.tolist() == [6, 7, 8] and chunks[1].invalid["row"].tolist() == [9]
    assert chunks[2].rows.tolist() == [10, 11]
    whole = read_molecules(path, target_cols=["y"])
    joined = MoleculeTable.concat(chunks)
    assert joined.rows.tolist() == whole.rows.tolist() and joined.smiles == whole.smiles
    np.testing.assert_array_equal(joined.targets, whole.targets)
    assert joined.invalid["row"].tolist() == whole.invalid["row"].tolist() == [5, 9]


def test_streaming_smi_and_sdf(tmp_path):
    smi = write(tmp_path / "m.smi", "".join(f"{'C' * (i + 1)} m{i}\n" for i in range(7)))
    rows = [c.rows.tolist() for c in iter_molecules(smi, chunksize=3)]
    assert rows == [[1, 2, 3], [4, 5, 6], [7]]
    sdf = make_sdf(tmp_path / "m.sdf")
    chunks = list(iter_molecules(sdf, chunksize=2))
    assert [c.rows.tolist() for c in chunks] == [[1], [3]]
    assert [c.invalid["row"].tolist() for c in chunks] == [[2], []]


def test_streaming_all_invalid_raises_at_end(tmp_path):
    path = write(tmp_path / "m.csv", "smiles\nC1CC\nXx\nCC(\n")
    it = iter_molecules(path, chunksize=2)
    first = next(it)
    assert len(first) == 0 and first.n_invalid == 2
    with pytest.raises(AllRowsInvalidError, match="all 3 records"):
        list(it)


# --------------------------------------------------------------------------- standardize / real data
def test_read_with_standardize(tmp_path):
    t = read_molecules(write(tmp_path / "m.csv", CSV), standardize=True)
    assert t.smiles == ["CCO", "c1ccccc1", "CC(=O)O"]  # sodium stripped, acetate neutralized
    assert Chem.MolToSmiles(t.mols[2]) == "CC(=O)O"


def test_esol_through_registry(esol_table):
    assert len(esol_table) == 1128 and esol_table.n_invalid == 0
    assert esol_table.rows[0] == 2 and esol_table.rows[-1] == 1129
    assert esol_table.targets.shape == (1128, 1) and not np.isnan(esol_table.targets).any()
