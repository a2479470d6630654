"""``discovery data``: list, fetch, verify and describe registered datasets.

Examples
--------
::

    discovery data list
    discovery data info esol
    discovery data fetch esol tox21        # prints one verified local path per file
    discovery data verify                  # exit 3 if any copy's sha256 is wrong

The registry itself is imported inside the handlers so ``discovery --help``
stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from typing import Any, Sequence


def register(parser: argparse.ArgumentParser) -> None:
    """Add the ``list``, ``fetch``, ``verify`` and ``info`` actions to the ``data`` group."""
    sub = parser.add_subparsers(dest="action", metavar="ACTION")

    p = sub.add_parser("list", help="table of registered datasets", description="Table of registered datasets.")
    p.add_argument("--json", action="store_true", help="print the full records as JSON")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser(
        "fetch",
        help="fetch datasets (cache -> mirror -> download) and print their paths",
        description="Fetch every file of the named datasets (cache, then DISCOVERY_DATA_MIRROR, then the "
        "canonical URL unless DISCOVERY_OFFLINE=1), check each sha256, and print one local path per line.",
    )
    p.add_argument("names", nargs="+", metavar="NAME", help="dataset name or alias (case-insensitive)")
    p.add_argument("--base-url", default=None,
                   help="download from BASE_URL/<relpath> instead of the canonical URLs")
    p.set_defaults(func=cmd_fetch)

    p = sub.add_parser(
        "verify",
        help="re-hash cached and mirrored copies; exit 3 on a mismatch",
        description="Re-hash every cached and mirrored copy of the registered files (or one dataset's) and "
        "report ok / missing / mismatch per copy. Exit 3 if any copy mismatches; with --strict, "
        "exit 1 if a file has no copy at all.",
    )
    p.add_argument("name", nargs="?", metavar="NAME", help="only this dataset (default: all)")
    p.add_argument("--strict", action="store_true", help="also fail (exit 1) when a file is missing everywhere")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser(
        "info",
        help="files, URLs, sha256, license, citation, columns and quirks of a dataset",
        description="Everything the registry records about one dataset.",
    )
    p.add_argument("name", metavar="NAME", help="dataset name or alias (case-insensitive)")
    p.add_argument("--json", action="store_true", help="print the record as JSON")
    p.set_defaults(func=cmd_info)


def _table(rows: Sequence[Sequence[Any]], header: Sequence[str], max_width: dict[int, int] | None = None) -> str:
    max_width = max_width or {}
    cells = [[str(c) for c in header]] + [[str(c) for c in r] for r in rows]
    for row in cells[1:]:
        for i, limit in max_width.items():
            if len(row[i]) > limit:
                row[i] = row[i][: limit - 3] + "..."
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def cmd_list(args: argparse.Namespace) -> int:
    from ..data import datasets

    infos = datasets()
    if args.json:
        print(json.dumps([d.to_dict() for d in infos], indent=2))
        return 0
    rows = [(d.name, d.task or "-", len(d.files), d.license, d.description) for d in infos]
    print(_table(rows, ("name", "task", "files", "license", "description"), {4: 70}))
    return 0


def _stderr_progress(relpath: str):
    """Print a download's progress to stderr every 10% (every 10 MB when the size is unknown)."""
    state = {"last": -1}

    def report(done: int, total: int | None) -> None:
        step = 10 * done // total if total else done // (10 << 20)
        if step != state["last"]:
            state["last"] = step
            size = f"{done / 1e6:.1f}/{total / 1e6:.1f} MB" if total else f"{done / 1e6:.1f} MB"
            print(f"  downloading {relpath}: {size}", file=sys.stderr, flush=True)

    return report


def cmd_fetch(args: argparse.Namespace) -> int:
    from urllib.parse import quote

    from ..data import fetch_file, get

    infos = [get(n) for n in args.names]  # fail on a bad name before fetching anything
    for info in infos:
        for f in info.files:
            url = None if args.base_url is None else args.base_url.rstrip("/") + "/" + quote(f.relpath, safe="/")
            print(fetch_file(f, url=url, progress=_stderr_progress(f.relpath)), flush=True)
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from ..data import verify

    results = verify(args.name)
    rows = [(s.dataset, s.relpath, s.location or "-", s.status, s.path or "-") for s in results]
    print(_table(rows, ("dataset", "file", "where", "status", "path")))
    bad = [s for s in results if s.status == "mismatch"]
    missing = [s for s in results if s.status == "missing"]
    for s in bad:
        print(f"error: {s.path}: sha256 {s.actual_sha256}, expected {s.expected_sha256}", file=sys.stderr)
    summary = f"{len(results) - len(bad) - len(missing)} ok, {len(bad)} mismatch, {len(missing)} missing"
    print(summary, file=sys.stderr)
    if bad:
        return 3
    if missing and args.strict:
        return 1
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from ..data import get

    d = get(args.name)
    if args.json:
        print(json.dumps(d.to_dict(), indent=2))
        return 0
    wrap = lambda text, indent="  ": textwrap.fill(text, 100, initial_indent=indent,  # noqa: E731
                                                   subsequent_indent=indent + "  ")
    out = [f"{d.name}: {d.description}"]
    out.append(f"aliases: {', '.join(d.aliases) or '-'}")
    out.append(f"category: {d.category}    task: {d.task or '-'}    rows: {d.n_rows if d.n_rows is not None else '-'}")
    out.append(f"license: {d.license}")
    out.append(f"source: {d.source}")
    if d.smiles_column or d.target_columns:
        out.append(f"smiles column: {d.smiles_column or '-'}")
        out.append(f"target columns ({len(d.target_columns)}): " + ", ".join(repr(c) for c in d.target_columns))
        if d.target_description:
            out.append(wrap("targets: " + d.target_description, ""))
    out.append("files:")
    for f in d.files:
        out.append(f"  {f.relpath}  ({f.bytes:,} bytes, {f.license})")
        out.append(f"    url:    {f.url or '(no direct URL: ' + f.source_path + ' in ' + f.repo + ' ' + f.commit + ')'}")
        out.append(f"    sha256: {f.sha256}")
    out.append("cite:")
    out.extend(wrap("- " + str(c)) for c in d.citations)
    if d.quirks:
        out.append("quirks:")
        out.extend(wrap("- " + q) for q in d.quirks)
    print("\n".join(out))
    return 0
