"""Report building blocks: formatting, plots, molecules, result discovery, section registry, CLI."""

from __future__ import annotations

import argparse
import json
import re

import numpy as np
import pytest

from discovery.errors import InputError
from discovery.reports import html as H
from discovery.reports import plots
from discovery.reports.molecules import max_train_similarity, mol_svg
from discovery.reports.registry import SECTION_BUILDERS, ReportOptions, Section, SummaryItem, register_section
from discovery.reports.results import discover_results


# ---------------------------------------------------------------- formatting
def test_number_formatting():
    assert H.fmt_num(0.61234) == "0.612"
    assert H.fmt_num(12.3456) == "12.35"
    assert H.fmt_num(1234.56) == "1234.6"
    assert H.fmt_num(7) == "7"
    for missing in (None, float("nan"), float("inf"), "x", True):
        assert H.fmt_num(missing) == H.NOT_REPORTED
    assert H.fmt_mean_sd([0.6, 0.65, 0.7]) == "0.650 ± 0.050"
    assert H.fmt_mean_sd([0.6]) == "0.600"
    assert H.fmt_mean_sd([None, float("nan")]) == H.NOT_REPORTED
    assert H.fmt_mean_sd([0.6, None, 0.7], show_n=True) == "0.650 ± 0.071 (n=2)"


def test_table_escapes_text():
    t = H.table(["a<b"], [["<script>x</script>"]])
    assert "<script>" not in t and "&lt;script&gt;" in t and "a&lt;b" in t


# ---------------------------------------------------------------- plots
def test_coverage_curve_matches_definition():
    rng = np.random.default_rng(0)
    y = rng.normal(size=4000)
    levels, obs = plots.coverage_curve(y, np.zeros_like(y), np.ones_like(y), np.array([0.5, 0.9]))
    # a standard normal error with sd = 1 is calibrated: coverage ≈ level
    assert np.allclose(obs, [0.5, 0.9], atol=0.02)
    _, over = plots.coverage_curve(y, np.zeros_like(y), np.full_like(y, 0.5), np.array([0.9]))
    assert over[0] < 0.65  # sd too small -> over-confident
    _, none = plots.coverage_curve([1.0], [np.nan], [1.0])
    assert np.isnan(none).all()


def test_roc_points():
    fpr, tpr = plots.roc_points(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    auc = np.trapezoid(tpr, fpr)
    assert auc == pytest.approx(0.75)
    assert fpr[0] == 0 and tpr[-1] == 1


def test_svg_inline_prefixes_ids_and_strips_prolog():
    y = np.linspace(0, 1, 20)
    a = plots.parity_svg([("seed 0", y, y + 0.1, np.full(20, 0.05))])
    b = plots.parity_svg([("seed 0", y, y + 0.1, np.full(20, 0.05))])
    for svg in (a, b):
        assert svg.startswith("<svg") and "<?xml" not in svg and "DOCTYPE" not in svg and "<metadata" not in svg
        assert "http://" not in re.sub(r'xmlns(:\w+)?="[^"]+"', "", svg)
    ids_a = set(re.findall(r'\bid="([^"]+)"', a))
    ids_b = set(re.findall(r'\bid="([^"]+)"', b))
    assert ids_a and not ids_a & ids_b  # two figures never share an id
    for ref in re.findall(r"url\(#([^)]+)\)", a) + re.findall(r'href="#([^"]+)"', a):
        assert ref in ids_a
    # same data, same drawing apart from the id prefix (fixed hash salt, no date)
    strip = lambda s: re.sub(r"f\d+-", "", s)  # noqa: E731
    assert strip(a) == strip(b)


def test_calibration_roc_reliability_render():
    rng = np.random.default_rng(1)
    e, o = plots.coverage_curve(rng.normal(size=50), np.zeros(50), np.ones(50))
    assert "<svg" in plots.calibration_svg([("seed 0", e, o, "-"), ("seed 0 (before calibration)", e, o * 0.8, "--")])
    y = rng.integers(0, 2, 60)
    p = np.clip(y * 0.6 + rng.uniform(0, 0.4, 60), 0, 1)
    assert "<svg" in plots.roc_svg([("seed 0", y, p)])
    assert "<svg" in plots.reliability_svg([("seed 0", y, p)])


# ---------------------------------------------------------------- molecules
def test_mol_svg():
    svg = mol_svg("c1ccccc1O")
    assert svg.startswith("<svg") and 'class="mol"' in svg and "<title>c1ccccc1O</title>" in svg
    assert "<?xml" not in svg
    assert mol_svg("C1CC(") is None


def test_max_train_similarity():
    sims = max_train_similarity(["CCO", "c1ccccc1", "not a smiles"], ["CCO", "CCCCCCCC"])
    assert sims[0] == pytest.approx(1.0)
    assert sims[1] < 0.3  # benzene vs ethanol/octane: outside any sensible domain
    assert np.isnan(sims[2])
    assert np.isnan(max_train_similarity(["CCO"], [])).all()
    # against RDKit directly
    from rdkit import Chem, DataStructs
    from rdkit.Chem import rdFingerprintGenerator

    g = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    fp = lambda s: g.GetFingerprint(Chem.MolFromSmiles(s))  # noqa: E731
    want = max(DataStructs.TanimotoSimilarity(fp("c1ccccc1O"), fp(t)) for t in ("c1ccccc1", "CCO"))
    assert max_train_similarity(["c1ccccc1O"], ["c1ccccc1", "CCO"])[0] == pytest.approx(want)


# ---------------------------------------------------------------- result folders
def test_discover_results_walks_and_skips_partial(runs_root, tmp_path):
    found = discover_results([runs_root])
    assert sorted(r.label for r in found) == ["bbbp-s0", "esol-s0", "esol-s1", "esol-s2"]
    # explicit folder + parent: each folder once
    assert len(discover_results([runs_root, runs_root / "esol-s0"])) == 4
    import shutil

    shutil.copytree(runs_root / "esol-s0", tmp_path / "esol-s9.partial-123")
    shutil.copytree(runs_root / "esol-s0", tmp_path / "ok")
    assert [r.label for r in discover_results([tmp_path])] == ["ok"]
    with pytest.raises(InputError, match="not a folder"):
        discover_results([runs_root / "esol-s0" / "metrics.json"])


def test_group_key_ignores_seed_and_output(runs_root):
    from discovery.reports.results import load_result

    a, b = load_result(runs_root / "esol-s0"), load_result(runs_root / "esol-s1")
    assert a.model_key == b.model_key and a.config_hash != b.config_hash
    assert a.dataset == "ESOL" and a.seed == 0 and a.kind == "molprop.train"


# ---------------------------------------------------------------- section registry
def test_register_section_plugs_in_new_kind(tmp_path, runs_root):
    from discovery.provenance import build_manifest, write_manifest
    from discovery.reports.build import build_report

    kind = "test.cohort"
    seen = {}

    @register_section(kind)
    def cohort_section(results, options):
        seen["n"] = len(results)
        seen["options"] = options
        return Section(id="cohort", title="Cohort", html="<p>eligible 12 of 40 [@cohortref]</p>",
                       summary=[SummaryItem("cohort", "12 eligible", "of 40")],
                       methods="Cohort by rules [@cohortref].",
                       references=[__import__("discovery.reports.registry", fromlist=["Reference"]).Reference(
                           "cohortref", "A. Author. Cohorts. 2020.")])

    try:
        with pytest.raises(ValueError, match="already registered"):
            register_section(kind, lambda r, o: None)
        for i in range(2):
            d = tmp_path / f"c{i}"
            d.mkdir()
            write_manifest(d, build_manifest(kind=kind, config={}, seed=i))
        rep = build_report([tmp_path / "c0", tmp_path / "c1", runs_root / "esol-s0"])
        assert seen["n"] == 2 and isinstance(seen["options"], ReportOptions)
        assert [s.id for s in rep.sections] == ["molprop", "cohort"]
        assert "12 eligible" in rep.html and "A. Author. Cohorts. 2020." in rep.html
        assert re.search(r'eligible 12 of 40 \[<a href="#ref-cohortref">\d+</a>\]', rep.html)
    finally:
        SECTION_BUILDERS.pop(kind, None)


# ---------------------------------------------------------------- CLI and PDF
def _parser():
    from discovery.cli import report

    p = argparse.ArgumentParser(prog="discovery report")
    report.register(p)
    return p


def test_cli_writes_report(runs_root, baseline_file, tmp_path, capsys):
    out = tmp_path / "r" / "report.html"
    args = _parser().parse_args([str(runs_root), "-o", str(out), "--title", "CLI <test>",
                                 "--baseline", str(baseline_file), "--top", "2"])
    assert args.func(args) == 0
    page = out.read_text()
    assert "<title>CLI &lt;test&gt;</title>" in page
    assert page.count('class="mol-card"') == 4  # 2 per group
    assert "wrote" in capsys.readouterr().out


def test_cli_main_exit_codes(runs_root, tmp_path, capsys, monkeypatch):
    """Through ``discovery.cli.main`` when it lists the ``report`` group (bad input -> exit 2)."""
    from discovery.cli import main as cli_main

    monkeypatch.setitem(cli_main.COMMANDS, "report", ("discovery.cli.report", "build a report"))
    assert cli_main.main(["report", str(tmp_path / "missing"), "-o", str(tmp_path / "x.html")]) == 2
    assert "path not found" in capsys.readouterr().err
    assert cli_main.main(["report", str(runs_root / "esol-s0"), "-o", str(tmp_path / "x.html"),
                          "--ad-threshold", "2"]) == 2
    assert not (tmp_path / "x.html").exists()


def test_pdf_without_chromium_is_a_clear_error(runs_root, tmp_path, monkeypatch, capsys):
    from discovery.cli import main as cli_main
    from discovery.reports.build import ChromiumNotFoundError, export_pdf

    monkeypatch.setenv("DISCOVERY_CHROMIUM", str(tmp_path / "no-chromium"))
    html = tmp_path / "r.html"
    html.write_text("<html></html>")
    with pytest.raises(ChromiumNotFoundError) as err:
        export_pdf(html, tmp_path / "r.pdf")
    assert "install-chromium.sh" in str(err.value) and "apt-get install chromium" in str(err.value)
    assert not (tmp_path / "r.pdf").exists()
    monkeypatch.setitem(cli_main.COMMANDS, "report", ("discovery.cli.report", "build a report"))
    code = cli_main.main(["report", str(runs_root / "esol-s0"), "-o", str(tmp_path / "y.html"),
                          "--pdf", str(tmp_path / "y.pdf")])
    err_text = capsys.readouterr().err
    assert code == 4 and "PDF export needs headless Chromium" in err_text
    assert (tmp_path / "y.html").is_file() and not (tmp_path / "y.pdf").exists()


def test_coverage_verdict_rule():
    from discovery.reports.sections.molprop import coverage_verdict

    assert coverage_verdict(0.62).startswith("over-confident")
    assert coverage_verdict(0.98).startswith("under-confident")
    assert coverage_verdict(0.90).startswith("close to nominal")


def test_parity_axes_follow_values_not_error_bars():
    """A few enormous sds (a badly fitted calibration scale) must not squash the points."""
    import matplotlib

    matplotlib.use("Agg")
    y = np.linspace(-5, 0, 30)
    std = np.full(30, 0.3)
    std[:3] = 300.0
    svg = plots.parity_svg([("seed 0", y, y + 0.2, std)])
    # y tick labels stay within the data range (−5 … 0.2), none near ±300
    ticks = [float(t.replace("−", "-")) for t in re.findall(r">\s*([−-]?\d+(?:\.\d+)?)\s*<", svg)]
    assert ticks and max(abs(t) for t in ticks) < 10


def test_missing_dependency_is_a_clear_error():
    from discovery.reports.errors import ReportDependencyError, require

    with pytest.raises(ReportDependencyError) as err:
        require("matplotlib_not_installed_here.pyplot")
    assert "matplotlib_not_installed_here" in str(err.value)
    assert "discovery[reports]" in str(err.value) and err.value.exit_code == 4
    assert require("json").dumps([1]) == "[1]"


def test_metric_lookup_tolerates_other_layouts(tmp_path):
    """Key spellings and nesting other than train.py's are read; absent values stay None."""
    from discovery.provenance import build_manifest, write_manifest
    from discovery.reports.results import load_result
    from discovery.reports.sections.molprop import MolpropRun

    d = tmp_path / "run"
    d.mkdir()
    write_manifest(d, build_manifest(kind="molprop.train", config={"data": "ESOL", "targets": ["val_score", "y2"]}, seed=3))
    (d / "metrics.json").write_text(json.dumps({
        "ensemble": {"test": {"val_score": {"RMSE": 0.5, "R^2": 0.8}, "y2": {"RMSE": 1.5}}},
        "validation": {"val_score": {"RMSE": 9.0}},
        "per_member": {"test": {"val_score": {"RMSE": {"mean": 0.6, "std": 0.05}}}},
        "calibration": {"test": {"val_score": {"Coverage90-before": 0.7, "coverage90_after": 0.88}}},
        "counts": {"n_test": 12},
    }))
    run = MolpropRun(load_result(d))
    assert run.targets == ["val_score", "y2"]
    assert run.test_metric("val_score", "rmse") == 0.5
    assert run.test_metric("val_score", "r2") == 0.8
    assert run.test_metric("y2", "rmse") == 1.5
    assert run.test_metric("y2", "r2") is None
    assert run.test_metric("val_score", "mae") is None
    assert run.member_metric("val_score", "rmse")[:2] == (0.6, 0.05)
    assert run.calibration("val_score", "coverage90", "before") == 0.7
    assert run.calibration("val_score", "coverage90", "after") == 0.88
    assert run.calibration("y2", "coverage90", "after") is None
    assert run.count("n_test") == 12 and run.count("n_train") is None
    assert run.seed == 3 and run.task == "regression"
