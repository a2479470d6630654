"""Build a report from result folders: one self-contained HTML file, optionally a PDF.

The report reads, in ten minutes: a summary (what was run, on what data, the
headline numbers with their uncertainty), one section per kind of result (see
:mod:`discovery.reports.registry`), a methods paragraph with numbered
references, software versions and provenance (git commit, config hash, input
sha256 of every folder).

The HTML makes no network request: CSS is inline, every figure is inline SVG,
no scripts or web fonts, and a Content-Security-Policy forbids loading
anything else. It is written atomically (:func:`discovery.fsutil.atomic_path`).
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from .. import __version__
from ..errors import InputError
from .errors import ChromiumNotFoundError, PdfExportError
from ..fsutil import atomic_path
from .html import esc, render_page, table
from .references import ref
from .registry import Reference, ReportOptions, Section, get_section_builder
from .results import ResultFolder, discover_results

log = logging.getLogger(__name__)


@dataclass
class Report:
    """A built report.

    Attributes
    ----------
    title : str
    html : str
        The complete, self-contained HTML document.
    sections : list of Section
        Kind-specific sections in page order.
    references : list of Reference
        Numbered references in order of first citation.
    results : list of ResultFolder
        Every result folder reported.
    """

    title: str
    html: str
    sections: list[Section]
    references: list[Reference]
    results: list[ResultFolder] = field(default_factory=list)


_CITE = re.compile(r"\[@([\w:.\-]+(?:\s*;\s*@[\w:.\-]+)*)\]")


def _number_citations(texts: list[str], refs: Sequence[Reference]) -> tuple[list[str], list[Reference]]:
    """Replace ``[@a; @b]`` markers with ``[1, 2]`` links, numbering in order of first use.

    References with the same DOI count as one work. A marker naming a key no
    section provided is left as it is (and logged).
    """
    by_key: dict[str, Reference] = {}
    canonical: dict[str, str] = {}  # key -> key of the first reference with the same DOI/text
    first_by_identity: dict[str, str] = {}
    for r in refs:
        by_key.setdefault(r.key, r)
        ident = (r.doi or r.text).lower()
        canonical[r.key] = first_by_identity.setdefault(ident, r.key)
    order: list[str] = []

    def repl(m: re.Match) -> str:
        keys = [k.strip().lstrip("@") for k in m.group(1).split(";")]
        unknown = [k for k in keys if k not in canonical]
        if unknown:
            log.warning("citation marker %s names no reference; left as it is", m.group(0))
            return m.group(0)
        nums = []
        for k in keys:
            c = canonical[k]
            if c not in order:
                order.append(c)
            nums.append((order.index(c) + 1, c))
        nums = sorted(set(nums))
        return "[" + ", ".join(f'<a href="#ref-{esc(c)}">{n}</a>' for n, c in nums) + "]"

    out = [_CITE.sub(repl, t) for t in texts]
    # references provided but never cited in text are listed after the cited ones
    for r in refs:
        c = canonical[r.key]
        if c not in order:
            order.append(c)
    return out, [by_key[k] for k in order]


def _software_table(results: Sequence[ResultFolder]) -> str:
    """Versions recorded in manifests (one column per distinct set) and of the report builder."""
    import importlib.metadata as md

    per_pkg: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for r in results:
        for pkg, ver in r.versions.items():
            per_pkg[pkg][ver].append(r.label)
    rows = []
    for pkg in sorted(per_pkg, key=lambda p: (p != "python", p != "discovery", p)):
        vers = per_pkg[pkg]
        if len(vers) == 1:
            (ver, _), = vers.items()
            rows.append([pkg, ver])
        else:
            rows.append([pkg, "; ".join(f"{v} ({len(fs)} folders)" for v, fs in sorted(vers.items()))])
    parts = ['<div class="side">']
    if rows:
        parts.append(table(["package", "version used for the results"], rows, numeric_from=99,
                           caption="As recorded in each result folder's manifest.json."))
    else:
        parts.append('<p class="na">No package versions recorded in the manifests.</p>')
    mine = []
    for pkg in ("discovery", "rdkit", "matplotlib", "jinja2", "numpy", "pandas"):
        try:
            mine.append([pkg, md.version(pkg)])
        except md.PackageNotFoundError:
            continue
    parts.append(table(["package", "version"], mine, numeric_from=99,
                       caption="Used to build this report (drawings, fingerprints, figures)."))
    parts.append("</div>")
    return "".join(parts)


def _provenance(results: Sequence[ResultFolder]) -> str:
    """Per folder: kind, seed, created, git commit, config sha256, command; inputs with sha256."""
    rows = []
    for r in results:
        m = r.manifest
        commit = m.get("git_commit")
        commit_html = f'<code>{esc(commit)}</code>' if commit else '<span class="na">not recorded</span>'
        if commit and str(commit).endswith("+dirty"):
            commit_html += ' <span class="warn">(uncommitted changes)</span>'
        cmd = m.get("command")
        cmd_text = shlex.join(str(c) for c in cmd) if isinstance(cmd, list) else (str(cmd) if cmd else "")
        timings = m.get("timings_s") if isinstance(m.get("timings_s"), dict) else {}
        total = sum(float(v) for v in timings.values() if isinstance(v, (int, float)))
        rows.append([
            f"<code>{esc(r.path)}</code>",
            esc(r.kind),
            esc("—" if r.seed is None else r.seed),
            esc(m.get("created", "not recorded")),
            commit_html,
            f'<code title="sha256 of the manifest config (canonical JSON)">{esc(r.config_hash)}</code>',
            esc(f"{total:.1f}") if timings else '<span class="na">not recorded</span>',
            f"<code>{esc(cmd_text)}</code>" if cmd_text else '<span class="na">not recorded</span>',
        ])
    out = ["<h3>Result folders</h3>",
           table(["folder", "kind", "seed", "created (UTC)", "git commit", "config sha256", "time (s)", "command"],
                 rows, raw=True, numeric_from=99, cls="wide")]
    inputs: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for r in results:
        for name, val in r.inputs.items():
            inputs[(name, str(val.get("path") or ""), str(val.get("sha256") or ""))].append(r.label)
    in_rows = []
    for (name, path, sha), users in sorted(inputs.items()):
        in_rows.append([esc(name), f"<code>{esc(path)}</code>",
                        f"<code>{esc(sha)}</code>" if sha else '<span class="na">not recorded</span>',
                        esc(len(users))])
    out.append("<h3>Inputs</h3>")
    if in_rows:
        out.append(table(["input", "path", "sha256", "folders"], in_rows, raw=True, numeric_from=3, cls="wide"))
    else:
        out.append('<p class="na">No inputs recorded in the manifests.</p>')
    return "".join(out)


def build_report(
    paths: Iterable[str | os.PathLike] | None = None,
    *,
    results: Sequence[ResultFolder] | None = None,
    title: str = "Discovery results",
    options: ReportOptions | None = None,
) -> Report:
    """Build the report for result folders.

    Parameters
    ----------
    paths : iterable of path-like, optional
        Result folders, or folders containing result folders (searched 3 levels
        deep; see :func:`discovery.reports.results.discover_results`).
    results : sequence of ResultFolder, optional
        Already loaded folders (instead of ``paths``).
    title : str
        Report title.
    options : ReportOptions, optional
        Baseline file, number of molecules drawn, applicability-domain threshold.

    Returns
    -------
    Report

    Raises
    ------
    InputError
        No result folder given or found, or a folder is unreadable.
    """
    options = options or ReportOptions()
    if results is None:
        results = discover_results(list(paths or []))
    results = list(results)
    if not results:
        raise InputError("no result folders to report", hint="pass at least one result folder")
    if options.baseline is not None and not Path(options.baseline).is_file():
        raise InputError("baseline file not found", file=str(options.baseline),
                         hint="pass the JSON written by benchmarks/molprop_vs_chemprop.py, or leave --baseline out")

    by_kind: dict[str, list[ResultFolder]] = defaultdict(list)
    for r in results:
        by_kind[r.kind].append(r)
    sections: list[Section] = []
    used_ids: set[str] = set()
    for kind in sorted(by_kind, key=lambda k: (k == "unknown", k)):
        section = get_section_builder(kind)(by_kind[kind], options)
        sid, n = section.id, 2
        while section.id in used_ids:
            section.id = f"{sid}-{n}"
            n += 1
        used_ids.add(section.id)
        sections.append(section)

    common_refs = [ref("rdkit"), ref("matplotlib")]
    common_methods = (
        "Uncertainty in tables and headlines is the mean ± sample standard deviation (n − 1 in the "
        "denominator) over independent runs that differ only in their random seed; a single run is "
        "shown without ± . Values the result folders do not contain are shown as “not reported”, "
        "never estimated. Molecules were drawn and fingerprinted with RDKit [@rdkit]; figures were "
        "drawn with Matplotlib [@matplotlib]. Software versions and the provenance of every result "
        "folder (git commit, sha256 of the configuration and of every input file) follow."
    )
    all_refs = [r for s in sections for r in s.references] + common_refs
    texts = [s.methods for s in sections] + [s.html for s in sections] + [common_methods]
    texts, numbered = _number_citations(texts, all_refs)
    k = len(sections)
    for i, s in enumerate(sections):
        s.methods, s.html = texts[i], texts[k + i]
    common_methods = texts[-1]

    kinds = ", ".join(f"{len(v)} × {kind}" for kind, v in sorted(by_kind.items()))
    n_groups = len({(r.kind, r.dataset, r.model_key) for r in results})
    seeds = sorted({r.seed for r in results if r.seed is not None})
    summary_text = (
        f"This report covers {len(results)} result folder{'s' if len(results) != 1 else ''} ({kinds}) in "
        f"{n_groups} group{'s' if n_groups != 1 else ''} of the same data and configuration"
        + (f", over seed{'s' if len(seeds) != 1 else ''} {', '.join(map(str, seeds))}" if seeds else "")
        + ". Headline numbers are test-set results: mean ± sd over seeds."
    )
    if len(results) <= 6:
        rebuild = "discovery report " + " ".join(shlex.quote(str(r.path)) for r in results) + " -o report.html"
    else:
        parent = Path(os.path.commonpath([str(r.path) for r in results]))
        rebuild = f"discovery report {shlex.quote(str(parent))} -o report.html"
    created = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    page = render_page(
        title=title, created=created, version=__version__, n_results=len(results), sections=sections,
        summary_text=summary_text, common_methods=common_methods, references=numbered,
        software=_software_table(results), provenance=_provenance(results), rebuild=rebuild,
    )
    return Report(title=title, html=page, sections=sections, references=numbered, results=results)


def write_report(report: Report | str, out: str | os.PathLike) -> Path:
    """Write the HTML atomically (a reader never sees a half-written file).

    Parameters
    ----------
    report : Report or str
        A built report, or its HTML.
    out : path-like
        Destination ``.html`` file; parent folders are created.

    Returns
    -------
    Path
        ``out``.
    """
    text = report.html if isinstance(report, Report) else report
    out = Path(out)
    with atomic_path(out) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return out


def find_chromium() -> str | None:
    """Path of a headless-capable Chromium/Chrome, or None.

    ``DISCOVERY_CHROMIUM`` (a path) wins; then ``chromium``, ``chromium-browser``,
    ``google-chrome``, ``google-chrome-stable`` on ``PATH``.
    """
    env = os.environ.get("DISCOVERY_CHROMIUM")
    if env:
        return env if Path(env).is_file() and os.access(env, os.X_OK) else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def chromium_flags(user_data_dir: str | os.PathLike) -> list[str]:
    """Flags for a headless Chromium that talks to nobody (no sync, updates, first-run pages)."""
    return [
        "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-extensions", "--disable-default-apps", "--disable-dev-shm-usage",
        "--metrics-recording-only", "--mute-audio", f"--user-data-dir={user_data_dir}",
    ]


def export_pdf(html_path: str | os.PathLike, pdf_path: str | os.PathLike, *, timeout_s: float = 120.0) -> Path:
    """Print an HTML report to PDF with headless Chromium.

    Parameters
    ----------
    html_path : path-like
        The report (a local file).
    pdf_path : path-like
        Destination; written atomically.
    timeout_s : float
        Give up after this many seconds.

    Returns
    -------
    Path
        ``pdf_path``.

    Raises
    ------
    ChromiumNotFoundError
        No Chromium on this machine (the message says how to install it).
    PdfExportError
        Chromium failed or wrote no PDF (its output is in the message).
    """
    exe = find_chromium()
    if exe is None:
        raise ChromiumNotFoundError(
            "PDF export needs headless Chromium, which is not installed (the HTML report was written)",
            hint="run scripts/install-chromium.sh (Debian/Ubuntu: apt-get install chromium), "
                 "or set DISCOVERY_CHROMIUM to a Chrome/Chromium executable",
        )
    html_path = Path(html_path).resolve()
    if not html_path.is_file():
        raise InputError("HTML report not found", file=str(html_path))
    pdf_path = Path(pdf_path)
    with tempfile.TemporaryDirectory(prefix="discovery-chromium-") as profile, atomic_path(pdf_path) as tmp:
        cmd = [exe, *chromium_flags(profile), "--no-pdf-header-footer", "--run-all-compositor-stages-before-draw",
               f"--print-to-pdf={Path(tmp).resolve()}", html_path.as_uri()]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired as err:
            raise PdfExportError(f"Chromium did not finish printing within {timeout_s:.0f} s",
                                 file=str(html_path)) from err
        ok = Path(tmp).is_file() and Path(tmp).stat().st_size > 0 and Path(tmp).read_bytes()[:5] == b"%PDF-"
        if proc.returncode != 0 or not ok:
            tail = (proc.stderr or proc.stdout or "").strip()[-1500:]
            raise PdfExportError(f"Chromium exited with code {proc.returncode} and wrote no PDF: {tail}",
                                 file=str(html_path))
    return pdf_path
