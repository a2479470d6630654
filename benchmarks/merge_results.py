"""Copy each capability's results section (``benchmarks/results/<name>.md``) into ``RESULTS.md``.

Every benchmark script writes its own section file; this keeps ``RESULTS.md``
the one place to read them, between ``<!-- <name>:begin -->`` and
``<!-- <name>:end -->`` markers (replaced in place, appended when new).
Top-level ``#`` headings of a section become ``##``.

Usage: ``python benchmarks/merge_results.py [NAME ...]`` (default: every section file).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
#: section files merged by default, in this order (molprop.md holds its own markers)
SECTIONS = ("screening", "targets", "literature", "cohorts", "gpu")


def merge(text: str, name: str, body: str) -> str:
    body = body.strip()
    if f"<!-- {name}:begin -->" not in body:
        body = re.sub(r"^# ", "## ", body, flags=re.M)
        body = f"<!-- {name}:begin -->\n{body}\n<!-- {name}:end -->"
    pattern = re.compile(rf"<!-- {re.escape(name)}:begin -->.*?<!-- {re.escape(name)}:end -->", re.S)
    if pattern.search(text):
        return pattern.sub(lambda _: body, text)
    return text.rstrip() + "\n\n" + body + "\n"


def main(argv: list[str]) -> int:
    text = RESULTS.read_text()
    for name in argv or SECTIONS:
        path = HERE / "results" / f"{name}.md"
        if path.is_file():
            text = merge(text, name, path.read_text())
            print(f"merged {path.relative_to(HERE.parent)}")
    RESULTS.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
