"""The report in a real headless Chromium: no console error, no request but file:, sections and
figures visible, a screenshot; the PDF export rendered back to PNG with pdftoppm.

``test_real_training_run_report`` trains with the real ``discovery molprop train`` CLI;
with ``DISCOVERY_UPDATE_DOCS=1`` it also refreshes ``docs/report-first-screen.png``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from cdp import Browser

from discovery.reports.build import build_report, export_pdf, write_report
from discovery.reports.registry import ReportOptions

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
SECTIONS = ("summary", "molprop", "methods", "references", "software", "provenance")

VISIBILITY_JS = r"""
(() => {
  const vis = (el) => {
    if (!el) return false;
    const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.display !== 'none' && s.visibility !== 'hidden' && parseFloat(s.opacity) > 0;
  };
  const ids = %s;
  const figs = [...document.querySelectorAll('figure')];
  return {
    sections: Object.fromEntries(ids.map(id => [id, vis(document.getElementById(id))])),
    headings: [...document.querySelectorAll('h2')].map(h => h.textContent.trim()),
    figures: figs.map(f => { const r = f.querySelector('svg').getBoundingClientRect();
                             return {w: r.width, h: r.height, caption: (f.querySelector('figcaption') || {}).textContent || '',
                                     marks: f.querySelectorAll('path, use, line, polyline').length}; }),
    molecules: [...document.querySelectorAll('svg.mol')].map(s => { const r = s.getBoundingClientRect();
                             return {w: r.width, h: r.height, bonds: s.querySelectorAll('path').length}; }),
    cards: [...document.querySelectorAll('.card')].filter(vis).length,
    tables: [...document.querySelectorAll('table')].filter(vis).length,
    images: [...document.images].map(i => ({src: i.src.slice(0, 30), ok: i.complete && i.naturalWidth > 0})),
    resources: performance.getEntriesByType('resource').map(e => e.name),
    overflowX: document.documentElement.scrollWidth > window.innerWidth + 1,
  };
})()
"""


def _check_page(b: Browser, url: str) -> dict:
    b.open(url)
    state = b.eval(VISIBILITY_JS % json.dumps(list(SECTIONS)))
    assert b.events.errors == [], b.events.errors
    assert b.events.non_file_requests == [], b.events.non_file_requests
    assert b.events.requests == [url], b.events.requests  # the document itself, nothing else
    assert state["resources"] == [], state["resources"]
    assert all(state["sections"].values()), state["sections"]
    assert state["headings"][:2] == ["Summary", "Property prediction"]
    assert all(img["ok"] for img in state["images"]), state["images"]
    assert not state["overflowX"], "page scrolls sideways at 1280 px"
    return state


def _nonblank_png(path: Path, min_colors: int = 8) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as im:
        assert im.format == "PNG"
        colors = im.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colors is None or len(colors) >= min_colors, f"{path} looks blank"
        return im.size


def test_report_in_chromium(chromium, fixture_runs, tmp_path):
    runs, baseline = fixture_runs
    report = build_report([runs], title="Property prediction: ESOL and BBBP",
                          options=ReportOptions(baseline=baseline))
    html = write_report(report, tmp_path / "report.html")
    with Browser(chromium, width=1280, height=900) as b:
        state = _check_page(b, html.resolve().as_uri())
        # parity + calibration for ESOL, ROC + reliability for BBBP; all drawn and of a readable size
        assert len(state["figures"]) == 4
        for f in state["figures"]:
            assert f["w"] >= 250 and f["h"] >= 200 and f["marks"] > 10, f
        captions = " ".join(f["caption"] for f in state["figures"])
        assert "Predicted vs measured logp" in captions and "Calibration of the uncertainty" in captions
        assert "ROC curve" in captions
        assert len(state["molecules"]) == 16
        assert all(m["w"] >= 100 and m["h"] >= 80 and m["bonds"] > 0 for m in state["molecules"])
        assert state["cards"] == 2 and state["tables"] >= 6
        # what a reader sees first: title, the summary headline with its uncertainty
        first_screen = b.eval("document.elementFromPoint(640, 60) && document.body.innerText.slice(0, 600)")
        assert "Summary" in first_screen and "RMSE" in first_screen and "±" in first_screen
        shot = b.screenshot(tmp_path / "report-first-screen.png")
        assert _nonblank_png(shot) == (1280, 900)
        full = b.screenshot(tmp_path / "report-full.png", full_page=True)
        w, h = _nonblank_png(full)
        assert h > 3000
        # print media: nothing hidden that matters, the navigation is
        b.call("Emulation.setEmulatedMedia", session=True, media="print")
        assert b.eval("getComputedStyle(document.querySelector('nav.toc')).display") == "none"
        assert b.eval("getComputedStyle(document.getElementById('provenance')).display") != "none"


def test_pdf_export_renders(chromium, fixture_runs, tmp_path):
    runs, baseline = fixture_runs
    from discovery.cli import report as cli_report
    import argparse

    p = argparse.ArgumentParser()
    cli_report.register(p)
    args = p.parse_args([str(runs), "-o", str(tmp_path / "report.html"), "--pdf", str(tmp_path / "report.pdf"),
                         "--baseline", str(baseline)])
    assert args.func(args) == 0
    pdf = tmp_path / "report.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert [x.name for x in tmp_path.iterdir() if ".partial-" in x.name] == []
    out = tmp_path / "pages"
    out.mkdir()
    subprocess.run(["pdftoppm", "-png", "-r", "40", str(pdf), str(out / "page")], check=True, timeout=120)
    pages = sorted(out.glob("page*.png"))
    assert len(pages) >= 1
    for pg in pages[:2]:
        _nonblank_png(pg)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    for needle in ("Summary", "Property prediction", "Methods", "References", "Provenance", "RMSE"):
        assert needle in text, needle
    # the PDF carries the numbers of the HTML (first ESOL RMSE headline)
    rmse = re.search(r"RMSE (\d\.\d{3} ± \d\.\d{3})", (tmp_path / "report.html").read_text()).group(1)
    assert rmse in text


def test_export_pdf_reports_chromium_failure(chromium, tmp_path, monkeypatch):
    from discovery.reports.build import PdfExportError

    fake = tmp_path / "fake-chromium"
    fake.write_text("#!/bin/sh\necho 'cannot open display' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("DISCOVERY_CHROMIUM", str(fake))
    page = tmp_path / "r.html"
    page.write_text("<html><body>x</body></html>")
    with pytest.raises(PdfExportError, match="cannot open display"):
        export_pdf(page, tmp_path / "r.pdf")
    assert not (tmp_path / "r.pdf").exists()


def test_real_training_run_report(chromium, tmp_path):
    """End to end: ``discovery molprop train`` (2 seeds, 2-member ensembles) -> report -> Chromium."""
    import sys

    from reports_fixture import expected_mean_sd

    env = {**os.environ}
    runs = []
    for seed in (0, 1):
        out = tmp_path / "runs" / f"esol-s{seed}"
        cmd = [sys.executable, "-m", "discovery", "molprop", "train", "--data", "ESOL", "--target", "logp",
               "--split", "scaffold", "--seed", str(seed), "--ensemble", "2", "--epochs", "2", "--out", str(out)]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900, cwd=REPO_ROOT)
        assert proc.returncode == 0, proc.stderr[-3000:]
        runs.append(out)
    report = build_report([tmp_path / "runs"], title="ESOL solubility: D-MPNN ensembles")
    html = write_report(report, tmp_path / "report.html")
    page = html.read_text()
    metrics = [json.loads((r / "metrics.json").read_text()) for r in runs]
    # the numbers the report shows are the ones metrics.json records
    for m in ("rmse", "mae", "r2"):
        assert expected_mean_sd([x["test"]["logp"][m] for x in metrics]) in page, m
    for key in ("coverage90_before", "coverage90_after"):
        assert expected_mean_sd([x["uncertainty"]["test"]["logp"][key] for x in metrics]) in page, key
    for r in runs:
        man = json.loads((r / "manifest.json").read_text())
        assert man["inputs"]["data"]["sha256"] in page
    with Browser(chromium, width=1280, height=900) as b:
        state = _check_page(b, html.resolve().as_uri())
        assert len(state["figures"]) == 2  # parity + calibration
        assert all(f["w"] >= 250 and f["marks"] > 10 for f in state["figures"])
        assert len(state["molecules"]) == 8
        shot = b.screenshot(tmp_path / "report-first-screen.png")
        _nonblank_png(shot)
        if os.environ.get("DISCOVERY_UPDATE_DOCS") == "1":
            (REPO_ROOT / "docs").mkdir(exist_ok=True)
            (REPO_ROOT / "docs" / "report-first-screen.png").write_bytes(shot.read_bytes())


def test_rasterized_scatter_loads_under_csp(chromium, tmp_path):
    """Parity plots above RASTERIZE_ABOVE points embed a data: PNG; the page's CSP must allow it."""
    import numpy as np

    from discovery.reports import plots
    from discovery.reports.html import figure, render_page

    rng = np.random.default_rng(0)
    y = rng.normal(size=plots.RASTERIZE_ABOVE + 500)
    svg = plots.parity_svg([("seed 0", y, y + rng.normal(0, 0.3, y.size), np.full(y.size, 0.2))])
    assert "data:image/png;base64," in svg
    page = render_page(title="raster", created="now", version="test", n_results=0, sections=[],
                       summary_text="", common_methods="", references=[], software="", provenance=figure(svg, "big"),
                       rebuild="")
    path = tmp_path / "raster.html"
    path.write_text(page)
    with Browser(chromium) as b:
        b.open(path.as_uri())
        assert b.events.errors == [] and b.events.non_file_requests == []
        box = b.eval("(() => { const r = document.querySelector('figure svg image').getBoundingClientRect();"
                     " return [r.width, r.height]; })()")
        assert box[0] > 100 and box[1] > 100
