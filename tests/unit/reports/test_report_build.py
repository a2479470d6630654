"""The report's HTML: sections, numbers as recorded, self-containment, provenance, citations."""

from __future__ import annotations

import html as htmllib
import json
import re
import statistics
from pathlib import Path

import pytest
from reports_fixture import expected_mean_sd, make_molprop_run

from discovery.errors import InputError
from discovery.reports.build import build_report, write_report
from discovery.reports.registry import ReportOptions


def _text(page: str) -> str:
    """Visible text, tags stripped, entities decoded, whitespace collapsed."""
    page = re.sub(r"<svg\b.*?</svg>", " ", page, flags=re.S)
    page = re.sub(r"<style\b.*?</style>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", htmllib.unescape(re.sub(r"<[^>]+>", " ", page)))


def _section(page: str, sid: str) -> str:
    m = re.search(rf'<section id="{sid}"[^>]*>(.*?)</section>', page, flags=re.S)
    assert m, f"section {sid} missing"
    return m.group(1)


def _metrics(root: Path, name: str) -> dict:
    return json.loads((root / name / "metrics.json").read_text())


def test_sections_present_in_order(built):
    page = built.html
    ids = re.findall(r'<section id="([^"]+)"', page)
    assert ids == ["summary", "molprop", "methods", "references", "software", "provenance"]
    # the summary comes first and carries one headline per group
    summary = _text(_section(page, "summary"))
    assert "ESOL · logp · D-MPNN ensemble of 3" in summary
    assert "BBBP · p_np · D-MPNN ensemble of 3" in summary
    assert "4 result folders" in summary and "seeds 0, 1, 2" in summary


def test_metric_table_matches_metrics_json(built, runs_root):
    page = _text(_section(built.html, "molprop"))
    esol = [_metrics(runs_root, f"esol-s{s}") for s in range(3)]
    for metric in ("rmse", "mae", "r2"):
        expected = expected_mean_sd([m["test"]["logp"][metric] for m in esol])
        assert expected in page, (metric, expected)
    # headline in the summary: RMSE mean ± sd over the three seeds
    rmse = expected_mean_sd([m["test"]["logp"]["rmse"] for m in esol])
    assert f"RMSE {rmse}" in _text(_section(built.html, "summary"))
    # single-seed classification numbers printed alone (no ±), as recorded
    bbbp = _metrics(runs_root, "bbbp-s0")
    assert f"ROC-AUC {bbbp['test']['p_np']['roc_auc']:.3f}" in _text(_section(built.html, "summary"))
    assert f"{bbbp['test']['p_np']['pr_auc']:.3f}" in page
    # ensemble members: mean of member means over seeds
    mem = expected_mean_sd([m["members"]["summary"]["test"]["logp"]["rmse"]["mean"] for m in esol])
    assert mem in page
    # calibration before/after from metrics.json's uncertainty block
    for key in ("miscalibration_area_before", "miscalibration_area_after", "coverage90_before", "coverage90_after"):
        assert expected_mean_sd([m["uncertainty"]["test"]["logp"][key] for m in esol]) in page, key
    cov = statistics.mean(m["uncertainty"]["test"]["logp"]["coverage90_after"] for m in esol)
    from discovery.reports.sections.molprop import coverage_verdict

    assert f"ESOL logp: {coverage_verdict(cov)}" in page
    # counts and invalid rows
    assert re.search(r"ESOL logp D-MPNN ensemble of 3 3 24 ", page)
    assert "1 input row rejected" in page


def test_baseline_rows(built, baseline_file):
    page = _text(_section(built.html, "molprop"))
    values = json.loads(baseline_file.read_text())["summary"]["datasets"]["esol"]["configs"]["chemprop"]["metric_values"]
    assert f"Chemprop v2 (50 epochs, run 2025-01-01) 3 {expected_mean_sd(values)}" in page
    assert f"Chemprop v2 benchmark: {expected_mean_sd(values)}" in _text(_section(built.html, "summary"))


def test_missing_keys_are_not_reported(tmp_path):
    for s in range(2):
        make_molprop_run(tmp_path / f"esol-s{s}", seed=s, drop_keys=("r2", "uncertainty", "members"))
    page = build_report([tmp_path]).html
    mol = _section(page, "molprop")
    # R² column and the calibration table cells say "not reported"; nothing is estimated
    row = re.search(r"<tr><td>ESOL</td><td>logp</td>.*?</tr>", mol, flags=re.S).group(0)
    assert row.count("not reported") == 1
    assert "calibration" not in _text(row)
    cal = re.search(r"miscal\. area before.*?</table>", mol, flags=re.S).group(0)
    assert cal.count("not reported") >= 5


def test_partial_seed_is_marked(tmp_path):
    make_molprop_run(tmp_path / "a", seed=0)
    make_molprop_run(tmp_path / "b", seed=1, drop_keys=("mae",))
    page = _text(build_report([tmp_path]).html)
    m = json.loads((tmp_path / "a" / "metrics.json").read_text())["test"]["logp"]["mae"]
    assert f"{m:.3f} (n=1 of 2)" in page


def test_self_contained_no_network(built):
    page = built.html
    assert not re.search(r"""(?:src|href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//""", page, flags=re.I)
    assert not re.search(r"url\(\s*['\"]?\s*(?:https?:)?//", page, flags=re.I)
    assert "@import" not in page
    assert "<script" not in page.lower()
    assert "<link" not in page.lower()
    assert "<img" not in page.lower() or all(s.startswith("data:") for s in re.findall(r'<img[^>]+src="([^"]+)"', page))
    assert "default-src 'none'" in page  # CSP forbids any load
    # every figure is inline SVG; molecules drawn
    assert page.count("<figure") >= 4 and page.count("<figure") == len(re.findall(r"<figure><svg", page))
    assert page.count('class="mol"') == 16
    # ids are unique (inline SVGs with prefixed ids)
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))


def test_provenance_shows_sha256_commit_and_config_hash(built, runs_root):
    prov = _section(built.html, "provenance")
    for name in ("esol-s0", "esol-s1", "esol-s2", "bbbp-s0"):
        man = json.loads((runs_root / name / "manifest.json").read_text())
        assert man["inputs"]["data"]["sha256"] in prov
        assert len(man["inputs"]["data"]["sha256"]) == 64
        from discovery.reports.results import config_hash

        assert config_hash(man["config"]) in prov
        if man.get("git_commit"):
            assert man["git_commit"] in prov
    soft = _text(_section(built.html, "software"))
    man = json.loads((runs_root / "esol-s0" / "manifest.json").read_text())
    assert f"torch {man['versions']['torch']}" in soft


def test_methods_and_references(built):
    methods = _text(_section(built.html, "methods"))
    refs = _text(_section(built.html, "references"))
    for needle in ("10.1021/acs.jcim.9b00237", "10.1021/acs.jcim.3c01250", "arXiv:1903.02428",
                   "RDKit", "PyTorch Lightning", "10.1021/ci034243x",  # ESOL (from the data registry)
                   "10.1039/C7SC02664A"):  # MoleculeNet
        assert needle in refs, needle
    # Chemprop is cited by the method and by the datasets: one entry only
    assert refs.count("10.1021/acs.jcim.3c01250") == 1
    # every [n] in the methods resolves to a listed reference
    n_refs = len(re.findall(r'<li id="ref-', _section(built.html, "references")))
    nums = {int(n) for grp in re.findall(r"\[([\d, ]+)\]", methods) for n in grp.split(",")}
    assert nums and max(nums) <= n_refs and min(nums) >= 1
    assert "outside domain below 0.3" in methods


def test_descriptor_runs_are_described_and_cited(tmp_path):
    plain = build_report([make_molprop_run(tmp_path / "plain")], title="t")
    assert "mol_features" not in _text(_section(plain.html, "methods")) and "Crippen" not in plain.html
    run = make_molprop_run(tmp_path / "desc", mol_features="physchem")
    page = build_report([run], title="t").html
    methods, refs = _text(_section(page, "methods")), _text(_section(page, "references"))
    assert "mol_features physchem also received 64 RDKit molecule descriptors" in methods
    for doi in ("10.1021/ci990307l", "10.1021/jm000942e", "10.1016/S1093-3263(00)00068-1"):
        assert doi in refs, doi
    assert "mol_features physchem" in _text(_section(page, "molprop"))
    assert "mixed ensembles" not in methods.lower() and "10.1016/S0893-6080(05)80023-1" not in refs
    mixed = make_molprop_run(tmp_path / "mixed", mol_features="physchem", graph_only_members=1)
    page = build_report([mixed], title="t").html
    methods, refs = _text(_section(page, "methods")), _text(_section(page, "references"))
    assert "In mixed ensembles some members learned from the graph alone" in methods
    assert "10.1016/S0893-6080(05)80023-1" in refs and "10.1145/1015330.1015432" in refs


def test_applicability_domain_rule_and_flags(runs_root):
    page = _text(build_report([runs_root / "esol-s0"]).html)
    assert "maximum Tanimoto similarity" in page and "below 0.3" in page and "radius 2, 2048 bits" in page
    strict = _text(build_report([runs_root / "esol-s0"], options=ReportOptions(ad_threshold=1.0, top_n=3)).html)
    assert strict.count("outside domain similarity") == 3
    lax = _text(build_report([runs_root / "esol-s0"], options=ReportOptions(ad_threshold=0.0, top_n=3)).html)
    assert lax.count("inside domain similarity") == 3


def test_top_molecules_are_the_highest_predictions(runs_root):
    import pandas as pd

    df = pd.read_csv(runs_root / "esol-s0" / "test_predictions.csv").sort_values("logp_pred", ascending=False)
    page = build_report([runs_root / "esol-s0"], options=ReportOptions(top_n=4)).html
    shown = re.findall(r'<div class="smi">([^<]*)</div>', page)
    assert [htmllib.unescape(s) for s in shown] == df["smiles"].head(4).tolist()
    first = df.iloc[0]
    assert f"{first['logp_pred']:.3f} ± {first['logp_std']:.3f}" in page


def test_unknown_kind_gets_generic_section(tmp_path, runs_root):
    from discovery.provenance import build_manifest, write_manifest

    other = tmp_path / "screen"
    other.mkdir()
    write_manifest(other, build_manifest(kind="assay.plate_qc", config={"k": 5}, seed=1))
    (other / "metrics.json").write_text(json.dumps({"hits": 12, "recall": {"at10": 0.4}}))
    rep = build_report([runs_root / "esol-s0", other])
    assert sorted(s.id for s in rep.sections) == ["molprop", "other-assay-plate-qc"]
    text = _text(rep.html)
    assert "recall.at10 0.400" in text and "hits 12" in text


def test_write_report_atomic(built, tmp_path):
    out = write_report(built, tmp_path / "sub" / "report.html")
    assert out.read_text(encoding="utf-8") == built.html
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]


def test_bad_inputs(tmp_path, runs_root):
    with pytest.raises(InputError, match="not found"):
        build_report([tmp_path / "nope"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no result folder"):
        build_report([tmp_path / "empty"])
    with pytest.raises(InputError, match="baseline file not found"):
        build_report([runs_root / "esol-s0"], options=ReportOptions(baseline=tmp_path / "missing.json"))
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "manifest.json").write_text("{not json")
    with pytest.raises(InputError, match="manifest is not valid JSON") as err:
        build_report([bad])
    assert str(bad / "manifest.json") in str(err.value)


def test_baseline_without_dataset_is_tolerated(runs_root, tmp_path):
    from reports_fixture import make_baseline

    b = make_baseline(tmp_path / "b.json", dataset_key="freesolv")
    text = _text(build_report([runs_root / "esol-s0"], options=ReportOptions(baseline=b)).html)
    assert "no entry for these datasets" in text and "Chemprop v2 (" not in text
    junk = tmp_path / "junk.json"
    junk.write_text("[1, 2")
    text = _text(build_report([runs_root / "esol-s0"], options=ReportOptions(baseline=junk)).html)
    assert "could not be read" in text


def test_grouping_by_config(tmp_path):
    make_molprop_run(tmp_path / "a0", seed=0, epochs=30)
    make_molprop_run(tmp_path / "a1", seed=1, epochs=30)
    make_molprop_run(tmp_path / "b0", seed=0, epochs=60)
    rep = build_report([tmp_path])
    heads = re.findall(r"<h3 id=\"molprop-[^\"]+\">(.*?)</h3>", rep.html)
    assert len(heads) == 2
    assert any("2 seeds (0, 1)" in h for h in heads) and any("1 seed (0)" in h for h in heads)
    # n_test means are over the right runs
    vals = [json.loads((tmp_path / n / "metrics.json").read_text())["test"]["logp"]["rmse"] for n in ("a0", "a1")]
    assert expected_mean_sd(vals) in rep.html
    assert statistics.stdev(vals) > 0


def test_multi_target_classification(tmp_path):
    """Tox21 (6 of its 12 targets, missing labels): per-target rows, one headline, capped figures."""
    make_molprop_run(tmp_path / "tox-s0", dataset="Tox21", seed=0, n=400, n_targets=6)
    make_molprop_run(tmp_path / "tox-s1", dataset="Tox21", seed=1, n=400, n_targets=6)
    rep = build_report([tmp_path])
    mets = [_metrics(tmp_path, f"tox-s{s}") for s in range(2)]
    targets = mets[0]["target_cols"]
    assert len(targets) == 6
    page = _text(_section(rep.html, "molprop"))
    for t in targets:
        auc = expected_mean_sd([m["test"][t]["roc_auc"] for m in mets])
        pr = expected_mean_sd([m["test"][t]["pr_auc"] for m in mets])
        assert f"Tox21 {t} D-MPNN ensemble of 3 2 40 {auc} {pr}" in page, t
    summary = _text(_section(rep.html, "summary"))
    assert "Tox21 · mean over 6 targets" in summary
    assert f"ROC-AUC {expected_mean_sd([m['test']['mean']['roc_auc'] for m in mets])}" in summary
    assert "Figures for the first 4 of 6 targets" in page
    assert rep.sections[0].n_figures == 8


def test_single_model_without_uncertainty(tmp_path):
    """As ``molprop train`` writes it with --ensemble 1: empty std column, uncertainty method "none"."""
    import pandas as pd

    run = make_molprop_run(tmp_path / "single", seed=0, ensemble=1)
    df = pd.read_csv(run / "test_predictions.csv")
    assert df["logp_std"].isna().all()
    rep = build_report([run])
    mol = _section(rep.html, "molprop")
    figs = re.findall(r"<figure>.*?</figure>", mol, flags=re.S)
    assert len(figs) == 1 and "no uncertainty saved" in figs[0]  # parity only, no calibration plot
    # every test molecule is drawn as a marker (none dropped for lack of an sd)
    from collections import Counter

    uses = Counter(re.findall(r'<use xlink:href="#([^"]+)"', figs[0]))
    assert uses.most_common(1)[0][1] == len(df) + 1  # + the legend's marker
    text = _text(mol)
    assert "No uncertainty estimate for ESOL" in text
    assert "Ensemble and members" not in text
    assert "± " not in re.search(r"Top 8 test molecules.*", text).group(0)
