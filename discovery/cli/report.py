"""``discovery report``: one self-contained HTML (and optionally PDF) report from result folders.

Examples
--------
discovery report runs/esol-s0 runs/esol-s1 runs/esol-s2 -o results/report.html
discovery report runs/ -o results/report.html --pdf results/report.pdf \\
    --baseline benchmarks/results/molprop_vs_chemprop.json --title "Solubility models"
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", nargs="+", metavar="RESULTS_DIR",
                        help="result folders (holding manifest.json), or folders containing them (searched 3 levels deep)")
    parser.add_argument("-o", "--out", required=True, metavar="REPORT.html", help="HTML file to write (atomically)")
    parser.add_argument("--pdf", metavar="REPORT.pdf", help="also print the report to PDF with headless Chromium")
    parser.add_argument("--title", default="Discovery results", help="report title")
    parser.add_argument("--baseline", metavar="JSON",
                        help="peer results to compare with, e.g. benchmarks/results/molprop_vs_chemprop.json")
    parser.add_argument("--top", type=int, default=8, metavar="N", help="molecules to draw per group (default 8)")
    parser.add_argument("--ad-threshold", type=float, default=0.3, metavar="SIM",
                        help="applicability domain: flag molecules whose max Tanimoto similarity to the "
                             "training set is below SIM (default 0.3)")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from ..errors import ConfigError
    from ..reports.build import build_report, export_pdf, write_report
    from ..reports.registry import ReportOptions

    if args.top < 0:
        raise ConfigError(f"--top must be >= 0, got {args.top}")
    if not 0.0 <= args.ad_threshold <= 1.0:
        raise ConfigError(f"--ad-threshold must be between 0 and 1, got {args.ad_threshold}")
    options = ReportOptions(baseline=Path(args.baseline) if args.baseline else None,
                            top_n=args.top, ad_threshold=args.ad_threshold)
    report = build_report(args.results, title=args.title, options=options)
    out = write_report(report, args.out)
    n_figs = sum(s.n_figures for s in report.sections)
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KiB; {len(report.results)} result folders, "
          f"{len(report.sections)} section(s), {n_figs} figures)")
    if args.pdf:
        pdf = export_pdf(out, args.pdf)
        print(f"wrote {pdf} ({pdf.stat().st_size / 1024:.0f} KiB)")
    sys.stdout.flush()
    return 0
