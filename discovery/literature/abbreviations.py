"""Abbreviation definitions by the Schwartz-Hearst algorithm.

Schwartz, A. S.; Hearst, M. A. A simple algorithm for identifying abbreviation
definitions in biomedical text. Pac. Symp. Biocomput. 2003, 451-462.

Finds ``long form (SF)`` patterns (and ``SF (long form)``), and accepts a long
form when the short form's characters can be matched right to left inside it,
the first character of the short form starting a word of the long form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PAREN = re.compile(r"\(([^()]{1,60})\)")


@dataclass(frozen=True)
class Abbreviation:
    """A short form defined in the text, with both spans (character offsets, end exclusive)."""

    short: str
    long: str
    short_start: int
    short_end: int
    long_start: int
    long_end: int


def _valid_short(sf: str) -> bool:
    if not (2 <= len(sf) <= 10):
        return False
    if len(sf.split()) > 2:
        return False
    if not sf[0].isalnum():
        return False
    return any(c.isalpha() for c in sf)


def best_long_form(short: str, long: str) -> int | None:
    """Start index in ``long`` of the shortest long form that explains ``short``, or None.

    Characters of ``short`` are matched right to left; the first character must
    begin a word of the long form.
    """
    s = len(short) - 1
    l_idx = len(long) - 1
    while s >= 0:
        c = short[s].lower()
        if not c.isalnum():
            s -= 1
            continue
        while l_idx >= 0 and (long[l_idx].lower() != c or (s == 0 and l_idx > 0 and long[l_idx - 1].isalnum())):
            l_idx -= 1
        if l_idx < 0:
            return None
        l_idx -= 1
        s -= 1
    start = long.rfind(" ", 0, l_idx + 1) + 1
    return start


def find_abbreviations(text: str) -> list[Abbreviation]:
    """All ``long form (SHORT)`` definitions in ``text``.

    Examples
    --------
    >>> a = find_abbreviations("plasma renin activity (PRA) fell")[0]
    >>> (a.short, a.long)
    ('PRA', 'plasma renin activity')
    """
    out: list[Abbreviation] = []
    for m in _PAREN.finditer(text):
        inner = m.group(1)
        # "(SF, ...)" or "(SF; ...)": the short form is the first part
        sf = re.split(r"[;,]\s", inner)[0].strip()
        sf_start = m.start(1) + inner.find(sf)
        if _valid_short(sf):
            n_words = min(len(sf) + 5, len(sf) * 2)
            # only the text just before the parenthesis matters: at most n_words words
            lo = max(0, m.start() - 40 * n_words)
            before = text[lo: m.start()].rstrip()
            words = list(re.finditer(r"\S+", before))[-n_words:]
            if not words:
                continue
            if lo > 0 and words[0].start() == 0:
                words = words[1:]  # possibly cut in the middle
                if not words:
                    continue
            window_start = words[0].start()
            window = before[window_start:]
            start = best_long_form(sf, window)
            if start is None:
                continue
            long = window[start:]
            if len(long) <= len(sf) or sf.lower() in long.lower().split():
                continue
            # shrink the window to the words actually used
            out.append(Abbreviation(sf, long, sf_start, sf_start + len(sf),
                                    lo + window_start + start, lo + window_start + start + len(long)))
    return out
