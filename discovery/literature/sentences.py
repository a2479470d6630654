"""Sentence boundaries for abstracts (rule-based, offset-preserving)."""

from __future__ import annotations

import re

# a boundary: . ! or ? then space(s), then an upper-case letter, digit or bracket;
# not after common abbreviations (e.g., i.e., vs., et al., Dr., Fig.) or a single capital initial
_BOUNDARY = re.compile(r"[.!?](?=\s+[A-Z0-9(\[])")
_NO_SPLIT_BEFORE = re.compile(r"(?:\b(?:e\.g|i\.e|vs|et al|Dr|Fig|Figs|No|approx|ca|cf|Ref|St|Mr|Mrs|Ms|Jr|Inc|Co|Ltd|i\.v|i\.p|s\.c|p\.o)|\b[A-Z])$")


def split_sentences(text: str, title_end: int | None = None) -> list[tuple[int, int]]:
    """Character spans ``(start, end)`` of the sentences of ``text`` (end exclusive, stripped).

    Parameters
    ----------
    text : str
    title_end : int, optional
        Offset where the title ends (``len(title)``); the title is always its own sentence.
    """
    spans: list[tuple[int, int]] = []
    bounds = [0]
    if title_end:
        bounds.append(title_end)
    for m in _BOUNDARY.finditer(text):
        if _NO_SPLIT_BEFORE.search(text, max(0, m.start() - 8), m.start()):
            continue
        bounds.append(m.end())
    bounds.append(len(text))
    bounds = sorted(set(bounds))
    for s, e in zip(bounds, bounds[1:]):
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            spans.append((s, e))
    return spans
