"""Execute every notebook (``notebooks/NN_*.py``, jupytext percent) with its CI parameters.

Each notebook is converted with jupytext, run top to bottom by papermill in a
fresh kernel with ``profile="ci"`` and ``out_dir`` in a temporary folder, and
must end by writing a results folder the report can read (at least one
``manifest.json`` under ``out_dir``); notebook-specific outputs are checked in
:data:`EXPECTED`. A cell that raises fails the test with the cell's traceback.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.py"))

#: files (relative to out_dir) each notebook must write, beyond a manifest.json somewhere
EXPECTED = {
    "01_molecular_property_prediction": ["seed0/metrics.json", "seed1/manifest.json", "library_predictions.csv",
                                         "report.html"],
}


def test_every_capability_notebook_is_collected():
    """The harness sees the notebooks (an empty glob must not pass as green)."""
    assert any(p.stem.startswith("01_") for p in NOTEBOOKS), NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_has_parameters_cell_and_uses_public_api(path: Path):
    jupytext = pytest.importorskip("jupytext")
    nb = jupytext.read(path)
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: exactly one cell tagged 'parameters'"
    src = tagged[0].source
    assert "profile" in src and "out_dir" in src, src
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    # notebooks use the public API only: no private module or name of the package
    private = re.findall(r"discovery(?:\.\w+)*\._\w+|from discovery[\w.]* import [^\n]*\b_\w+", code)
    assert not private, f"{path.name} uses private names: {private}"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes_with_ci_parameters(path: Path, tmp_path: Path):
    jupytext = pytest.importorskip("jupytext")
    papermill = pytest.importorskip("papermill")
    src = tmp_path / f"{path.stem}.ipynb"
    jupytext.write(jupytext.read(path), src)
    out_dir = tmp_path / "out"
    executed = tmp_path / f"{path.stem}.executed.ipynb"
    papermill.execute_notebook(
        str(src), str(executed), parameters={"profile": "ci", "out_dir": str(out_dir)},
        kernel_name="python3", cwd=str(REPO), progress_bar=False, request_save_on_cell_execute=False,
    )
    nb = json.loads(executed.read_text())
    errors = [o for c in nb["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, errors
    manifests = list(out_dir.rglob("manifest.json"))
    assert manifests, f"{path.name} wrote no result folder under out_dir"
    for m in manifests:
        assert json.loads(m.read_text()).get("kind"), m
    for rel in EXPECTED.get(path.stem, []):
        assert (out_dir / rel).is_file(), f"{path.name} did not write {rel}"
    # plots are inline: at least one image output
    images = [o for c in nb["cells"] for o in c.get("outputs", []) if "image/png" in o.get("data", {})
              or "image/svg+xml" in o.get("data", {})]
    assert images, f"{path.name} shows no plot"
