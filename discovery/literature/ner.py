"""Offline named-entity recognition: a compiled dictionary matcher.

Text is split into word and punctuation tokens (``\\w+`` runs and single
other characters); each token is normalized (lower case, a plural ``s``/``es``
/``ies`` reduced) and the longest dictionary entry starting at each token is
taken, left to right, so ``"acute renal failure"`` wins over ``"renal failure"``.

Case: a term whose letters after the first include a capital (``NO``, ``cAMP``,
``5-FU``), a term of at most three characters, and every gene symbol match only
in the spellings seen (plus an initial capital), so ``"NO"`` (nitric oxide) does
not fire on ``"no"``.

Abbreviations (Schwartz-Hearst, :mod:`.abbreviations`): when a long form is
recognised, its short form is tagged everywhere in that document with the same
type and id; a short form whose definition in this document is *not* an entity
of the short form's type is suppressed.

Training data (PubTator, e.g. the BC5CDR training set) enrich and prune the
dictionary (:meth:`DictionaryNER.fit`): annotated mention texts are added with
their most frequent type and id, and a term whose matches in the training
texts are mostly not annotated (precision below ``min_precision`` over at least
``min_count`` matches) is removed, which is how ambiguous words (``"drug"``,
``"lead"``, ``"cold"``) leave the dictionary.

The compiled matcher is a plain dict of token tuples and serialises to JSON
(:meth:`DictionaryNER.save` / :meth:`DictionaryNER.load`).
"""

from __future__ import annotations

import gzip
import json
import os
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from ..errors import InputError, ModelFormatError
from .abbreviations import find_abbreviations
from .documents import Document, Mention
from .vocab import Term

FORMAT_VERSION = 1

_TOKEN = re.compile(r"\w+|[^\w\s]")

#: Ambiguous short words that are never entities on their own, whatever a vocabulary says.
STOP_LIST = frozenset("""
a an and are as at be but by can for from had has have he her his i in is it its may no not of on or she
that the their them they this to was we were which who will with all also any been both case cases
control controls day days drug drugs effect effects group groups high low normal patient patients rat rats
dose doses rate role study studies time times treatment use used mg kg ml one two three type total
level levels acid acids agent agents compound compounds substance substances protein proteins salt salts
disease diseases disorder disorders syndrome syndromes injury injuries lesion lesions symptom symptoms
pain death deaths toxicity damage abnormality abnormalities water oxygen air light heat cold lead gold
iron ion ions tin arm arms cell cells blood serum plasma tissue tissues mass age sex men women male female
set sets can may per via p t cm nm mm mol
""".split())

#: Upper-case abbreviations of biomedical prose that are also HGNC symbols or aliases.
GENE_STOP = frozenset("""
ADD AIM ALL AML ANOVA ARC ATP AUC BAD BMI BPH CAD CAT CHF CKD CLL CML CNS COPD CPR CSF CTA DCS DNA ECG EEG
EMG ESR FDA GAP HDL HIV HPV HRT ICU IGF LDL LPS MAP MCA MRI NMR NOS PAH PCR PET RNA ROC ROS SAH SEM SET SHR SLE
STAR TAT TPA USA WHO CAMP IMPACT MASS PAGE SPECT TIME TRIAL TRAP WAS CAPS CELL
""".split())
_ROMAN = re.compile(r"^(?=[IVXLC]+$)M*(C[MD]|D?C{0,3})(X[CL]|L?X{0,3})(I[XV]|V?I{0,3})$")

_PREV_WORD = re.compile(r"(\w[\w'-]*)\s+$")
_NEXT_WORD = re.compile(r"\s+(\w[\w'-]*)")

_PRIORITY = {"gold": 0, "mesh": 1, "ctd": 2, "drugbank": 3, "hgnc-symbol": 4, "hgnc-alias": 5, "hgnc-name": 4}


def _norm_token(tok: str, _cache: dict[str, str] = {}) -> str:  # noqa: B006 - deliberate memo
    hit = _cache.get(tok)
    if hit is not None:
        return hit
    t = tok.lower()
    if len(t) > 4 and t.isalpha():
        # British spellings: anaemia/anemia, oedema/edema, oestrogen/estrogen, haemorrhage/hemorrhage
        if "ae" in t or "oe" in t:
            t = t.replace("ae", "e").replace("oe", "e")
        if t.endswith("ies"):
            t = t[:-3] + "y"
        elif t.endswith("ses") or t.endswith("xes") or t.endswith("ches") or t.endswith("shes"):
            t = t[:-2]
        elif t.endswith("s") and not t.endswith(("ss", "us", "is", "ys")):
            t = t[:-1]
    if len(_cache) < 2_000_000:
        _cache[tok] = t
    return t


class _NormCache(dict):
    """token -> normalized token; lookups of known tokens stay in C (``map(cache.__getitem__, ...)``)."""

    def __missing__(self, tok: str) -> str:
        t = _norm_token(tok)
        if len(self) < 2_000_000:
            self[tok] = t
        return t


_NORM = _NormCache()
_SPAN = re.Match.span
_GROUP = re.Match.group


def tokenize_arrays(text: str) -> tuple[list[str], list[tuple[int, int]]]:
    """Normalized tokens and their ``(start, end)`` spans (fast path of :func:`tokenize`)."""
    ms = list(_TOKEN.finditer(text))
    return list(map(_NORM.__getitem__, map(_GROUP, ms))), list(map(_SPAN, ms))


def tokenize(text: str) -> list[tuple[str, int, int]]:
    """Tokens of ``text`` as ``(normalized, start, end)``."""
    norms, spans = tokenize_arrays(text)
    return [(n, s, e) for n, (s, e) in zip(norms, spans)]


def term_key(text: str) -> str:
    """Dictionary key of a surface form: normalized tokens joined by a space."""
    return " ".join(_norm_token(m.group()) for m in _TOKEN.finditer(text))


def _case_sensitive(text: str, type_: str, source: str) -> bool:
    if source == "hgnc-symbol" or source == "hgnc-alias":
        return True
    if len(text) <= 3:
        return True
    # acronyms and formulas (NO, cAMP, 5-FU, HCl): a capital inside a word; Title Case is not enough
    for m in _TOKEN.finditer(text):
        w = m.group()
        if len(w) > 1 and any(c.isupper() for c in w[1:]):
            return True
    return False


@dataclass
class Entry:
    """A compiled dictionary entry (one normalized key)."""

    type: str
    id: str
    source: str
    surfaces: set[str] | None = None  # None: any case; else the exact spellings allowed

    def to_json(self) -> list:
        return [self.type, self.id, self.source, sorted(self.surfaces) if self.surfaces is not None else None]

    @classmethod
    def from_json(cls, v: list) -> "Entry":
        return cls(v[0], v[1], v[2], set(v[3]) if v[3] is not None else None)


@dataclass
class NERConfig:
    """Knobs of the matcher, tuned on BC5CDR train/dev (see ``benchmarks/literature.py``)."""

    min_precision: float = 0.5
    min_count: int = 2
    abbreviations: bool = True
    suppress_undefined_short_forms: bool = True
    types: tuple[str, ...] = ("Chemical", "Disease", "Gene")
    #: MeSH chemical terms all of whose tree numbers fall under these branches are left out
    #: (D05 macromolecular substances, D08 enzymes, D26 pharmaceutical preparations, D27 chemical
    #: actions and uses: "antidepressant", "vaccine"), D12 proteins and peptides (tuned on BC5CDR dev);
    #: annotated training mentions come back in.
    mesh_exclude_trees: tuple[str, ...] = ("D05", "D08", "D12", "D26", "D27")


class DictionaryNER:
    """Longest-match dictionary tagger with abbreviation resolution.

    Parameters
    ----------
    entries : dict
        Normalized key (:func:`term_key`) -> :class:`Entry`.
    config : NERConfig
    """

    def __init__(self, entries: dict[str, Entry] | None = None, config: NERConfig | None = None) -> None:
        self.entries: dict[str, Entry] = dict(entries or {})
        self.config = config or NERConfig()
        self.stats: dict[str, object] = {}
        #: learned span extensions: {type: {"prefix": set of words, "suffix": set of words}}
        self.modifiers: dict[str, dict[str, set[str]]] = {}
        self._index()

    # ------------------------------------------------------------------ building
    def _index(self) -> None:
        # proper prefixes of multi-token keys: the walk extends a candidate only while it is a prefix
        prefixes: set[str] = set()
        for key in self.entries:
            if " " in key:
                parts = key.split(" ")
                acc = parts[0]
                prefixes.add(acc)
                for p in parts[1:-1]:
                    acc = acc + " " + p
                    prefixes.add(acc)
        self._prefixes = prefixes
        # one lookup per step of the walk: key -> (entry or None, key is a proper prefix of a longer key)
        table: dict[str, tuple[Entry | None, bool]] = {k: (None, True) for k in prefixes}
        for k, e in self.entries.items():
            table[k] = (e, k in prefixes)
        self._table = table

    @classmethod
    def from_terms(cls, terms: Iterable[Term], config: NERConfig | None = None,
                   stop_list: frozenset[str] = STOP_LIST) -> "DictionaryNER":
        """Compile vocabulary terms; on a key clash the higher-priority source wins
        (MeSH > CTD > DrugBank > HGNC), then the first seen."""
        config = config or NERConfig()
        entries: dict[str, Entry] = {}
        excl = set(config.mesh_exclude_trees)
        terms = list(terms)
        # cross-vocabulary normalization: a DrugBank drug any of whose names is a MeSH chemical
        # term takes that MeSH id (BC5CDR and CTD speak MeSH)
        mesh_chem: dict[str, str] = {}
        for t in terms:
            if t.source == "mesh" and t.type == "Chemical":
                mesh_chem.setdefault(term_key(t.text), t.id)
        db_to_mesh: dict[str, str] = {}
        for t in terms:
            if t.source == "drugbank" and t.id not in db_to_mesh:
                hit = mesh_chem.get(term_key(t.text))
                if hit:
                    db_to_mesh[t.id] = hit
        for t in terms:
            if t.type not in config.types:
                continue
            if t.trees and t.type == "Chemical" and all(x in excl for x in t.trees.split("|")):
                continue
            text = t.text.strip()
            if len(text) < 2 or len(text) > 120:
                continue
            if t.source in ("hgnc-alias", "hgnc-symbol") and (len(text) < 3 or text.upper() in GENE_STOP
                                                               or _ROMAN.match(text)):
                continue  # CI, II, OR, HR, H2...: abbreviations of everyday biomedical prose, not genes
            key = term_key(text)
            if not key or key.isdigit():
                continue
            cs = _case_sensitive(text, t.type, t.source)
            # the stop-list holds lower-case words; an acronym spelled in capitals ("NO") stays
            if key in stop_list and not (cs and text != text.lower()):
                continue
            old = entries.get(key)
            if old is not None:
                if old.type == t.type and old.surfaces is not None and cs:
                    old.surfaces.update({text, text[:1].upper() + text[1:]})
                if _PRIORITY.get(old.source, 9) <= _PRIORITY.get(t.source, 9):
                    continue
            tid = db_to_mesh.get(t.id, t.id) if t.source == "drugbank" else t.id
            entries[key] = Entry(t.type, tid, t.source, {text, text[:1].upper() + text[1:]} if cs else None)
        # MeSH ids for DrugBank entries whose name is a MeSH term are already preferred by priority.
        return cls(entries, config)

    def fit(self, docs: Sequence[Document], rounds: int = 2) -> "DictionaryNER":
        """Enrich with the annotated mentions of ``docs`` and prune low-precision terms.

        Returns ``self``; ``self.stats`` records how many terms were added and removed.
        """
        cfg = self.config
        types: dict[str, Counter] = defaultdict(Counter)
        ids: dict[str, Counter] = defaultdict(Counter)
        surf: dict[str, set[str]] = defaultdict(set)
        for d in docs:
            for m in d.mentions:
                if m.type not in cfg.types:
                    continue
                key = term_key(m.text)
                if not key:
                    continue
                types[key][m.type] += 1
                if m.id:
                    ids[key][m.id.split("|")[0]] += 1
                surf[key].add(m.text)
        # modifiers are learned against the dictionary *before* it absorbs the annotations,
        # so that they generalise to unseen "modifier + known term" spans
        self._learn_modifiers(docs)
        added = 0
        for key, tc in types.items():
            typ = tc.most_common(1)[0][0]
            mid = ids[key].most_common(1)[0][0] if ids[key] else None
            old = self.entries.get(key)
            sample = next(iter(surf[key]))
            cs = _case_sensitive(sample, typ, "gold")
            if old is None:
                added += 1
            entry = Entry(typ, mid or (old.id if old else f"TEXT:{key}"), "gold",
                          (set(surf[key]) | {s[:1].upper() + s[1:] for s in surf[key]}) if cs else None)
            if old is not None and old.type == typ and not mid:
                entry.id = old.id
            self.entries[key] = entry
        self._index()
        removed: list[str] = []
        for _ in range(rounds):
            tp: Counter = Counter()
            n: Counter = Counter()
            for d in docs:
                gold = {(m.start, m.end, m.type) for m in d.mentions}
                for m in self._match(d.text):
                    key = term_key(m.text)
                    n[key] += 1
                    if (m.start, m.end, m.type) in gold:
                        tp[key] += 1
            drop = [k for k, c in n.items() if c >= cfg.min_count and tp[k] / c < cfg.min_precision
                    and self.entries[k].type in ("Chemical", "Disease")]
            # single unannotated hits of terms that never appear annotated anywhere
            drop += [k for k, c in n.items() if c < cfg.min_count and tp[k] == 0 and k not in types
                     and self.entries[k].type in ("Chemical", "Disease") and len(k) <= 4]
            if not drop:
                break
            for k in drop:
                self.entries.pop(k, None)
            removed.extend(drop)
            self._index()
        self.stats = {"modifiers": {t: {k: len(v) for k, v in d.items()} for t, d in self.modifiers.items()},
                      "terms_added_from_training": added, "terms_pruned": len(removed),
                      "pruned_examples": sorted(removed)[:30], "terms": len(self.entries)}
        return self

    def _learn_modifiers(self, docs: Sequence[Document]) -> None:
        """Words that extend a matched mention in the annotations (``postoperative`` + ``delirium``).

        For each word directly before (after) a dictionary match, count how often
        the annotated mention spans the word too; keep words with at least
        ``min_count`` such cases and precision >= ``min_precision``.
        """
        cfg = self.config
        pos: Counter = Counter()
        tot: Counter = Counter()
        self.modifiers = {}
        for d in docs:
            text = d.text
            gold = {(m.start, m.end, m.type) for m in d.mentions}
            for m in self._match(text):
                pm = _PREV_WORD.search(text, max(0, m.start - 40), m.start)
                if pm:
                    k = ("prefix", m.type, pm.group(1).lower())
                    tot[k] += 1
                    if (pm.start(1), m.end, m.type) in gold:
                        pos[k] += 1
                nm = _NEXT_WORD.match(text, m.end)
                if nm:
                    k = ("suffix", m.type, nm.group(1).lower())
                    tot[k] += 1
                    if (m.start, nm.end(1), m.type) in gold:
                        pos[k] += 1
        for (side, typ, w), c in tot.items():
            if pos[(side, typ, w)] >= cfg.min_count and pos[(side, typ, w)] / c >= cfg.min_precision:
                self.modifiers.setdefault(typ, {"prefix": set(), "suffix": set()})[side].add(w)

    # ------------------------------------------------------------------ matching
    def _match(self, text: str, extend: bool = False) -> list[Mention]:
        norms, spans = tokenize_arrays(text)
        table = self._table
        mods = self.modifiers if extend else None
        out: list[Mention] = []
        n = len(norms)
        i = 0
        while i < n:
            key = norms[i]
            v = table.get(key)
            if v is None:
                i += 1
                continue
            best = None
            j = i
            while True:
                e, more = v
                if e is not None and (e.surfaces is None or text[spans[i][0]:spans[j][1]] in e.surfaces):
                    best = (j, e)
                if not more or j + 1 >= n:
                    break
                j += 1
                key = key + " " + norms[j]
                v = table.get(key)
                if v is None:
                    break
            if best is None:
                i += 1
                continue
            j, e = best
            s, end = spans[i][0], spans[j][1]
            src = "dict"
            if mods:
                md = mods.get(e.type)
                if md:
                    # learned modifiers: "postoperative" + delirium, "vitamin" ... "C"
                    if i > 0 and norms[i - 1].isalpha() and (not out or out[-1].end <= spans[i - 1][0]) \
                            and text[spans[i - 1][1]:s].isspace() and text[spans[i - 1][0]:spans[i - 1][1]].lower() in md["prefix"]:
                        s = spans[i - 1][0]
                        src = "dict+mod"
                    if j + 1 < n and text[end:spans[j + 1][0]].isspace() \
                            and text[spans[j + 1][0]:spans[j + 1][1]].lower() in md["suffix"]:
                        j += 1
                        end = spans[j][1]
                        src = "dict+mod"
            out.append(Mention(s, end, text[s:end], e.type, e.id, src))
            i = j + 1
        return out

    def find(self, text: str) -> list[Mention]:
        """Mentions in ``text`` (sorted by start), abbreviations resolved.

        Parameters
        ----------
        text : str
            Title + abstract (any text).

        Returns
        -------
        list of Mention
        """
        mentions = self._match(text, extend=True)
        if not self.config.abbreviations or "(" not in text:
            return mentions
        abbrevs = find_abbreviations(text)
        if not abbrevs:
            return mentions
        by_end = {m.end: m for m in mentions}
        local: dict[str, Mention] = {}
        suppress: set[str] = set()
        for a in abbrevs:
            m = by_end.get(a.long_end)
            if m is not None and m.start >= a.long_start - 1:
                local[a.short] = m
            elif self.config.suppress_undefined_short_forms:
                suppress.add(a.short)
        if not local and not suppress:
            return mentions
        kept = [m for m in mentions if not (m.text in suppress and m.text not in local)]
        covered = [(m.start, m.end) for m in kept]
        extra: list[Mention] = []
        for short, lm in local.items():
            for mm in re.finditer(r"(?<![\w-])" + re.escape(short) + r"(?![\w-])", text):
                s, e = mm.start(), mm.end()
                if any(cs < e and s < ce for cs, ce in covered):
                    # replace a dictionary reading of the short form by the defined one
                    for k, km in enumerate(kept):
                        if km.start == s and km.end == e and (km.type != lm.type or km.id != lm.id):
                            kept[k] = Mention(s, e, short, lm.type, lm.id, "abbrev")
                    continue
                extra.append(Mention(s, e, short, lm.type, lm.id, "abbrev"))
        out = kept + extra
        out.sort(key=lambda m: m.start)
        return out

    def annotate(self, doc: Document) -> list[Mention]:
        """Mentions of a document (offsets into ``doc.text``)."""
        return self.find(doc.text)

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike) -> Path:
        """Write the compiled dictionary as gzipped JSON (``{format_version, config, stats, entries}``)."""
        from ..fsutil import atomic_path

        p = Path(path)
        payload = {"format_version": FORMAT_VERSION, "config": self.config.__dict__, "stats": self.stats,
                   "modifiers": {t: {k: sorted(v) for k, v in d.items()} for t, d in self.modifiers.items()},
                   "entries": {k: e.to_json() for k, e in self.entries.items()}}
        with atomic_path(p) as tmp:
            with gzip.open(tmp, "wt", encoding="utf-8") as fh:
                json.dump(payload, fh)
        return p

    @classmethod
    def load(cls, path: str | os.PathLike) -> "DictionaryNER":
        p = Path(path)
        try:
            with gzip.open(p, "rt", encoding="utf-8") as fh:
                payload = json.load(fh)
        except (OSError, json.JSONDecodeError) as err:
            raise InputError(f"not a saved dictionary: {err}", file=str(p)) from err
        if payload.get("format_version") != FORMAT_VERSION:
            raise ModelFormatError(f"dictionary format {payload.get('format_version')} (this version reads "
                                   f"{FORMAT_VERSION})", file=str(p), hint="rebuild it with `discovery literature build-dictionary`")
        cfg = dict(payload["config"])
        for k in ("types", "mesh_exclude_trees"):
            if k in cfg:
                cfg[k] = tuple(cfg[k])
        ner = cls({k: Entry.from_json(v) for k, v in payload["entries"].items()}, NERConfig(**cfg))
        ner.stats = payload.get("stats", {})
        ner.modifiers = {t: {k: set(v) for k, v in d.items()} for t, d in payload.get("modifiers", {}).items()}
        return ner


def build_default_ner(*, training: Sequence[Document] | None = None, config: NERConfig | None = None,
                      vocabularies: tuple[str, ...] = ("mesh", "ctd", "drugbank", "hgnc")) -> DictionaryNER:
    """Dictionary from the registered vocabularies, optionally fitted on annotated documents."""
    from .vocab import load_vocabularies

    ner = DictionaryNER.from_terms(load_vocabularies(vocabularies), config)
    if training:
        ner.fit(training)
    return ner
