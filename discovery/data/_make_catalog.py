"""Generate :mod:`discovery.data.catalog` from the data mirror's ``MANIFEST.tsv``.

The hand-written part of each registry entry (names, descriptions, citations,
columns, quirks) lives in ``discovery/data/specs/<category>.py``; the pinned part (canonical URL,
sha256, bytes, license, source repository and commit) is read from the
manifest, and the column names and row count are read from the files
themselves, so a spec whose columns do not match the real header fails here,
not in a user's run.

Usage::

    python -m discovery.data._make_catalog                # rewrite catalog.py
    python -m discovery.data._make_catalog --check        # exit 1 if catalog.py is stale
    python -m discovery.data._make_catalog --mirror DIR   # default: $DISCOVERY_DATA_MIRROR

To register a new dataset (a KG, a corpus, a cohort), add a spec to
``SPECS`` of ``specs/<category>.py`` with its ``files`` (mirror-relative paths or folder prefixes
ending in ``/``) and run this script; commit the regenerated ``catalog.py``.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import pprint
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

CATALOG_PATH = Path(__file__).with_name("catalog.py")

def load_specs() -> tuple[list[dict[str, Any]], dict[str, dict[str, str | None]]]:
    """Every spec and citation from the modules of :mod:`discovery.data.specs`.

    Each module there (one per data category: molecules, kg, literature, cohorts,
    proteins, ...) defines ``SPECS`` (a list of dataset specs) and may define
    ``CITATIONS`` (key -> {text, doi, url}); a spec may cite keys from any module.
    Modules are read in name order, ``molecules`` first.
    """
    import importlib
    import pkgutil

    from . import specs as _pkg

    names = sorted((m.name for m in pkgutil.iter_modules(_pkg.__path__)), key=lambda n: (n != "molecules", n))
    all_specs: list[dict[str, Any]] = []
    citations: dict[str, dict[str, str | None]] = {}
    for name in names:
        mod = importlib.import_module(f"{_pkg.__name__}.{name}")
        for key, cit in getattr(mod, "CITATIONS", {}).items():
            if key in citations and citations[key] != cit:
                raise SystemExit(f"citation {key!r} defined differently in specs.{name}")
            citations[key] = cit
        all_specs.extend(getattr(mod, "SPECS", []))
    seen: set[str] = set()
    for s in all_specs:
        if s["name"] in seen:
            raise SystemExit(f"dataset {s['name']!r} is specified twice")
        seen.add(s["name"])
    return all_specs, citations


def read_manifest(path: Path) -> dict[str, dict[str, str]]:
    """Rows of ``MANIFEST.tsv`` keyed by mirror-relative file path."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    required = {"file", "repo", "commit", "path", "bytes", "sha256", "license"}
    missing = required - set(rows[0] if rows else ())
    if missing:
        raise SystemExit(f"{path}: header lacks columns {sorted(missing)}")
    return {r["file"]: r for r in rows}


def canonical_url(repo: str, commit: str, path: str) -> str | None:
    """``https://raw.githubusercontent.com/<repo>/<commit>/<path>`` (URL-encoded), or None for pypi files."""
    if repo.startswith("pypi:"):
        return None
    return "https://raw.githubusercontent.com/" + "/".join(quote(p, safe="") for p in (*repo.split("/"), commit)) + "/" + quote(path, safe="/")


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def read_table_shape(path: Path) -> tuple[list[str], int]:
    """Header and number of data rows of a CSV/TSV (optionally gzipped) file."""
    delim = "\t" if ".tsv" in path.suffixes else ","
    with _open_text(path) as fh:
        reader = csv.reader(fh, delimiter=delim)
        header = next(reader)
        n = sum(1 for _ in reader)
    return header, n


def build_entry(
    spec: dict[str, Any], manifest: dict[str, dict[str, str]], mirror: Path,
    citations: dict[str, dict[str, str | None]],
) -> dict[str, Any]:
    """Resolve one spec into a catalog record, checking columns against the real file."""
    relpaths: list[str] = []
    for f in spec["files"]:
        if f.endswith("/"):
            hits = sorted(p for p in manifest if p.startswith(f))
            if not hits:
                raise SystemExit(f"{spec['name']}: no manifest file under {f!r}")
            relpaths.extend(hits)
        elif f in manifest:
            relpaths.append(f)
        else:
            raise SystemExit(f"{spec['name']}: {f!r} is not in the manifest")
    files = []
    for rel in relpaths:
        row = manifest[rel]
        files.append(
            {
                "relpath": rel,
                "url": canonical_url(row["repo"], row["commit"], row["path"]),
                "sha256": row["sha256"].lower(),
                "bytes": int(row["bytes"]),
                "license": row["license"],
                "repo": row["repo"],
                "commit": row["commit"],
                "source_path": row["path"],
            }
        )
    rec: dict[str, Any] = {
        "name": spec["name"],
        "aliases": list(spec.get("aliases", [])),
        "description": spec["description"],
        "category": spec["category"],
        "files": files,
        "citations": [
            {"key": k, "text": citations[k]["text"], "doi": citations[k].get("doi"), "url": citations[k].get("url")}
            for k in spec.get("citations", [])
        ],
    }
    first = files[0]
    # a spec's source may name {repo}, {commit} and {source_path} of its first file
    source = spec.get("source", "{repo} at {commit}")
    rec["source"] = source.format(repo=first["repo"], commit=first["commit"], source_path=first["source_path"])
    table = spec.get("table", relpaths[0] if spec.get("smiles_column") else None)
    if table is not None:
        header, n_rows = read_table_shape(mirror / table)
        smiles = spec.get("smiles_column")
        if smiles is not None and smiles not in header:
            raise SystemExit(f"{spec['name']}: SMILES column {smiles!r} not in header of {table}: {header}")
        targets = spec.get("target_columns", [])
        if targets == "*":
            targets = [c for c in header if c != smiles]
        absent = [t for t in targets if t not in header]
        if absent:
            raise SystemExit(f"{spec['name']}: target columns {absent} not in header of {table}: {header}")
        rec.update(
            task=spec.get("task"),
            table=table,
            smiles_column=smiles,
            target_columns=list(targets),
            target_description=spec.get("target_description", ""),
            n_rows=n_rows,
        )
    rec["quirks"] = list(spec.get("quirks", []))
    return rec


def render(entries: list[dict[str, Any]], manifest_name: str) -> str:
    body = pprint.pformat(entries, indent=1, width=110, sort_dicts=False)
    return (
        '"""Registered datasets: GENERATED by ``python -m discovery.data._make_catalog``; do not edit.\n\n'
        "Pinned fields (url, sha256, bytes, license, repo, commit, source_path) come from the data\n"
        f"mirror's {manifest_name}; column names and row counts were read from the files; the rest is\n"
        "the hand-written specs in ``discovery/data/specs/``. Edit there and regenerate.\n"
        '"""\n\n'
        "from typing import Any\n\n"
        f"DATASETS: list[dict[str, Any]] = {body}\n"
    )


README_PATH = Path(__file__).resolve().parents[2] / "data" / "README.md"
README_BEGIN = "<!-- registered-files:begin -->"
README_END = "<!-- registered-files:end -->"
#: datasets with more files than this get one row for their folder (hashes: catalog and MANIFEST.tsv)
README_MAX_FILES = 20


def render_readme_files(entries: list[dict[str, Any]]) -> str:
    """Markdown table of every registered file (path, bytes, sha256, license, source commit)."""
    lines = [
        README_BEGIN,
        "All registered files (GENERATED by `python -m discovery.data._make_catalog`): path in the",
        "mirror and cache, size, sha256, license and source repository at its pinned commit.",
        "",
        "| dataset | file | bytes | sha256 | license | source |",
        "|---|---|---|---|---|---|",
    ]
    for e in entries:
        files = e["files"]
        if len(files) > README_MAX_FILES:
            folder = files[0]["relpath"].rsplit("/", 1)[0] + "/"
            total = sum(f["bytes"] for f in files)
            commits = sorted({f"{f['repo']}@{f['commit']}" for f in files})
            lines.append(f"| `{e['name']}` | `{folder}` ({len(files):,} files) | {total:,} | in the catalog and "
                         f"MANIFEST.tsv | {files[0]['license']} | {', '.join(commits)} |")
            continue
        for f in files:
            lines.append(f"| `{e['name']}` | `{f['relpath']}` | {f['bytes']:,} | `{f['sha256']}` | {f['license']} | "
                         f"{f['repo']}@{f['commit']} |")
    lines.append(README_END)
    return "\n".join(lines)


def update_readme(text: str, table: str) -> str:
    """``text`` (data/README.md) with the generated table between its markers."""
    if README_BEGIN not in text or README_END not in text:
        raise SystemExit(f"{README_PATH}: markers {README_BEGIN} / {README_END} not found")
    head, rest = text.split(README_BEGIN, 1)
    _, tail = rest.split(README_END, 1)
    return head + table + tail


def generate_all(mirror: Path) -> tuple[str, str, int]:
    """(catalog.py text, registered-files table, number of datasets) from the manifest and the specs."""
    manifest = read_manifest(mirror / "MANIFEST.tsv")
    specs, citations = load_specs()
    entries = [build_entry(s, manifest, mirror, citations) for s in specs]
    return render(entries, "MANIFEST.tsv"), render_readme_files(entries), len(entries)


def main(argv: list[str] | None = None) -> int:
    import os

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mirror", default=os.environ.get("DISCOVERY_DATA_MIRROR"),
                    help="data mirror folder holding MANIFEST.tsv (default: $DISCOVERY_DATA_MIRROR)")
    ap.add_argument("--check", action="store_true", help="do not write; exit 1 if catalog.py differs")
    args = ap.parse_args(argv)
    if not args.mirror:
        ap.error("no mirror: pass --mirror or set DISCOVERY_DATA_MIRROR")
    text, table, n_datasets = generate_all(Path(args.mirror))
    current = CATALOG_PATH.read_text(encoding="utf-8") if CATALOG_PATH.exists() else ""
    readme = README_PATH.read_text(encoding="utf-8") if README_PATH.exists() else None
    if args.check:
        stale = [str(CATALOG_PATH)] if text != current else []
        if readme is not None and update_readme(readme, table) != readme:
            stale.append(f"{README_PATH} (registered files table)")
        if stale:
            print(f"stale: {', '.join(stale)}; regenerate with python -m discovery.data._make_catalog", file=sys.stderr)
            return 1
        print(f"{CATALOG_PATH} is up to date")
        return 0
    from ..fsutil import atomic_write_text

    atomic_write_text(CATALOG_PATH, text)
    if readme is not None:
        atomic_write_text(README_PATH, update_readme(readme, table))
    print(f"wrote {CATALOG_PATH} ({n_datasets} datasets)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
