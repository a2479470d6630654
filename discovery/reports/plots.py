"""Figures for reports, as inline SVG strings (matplotlib, Agg backend).

Every function returns SVG markup ready to paste into HTML: no XML prolog,
no DOCTYPE, no metadata, element ids prefixed so that several figures can
live in one page, and a fixed hash salt so that the same data give the same
bytes.
"""

from __future__ import annotations

import io
import itertools
import re
from statistics import NormalDist
from typing import Sequence

import numpy as np

#: Colour-blind-safe palette (Okabe & Ito).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
_counter = itertools.count()


def _plt():
    from .errors import require

    matplotlib = require("matplotlib")
    matplotlib.use("Agg", force=False)
    return require("matplotlib.pyplot")


def _style() -> dict:
    return {
        "svg.hashsalt": "discovery-report",
        "svg.fonttype": "none",  # text stays text (searchable, small); the page's fonts render it
        "font.family": "sans-serif",
        "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.color": "#e5e5e5",
        "grid.linewidth": 0.6,
        "axes.axisbelow": True,
        "legend.frameon": False,
    }


def svg_inline(svg: str, prefix: str | None = None) -> str:
    """Make an SVG document safe to inline in HTML.

    Removes the XML prolog, DOCTYPE, comments and ``<metadata>``, prefixes
    every ``id`` (and the references to it) with ``prefix`` so ids stay unique
    in the page, and makes the figure scale to its container.

    Parameters
    ----------
    svg : str
        A complete SVG document.
    prefix : str, optional
        Id prefix; a fresh one per call by default.
    """
    prefix = prefix or f"f{next(_counter)}-"
    svg = re.sub(r"<\?xml[^>]*\?>", "", svg)
    svg = re.sub(r"<!DOCTYPE[^>]*>", "", svg)
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    ids = set(re.findall(r'\bid="([^"]+)"', svg))
    if ids:
        svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
        svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})" if m.group(1) in ids else m.group(0), svg)
        svg = re.sub(r'(xlink:href|href)="#([^"]+)"',
                     lambda m: f'{m.group(1)}="#{prefix}{m.group(2)}"' if m.group(2) in ids else m.group(0), svg)
    svg = re.sub(r"<svg\b", '<svg role="img" style="max-width:100%;height:auto"', svg, count=1)
    return svg.strip()


#: Parity plots with more points than this draw them as an inline bitmap.
RASTERIZE_ABOVE = 1500


def _to_svg(fig) -> str:
    plt = _plt()
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", dpi=150, metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return svg_inline(buf.getvalue())


def parity_svg(
    series: Sequence[tuple[str, np.ndarray, np.ndarray, np.ndarray | None]],
    *,
    xlabel: str = "measured",
    ylabel: str = "predicted",
) -> str:
    """Predicted vs measured, with ±1 sd error bars.

    Parameters
    ----------
    series : sequence of (label, y_true, y_pred, y_std)
        One entry per run (e.g. per seed). ``y_true``, ``y_pred`` and
        ``y_std`` have shape ``(n,)``; ``y_std`` may be ``None`` (no bars).
        Points with a non-finite measured or predicted value are left out;
        a non-finite sd only removes that point's bar. The axes span the
        measured and predicted values; longer bars are clipped at the frame.
    xlabel, ylabel : str
        Axis labels (include the unit).

    Returns
    -------
    str
        Inline SVG.
    """
    plt = _plt()
    # thousands of SVG markers make a page slow: draw the points as an embedded
    # (data: URI) bitmap above this many, keeping axes and text as vectors
    rasterize = sum(len(np.asarray(s[1])) for s in series) > RASTERIZE_ABOVE
    with plt.rc_context(_style()):
        fig, ax = plt.subplots(figsize=(4.3, 4.0))
        lo, hi = np.inf, -np.inf
        for i, (label, t, p, s) in enumerate(series):
            t, p = np.asarray(t, float), np.asarray(p, float)
            ok = np.isfinite(t) & np.isfinite(p)
            err = None
            if s is not None:
                s = np.asarray(s, float)
                # a point without a (finite, non-negative) sd is drawn without a bar, never dropped
                err = np.where(np.isfinite(s) & (s >= 0), s, 0.0)[ok] if np.isfinite(s[ok]).any() else None
            if not ok.any():
                continue
            color = PALETTE[i % len(PALETTE)]
            ax.errorbar(t[ok], p[ok], yerr=err, fmt="o", ms=3 if not rasterize else 1.5, color=color, ecolor=color,
                        elinewidth=0.6 if not rasterize else 0.3, alpha=0.55 if not rasterize else 0.35, capsize=0,
                        label=label, rasterized=rasterize)
            # the axes span the values, not the bars: a few huge sds must not squash the points
            lo = min(lo, t[ok].min(), p[ok].min())
            hi = max(hi, t[ok].max(), p[ok].max())
        if np.isfinite(lo):
            pad = 0.05 * (hi - lo or 1.0)
            ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="#555555", lw=0.8, ls="--", label="y = x")
            ax.set_xlim(lo - pad, hi + pad)
            ax.set_ylim(lo - pad, hi + pad)
        ax.set_aspect("equal", adjustable="box")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="upper left", fontsize=7)
        return _to_svg(fig)


def coverage_curve(y_true: np.ndarray, y_pred: np.ndarray, y_std: np.ndarray,
                   levels: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Observed coverage of central Gaussian intervals ``pred ± z·std``.

    Parameters
    ----------
    y_true, y_pred, y_std : ndarray, shape (n,)
        Non-finite entries and ``std <= 0`` are left out.
    levels : ndarray, shape (k,), optional
        Expected coverages in (0, 1); default 0.01, 0.02, ..., 0.99.

    Returns
    -------
    levels : ndarray, shape (k,)
    observed : ndarray, shape (k,)
        Fraction of molecules whose measured value lies in the interval
        ``|y_true - y_pred| <= Φ⁻¹((1 + level) / 2) · y_std``.
    """
    if levels is None:
        levels = np.round(np.arange(1, 100) / 100, 2)
    t, p, s = (np.asarray(a, float) for a in (y_true, y_pred, y_std))
    ok = np.isfinite(t) & np.isfinite(p) & np.isfinite(s) & (s > 0)
    if not ok.any():
        return levels, np.full(len(levels), np.nan)
    z = np.abs(t[ok] - p[ok]) / s[ok]
    nd = NormalDist()
    bounds = np.array([nd.inv_cdf((1 + q) / 2) for q in levels])
    observed = (z[None, :] <= bounds[:, None]).mean(axis=1)
    return levels, observed


def calibration_svg(
    series: Sequence[tuple[str, np.ndarray, np.ndarray, str]],
) -> str:
    """Observed vs expected coverage of the prediction intervals.

    Parameters
    ----------
    series : sequence of (label, expected, observed, linestyle)
        ``expected`` and ``observed`` have shape ``(k,)`` (see
        :func:`coverage_curve`); ``linestyle`` is a matplotlib style such as
        ``"-"`` (calibrated) or ``"--"`` (before calibration).

    Returns
    -------
    str
        Inline SVG. Perfect calibration is the diagonal; curves below it are
        over-confident (intervals too narrow), above it under-confident.
    """
    plt = _plt()
    with plt.rc_context(_style()):
        fig, ax = plt.subplots(figsize=(4.3, 4.0))
        ax.plot([0, 1], [0, 1], color="#555555", lw=0.8, ls=":", label="ideal")
        colors: dict[str, str] = {}
        for label, e, o, ls in series:
            base = label.split(" (")[0]
            color = colors.setdefault(base, PALETTE[len(colors) % len(PALETTE)])
            ax.plot(e, o, ls=ls, color=color, lw=1.4, label=label)
            if ls == "-":
                ax.fill_between(e, e, o, color=color, alpha=0.08, lw=0)
        ax.axvline(0.9, color="#999999", lw=0.6)
        ax.text(0.905, 0.03, "90%", fontsize=7, color="#666666")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_aspect("equal", adjustable="box")
        ax.set_xlabel("expected coverage (interval confidence level)")
        ax.set_ylabel("observed coverage on the test set")
        ax.legend(loc="upper left", fontsize=7)
        return _to_svg(fig)


def roc_points(y_true: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ROC curve points.

    Parameters
    ----------
    y_true : ndarray, shape (n,)
        Labels 0/1; non-finite entries are left out.
    score : ndarray, shape (n,)
        Predicted probability of class 1.

    Returns
    -------
    fpr, tpr : ndarray, shape (m,)
        From (0, 0) to (1, 1), one point per distinct score.
    """
    t, s = np.asarray(y_true, float), np.asarray(score, float)
    ok = np.isfinite(t) & np.isfinite(s)
    t, s = t[ok] > 0.5, s[ok]
    if t.all() or (~t).all():
        return np.array([0.0, 1.0]), np.array([0.0, 1.0]) * np.nan
    order = np.argsort(-s, kind="mergesort")
    t, s = t[order], s[order]
    last = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]
    tp = np.cumsum(t)[last]
    fp = np.cumsum(~t)[last]
    return np.r_[0.0, fp / (~t).sum()], np.r_[0.0, tp / t.sum()]


def roc_svg(series: Sequence[tuple[str, np.ndarray, np.ndarray]]) -> str:
    """ROC curves, one per run.

    Parameters
    ----------
    series : sequence of (label, y_true, score)
        Arrays of shape ``(n,)``.
    """
    plt = _plt()
    with plt.rc_context(_style()):
        fig, ax = plt.subplots(figsize=(4.3, 4.0))
        ax.plot([0, 1], [0, 1], color="#555555", lw=0.8, ls=":", label="chance")
        for i, (label, t, s) in enumerate(series):
            fpr, tpr = roc_points(t, s)
            ax.plot(fpr, tpr, color=PALETTE[i % len(PALETTE)], lw=1.4, label=label)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.01)
        ax.set_aspect("equal", adjustable="box")
        ax.set_xlabel("false positive rate")
        ax.set_ylabel("true positive rate")
        ax.legend(loc="lower right", fontsize=7)
        return _to_svg(fig)


def reliability_svg(series: Sequence[tuple[str, np.ndarray, np.ndarray]], bins: int = 10) -> str:
    """Reliability diagram: observed fraction of positives per predicted-probability bin.

    Parameters
    ----------
    series : sequence of (label, y_true, prob)
        Arrays of shape ``(n,)``; empty bins are not drawn.
    bins : int
        Equal-width bins on [0, 1].
    """
    plt = _plt()
    edges = np.linspace(0, 1, bins + 1)
    with plt.rc_context(_style()):
        fig, ax = plt.subplots(figsize=(4.3, 4.0))
        ax.plot([0, 1], [0, 1], color="#555555", lw=0.8, ls=":", label="ideal")
        for i, (label, t, p) in enumerate(series):
            t, p = np.asarray(t, float), np.asarray(p, float)
            ok = np.isfinite(t) & np.isfinite(p)
            t, p = t[ok], p[ok]
            idx = np.clip(np.digitize(p, edges) - 1, 0, bins - 1)
            xs, ys = [], []
            for b in range(bins):
                m = idx == b
                if m.any():
                    xs.append(p[m].mean())
                    ys.append(t[m].mean())
            ax.plot(xs, ys, "o-", ms=3, color=PALETTE[i % len(PALETTE)], lw=1.2, label=label)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_aspect("equal", adjustable="box")
        ax.set_xlabel("predicted probability")
        ax.set_ylabel("observed fraction of positives")
        ax.legend(loc="upper left", fontsize=7)
        return _to_svg(fig)
