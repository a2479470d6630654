"""Rule-based parser of ClinicalTrials.gov eligibility text into structured criteria.

Steps
-----
1. Split the block into inclusion and exclusion sections (``Inclusion
   Criteria:``, ``Key Exclusion Criteria``, ...), then into items (bullets,
   numbered lines; wrapped lines joined). Every item keeps its character span
   in the original text.
2. In each item find: age ranges (``age >= 18``, ``18-75 years``, ``18 years
   of age or older``, ``under 75``), sex (``female``, ``men``,
   ``postmenopausal women``), numeric thresholds of ~40 clinical variables
   (``HbA1c >= 7%``, ``eGFR < 30 mL/min/1.73m2``, ``P/F ratio between 200
   and 300``, ``platelets >= 100 x 10^9/L``) with operator, inclusivity and
   unit; time windows (``within the last 6 months``, ``in the past 2
   weeks``) and ``history of``; diagnoses and drugs matched against OMOP
   concept names and synonyms of a vocabulary when one is given.
3. Items where nothing could be recognised are listed in ``needs_review``
   (never dropped); :func:`to_trial_criteria` turns the rest into
   :class:`~discovery.cohorts.criteria.TrialCriteria`, each rule carrying its
   source span.

Numbers are taken as written ("50.000" platelets stays 50.0 — the parser
does not guess thousands separators); ``x ULN`` multiples are kept with unit
``xULN``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:  # pragma: no cover
    from .criteria import TrialCriteria
    from .vocab import Vocabulary


# ----------------------------------------------------------------------------- lexicon

@dataclass(frozen=True)
class Variable:
    """A numeric clinical variable the parser recognises."""

    name: str
    pattern: str
    unit: str | None = None
    concept_ids: tuple[int, ...] = ()


#: variable name (as in the Clinical-Trial-Parser gold), regex of its mentions, default unit,
#: OMOP standard measurement concepts (LOINC), checked against the Synthea27Nj vocabulary.
VARIABLES: tuple[Variable, ...] = (
    Variable("a1c", r"hb\s?a1c|hemoglobin a1c|haemoglobin a1c|glycated ha?emoglobin|glycosylated ha?emoglobin|\ba1c\b", "%", (3004410,)),
    Variable("glomerular_filtration_rate", r"\begfr\b|\bgfr\b|glomerular filtration rate", "ml/min/1.73m2", (3030354,)),
    Variable("calculated_creatinine_clearance", r"creatinine clearance|\bcrcl\b|\bccr\b", "ml/min", ()),
    Variable("creatinine_level", r"(?:serum |blood )?creatinine(?! clearance)", "mg/dl", (3016723, 3051825)),
    Variable("pf_ratio", r"p\s?/\s?f ratio|pao2\s?/\s?fio2|\bp/f\b|partial pressure of (?:arterial )?oxygen\s?/\s?fraction of inspired oxygen|arterial partial pressure of oxygen\s?/\s?fraction of inspired oxygen", "mmhg", ()),
    Variable("spo2", r"\bspo2\b|\bsao2\b|oxygen saturation|o2 saturation|oxygen sat\b|saturation", "%", (40762499, 3016502)),
    Variable("body_temperature", r"body temperature|axillary temperature|temperature|\bfever\b|\btemp\b", "c", (3020891,)),
    Variable("c_reactive_protein_level", r"c-reactive protein|c reactive protein|\bcrp\b", "mg/l", (3020460,)),
    Variable("ferritin_level", r"ferritin", "ng/ml", (3001122,)),
    Variable("d_dimer_level", r"d-dimer|d dimer", None, (3051714,)),
    Variable("lactate_dehydrogenase_level", r"\bldh\b|lactate dehydrogenase", "u/l", (3016436,)),
    Variable("bmi", r"\bbmi\b|body mass index", "kg/m2", (3038553,)),
    Variable("weight", r"body weight|\bweight\b|\bweigh\b", "kg", (3025315,)),
    Variable("height", r"\bheight\b", "cm", (3036277,)),
    Variable("sbp", r"systolic blood pressure|systolic bp|\bsbp\b|systolic", "mmhg", (3004249,)),
    Variable("dbp", r"diastolic blood pressure|diastolic bp|\bdbp\b|diastolic", "mmhg", (3012888,)),
    Variable("heart_rate", r"heart rate|pulse rate|\bhr\b", "/min", (3027018,)),
    Variable("respiratory_rate", r"respiratory rate|respiratory frequency|respiration rate|\brr\b", "/min", (3024171,)),
    Variable("anc", r"absolute neutrophil count|\banc\b|neutrophil count|neutrophils", "10^9/l", (3013650,)),
    Variable("lymphocyte_count", r"lymphocyte count|lymphocytes|lymphopenia", "10^9/l", (3004327,)),
    Variable("wbc", r"white blood cell|\bwbc\b|leukocytes?|leucocytes?", "10^9/l", (3000905,)),
    Variable("platelet_count", r"platelet count|platelets?|\bplt\b", "10^9/l", (3024929,)),
    Variable("hb_count", r"ha?emoglobin(?! a1c)|\bhgb\b|\bhb\b(?!a1c)", "g/dl", (3000963,)),
    Variable("ast", r"\bast\b|aspartate aminotransferase|\bsgot\b", "u/l", (3013721,)),
    Variable("alt", r"\balt\b|alanine aminotransferase|\bsgpt\b", "u/l", (3006923,)),
    Variable("total_bilirubin_level", r"total bilirubin|bilirubin", "mg/dl", (3024128,)),
    Variable("albumin", r"albumin", "g/dl", (3024561,)),
    Variable("inr", r"\binr\b|international normali[sz]ed ratio", None, (3022217,)),
    Variable("fasting_blood_sugar_level", r"fasting (?:plasma |blood )?glucose|fasting blood sugar|\bfpg\b|\bfbg\b", "mmol/l", (3004501,)),
    Variable("glucose", r"(?<!fasting )(?:blood |plasma |serum )?glucose", "mg/dl", (3004501, 3000483)),
    Variable("potassium", r"potassium|\bk\+", "mmol/l", (3005456,)),
    Variable("sodium", r"sodium|\bna\+", "mmol/l", (3000285,)),
    Variable("cqt", r"\bqtc[fb]?\b|corrected qt|qt interval|\bqt\b", "ms", ()),
    Variable("lvef", r"\blvef\b|left ventricular ejection fraction|ejection fraction", "%", (3027172,)),
    Variable("ecog", r"\becog\b|eastern cooperative oncology group", None, ()),
    Variable("karnofsky", r"karnofsky|\bkps\b", "%", ()),
    Variable("life_expectancy", r"life expectancy", "months", ()),
    Variable("pulmonary_infiltrate_level", r"pulmonary infiltrates?|lung infiltrates?|infiltrates?", "%", ()),
    Variable("troponin", r"troponin", None, ()),
)

#: unit spelling -> normal form (lower case, no spaces)
_UNIT_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"ml\s?/\s?min\s?(?:/|per)\s?1[.,]73\s?(?:m2|m\^2|m²|sq\.?\s?m)", "ml/min/1.73m2"),
    (r"ml\s?/\s?min", "ml/min"),
    (r"(?:x|×|\*)\s?10\s?(?:\^|e)?\s?9\s?/\s?l|x\s?109\s?/\s?l|×\s?109\s?/\s?l|g\s?/\s?l(?=\W|$)(?<=g/l)", "10^9/l"),
    (r"(?:x|×|\*)\s?10\s?(?:\^|e)?\s?3\s?/\s?(?:µl|ul|mm3|mcl)", "10^3/ul"),
    (r"(?:x|×|\*)\s?uln|times (?:the )?(?:upper limit of normal|uln)|(?:x|×)\s?(?:the )?upper limit of normal|uln", "xuln"),
    (r"mg\s?/\s?dl", "mg/dl"), (r"mg\s?/\s?l", "mg/l"), (r"g\s?/\s?dl", "g/dl"), (r"g\s?/\s?l", "g/l"),
    (r"mm\s?/?\s?hg|mmhg", "mmhg"),
    (r"mmol\s?/\s?mol", "mmol/mol"), (r"mmol\s?/\s?l|\bmm\b|mmol", "mmol/l"), (r"µmol\s?/\s?l|umol\s?/\s?l", "umol/l"),
    (r"ng\s?/\s?ml", "ng/ml"), (r"µg\s?/\s?ml|ug\s?/\s?ml|mcg\s?/\s?ml", "ug/ml"), (r"mcg\s?/\s?l|µg\s?/\s?l", "ug/l"),
    (r"u\s?/\s?l|iu\s?/\s?l", "u/l"),
    (r"mm\s?/?\s?hg|mmhg", "mmhg"), (r"kg\s?/\s?m\s?(?:2|\^2|²)", "kg/m2"), (r"kg\b", "kg"), (r"cm\b", "cm"),
    (r"msec|ms\b|milliseconds?", "ms"), (r"°\s?c|º\s?c|degrees? c(?:elsius)?|℃|° c", "c"), (r"°\s?f", "f"),
    (r"/\s?min|breaths?\s?/\s?min|bpm|beats?\s?(?:per|/)\s?min", "/min"),
    (r"%|％|percent", "%"), (r"/\s?mm3|/\s?mmc|cells\s?/\s?(?:µl|ul|mm3)", "cells/ul"),
    (r"years?|yrs?", "year"), (r"months?", "months"), (r"weeks?", "weeks"), (r"days?", "days"),
)
_UNIT_RE = [(re.compile(p, re.I), u) for p, u in _UNIT_PATTERNS]

_NUM = r"(\d+(?:[.,]\d+)?)"
# operator phrases -> (side, inclusive); side "lower" means value must be above
_OPS: tuple[tuple[str, str, bool], ...] = (
    (r"≥|>=|=>|⩾|greater than or equal to|greater or equal to|more than or equal to|equal to or greater than|equal or greater than|at least|not less than|no less than|minimum(?: of)?|≧", "lower", True),
    (r"≤|<=|=<|⩽|less than or equal to|lower than or equal to|equal to or less than|equal or less than|at most|not more than|no more than|not exceed(?:ing)?|maximum(?: of)?|up to|≦", "upper", True),
    (r">|greater than|more than|higher than|above|over|exceed(?:s|ing)?|in excess of|elevated|older than", "lower", False),
    (r"<|less than|lower than|below|under|younger than|fewer than", "upper", False),
)
_OP_RE = [(re.compile(rf"(?:{p})\s*$", re.I), side, inc) for p, side, inc in _OPS]
_POST_RE = [
    (re.compile(r"^\s*(?:years?(?: of age)?|yrs?|%|[a-z/\d.^°µ*]+)?\s*(?:or|and)\s+(?:older|above|over|more|greater|higher)\b", re.I), "lower", True),
    (re.compile(r"^\s*(?:years?(?: of age)?|yrs?|%|[a-z/\d.^°µ*]+)?\s*(?:or|and)\s+(?:younger|below|under|less|lower|fewer)\b", re.I), "upper", True),
]
_RANGE_RE = re.compile(rf"(?:between|from|of|ranging from|range)?\s*{_NUM}\s*([^\d\s,;]{{0,14}}?)\s*(?:-|–|—|to|and|~)\s*{_NUM}", re.I)
_WINDOW_RE = re.compile(r"(?:within|in|during|over)\s+(?:the\s+)?(?:last|past|previous|prior|preceding)?\s*(\d+|one|two|three|four|five|six|seven|eight|nine|ten|twelve)\s*(days?|weeks?|months?|years?)"
                        r"|(\d+|one|two|three|four|five|six|twelve)\s*(days?|weeks?|months?|years?)\s+(?:prior to|before|preceding)", re.I)
_WORDNUM = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "twelve": 12}
_DAYS = {"day": 1, "week": 7, "month": 30.4375, "year": 365}
_HISTORY_RE = re.compile(r"\b(?:history of|previous(?:ly)?|prior|known|diagnosed with|diagnosis of|documented)\b", re.I)
_SEX_RE = re.compile(r"\b(?P<both>male or female|female or male|men (?:and|or) women|women (?:and|or) men|both (?:sexes|genders)|males? and females?|all genders?)\b"
                     r"|\b(?P<f>females?|women|woman|girls?|postmenopausal|pregnant)\b|\b(?P<m>males?|men|man|boys?)\b", re.I)
_AGE_RE = re.compile(r"\b(?:age[ds]?|years? old|years? of age|yrs?|old|adults?|children|patients? aged?)\b", re.I)

_HEADER_RE = re.compile(r"^[ \t]*(?:[-*•]\s*)?(?:key\s+|main\s+|major\s+)?(?P<sec>inclusion|exclusion|eligibility|exclusionary|inclusionary)"
                        r"(?:\s+and\s+exclusion)?\s*(?:criteria|criterion)?\s*(?:\([^)]*\))?\s*[:：]?[ \t]*$", re.I | re.M)
_BULLET_RE = re.compile(r"^[ \t]*(?:[-*•·▪◦]|\d{1,2}[.)](?!\d)|[a-z][.)]\s|\(\w{1,3}\)|[ivx]{1,4}[.)])\s*", re.I)


# ----------------------------------------------------------------------------- results

@dataclass
class ParsedCriterion:
    """One structured fact found in an item, with the span of text it came from.

    ``kind``: ``age``, ``sex``, ``numeric`` (a variable with bounds), ``concept``
    (a diagnosis / drug / procedure matched in the vocabulary).
    Bounds are as *written* (an exclusion "eGFR < 30" has ``upper=30``).
    """

    kind: str
    start: int
    end: int
    text: str
    variable: str | None = None
    lower: float | None = None
    lower_incl: bool | None = None
    upper: float | None = None
    upper_incl: bool | None = None
    unit: str | None = None
    sex: list[str] | None = None
    concept_ids: list[int] | None = None
    domain: str | None = None
    window_days: int | None = None
    history: bool = False


@dataclass
class ParsedItem:
    """One inclusion or exclusion item of the text (span in the original text)."""

    section: str
    start: int
    end: int
    text: str
    criteria: list[ParsedCriterion] = field(default_factory=list)

    @property
    def parsed(self) -> bool:
        return bool(self.criteria)


@dataclass
class ParsedEligibility:
    """A parsed eligibility block: items by section; unparsed items are in :attr:`needs_review`."""

    text: str
    items: list[ParsedItem]
    trial_id: str | None = None

    @property
    def inclusion(self) -> list[ParsedItem]:
        return [i for i in self.items if i.section == "inclusion"]

    @property
    def exclusion(self) -> list[ParsedItem]:
        return [i for i in self.items if i.section == "exclusion"]

    @property
    def needs_review(self) -> list[ParsedItem]:
        return [i for i in self.items if not i.parsed]

    @property
    def coverage(self) -> float:
        """Fraction of items with at least one structured criterion."""
        return sum(i.parsed for i in self.items) / len(self.items) if self.items else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"trial_id": self.trial_id, "coverage": round(self.coverage, 4),
                "items": [{**{k: v for k, v in asdict(i).items() if k != "criteria"}, "parsed": i.parsed,
                           "criteria": [{k: v for k, v in asdict(c).items() if v is not None} for c in i.criteria]}
                          for i in self.items]}


# ----------------------------------------------------------------------------- splitting

def split_sections(text: str) -> list[tuple[str, int, int]]:
    """``(section, start, end)`` spans of the inclusion / exclusion parts (``unknown`` before any header)."""
    heads = [(m.start(), m.end(), m.group("sec").lower()) for m in _HEADER_RE.finditer(text)]
    if not heads:
        # inline headers ("Inclusion Criteria: - age ...") on one line
        heads = [(m.start(), m.end(), m.group(1).lower()) for m in
                 re.finditer(r"(inclusion|exclusion)\s+criteria\s*[:：]", text, re.I)]
    out = []
    if not heads:
        return [("inclusion", 0, len(text))]
    if text[: heads[0][0]].strip():
        out.append(("unknown", 0, heads[0][0]))
    for i, (s, e, sec) in enumerate(heads):
        end = heads[i + 1][0] if i + 1 < len(heads) else len(text)
        sec = {"inclusionary": "inclusion", "exclusionary": "exclusion", "eligibility": "inclusion"}.get(sec, sec)
        out.append((sec, e, end))
    return out


def split_items(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Item spans inside ``text[start:end]``: one per bullet/numbered line, wrapped lines joined."""
    spans: list[list[int]] = []
    pos = start
    block = text[start:end]
    lines = block.split("\n")
    has_bullets = sum(1 for ln in lines if _BULLET_RE.match(ln)) >= 1
    prev_blank = True
    for ln in lines:
        ls, le = pos, pos + len(ln)
        pos = le + 1
        stripped = ln.strip()
        if not stripped:
            prev_blank = True
            continue
        m = _BULLET_RE.match(ln)
        new = bool(m) or not spans or (not has_bullets and prev_blank) or (not has_bullets and stripped[:1].isupper() and
                                                                           text[spans[-1][1] - 1:spans[-1][1]] in ".;:")
        body_start = ls + (m.end() if m else len(ln) - len(ln.lstrip()))
        if new:
            spans.append([body_start, le])
        else:
            spans[-1][1] = le
        prev_blank = False
    out = []
    for s, e in spans:
        while e > s and text[e - 1] in " \t\r":
            e -= 1
        if e > s and re.search(r"\w", text[s:e]):
            out.append((s, e))
    return out


# ----------------------------------------------------------------------------- extraction

def _num(s: str) -> float:
    return float(s.replace(",", "."))


def _unit_at(text: str) -> tuple[str | None, int]:
    """Unit at the start of ``text`` (after spaces): (normal form, length consumed)."""
    m = re.match(r"\s*", text)
    off = m.end() if m else 0
    for rx, u in _UNIT_RE:
        mm = rx.match(text, off)
        if mm and mm.end() > off:
            return u, mm.end()
    return None, 0


def _window(text: str) -> int | None:
    m = _WINDOW_RE.search(text)
    if not m:
        return None
    n, u = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
    k = int(n) if n.isdigit() else _WORDNUM.get(n.lower(), 1)
    return round(k * _DAYS[u.lower().rstrip("s")])


def _bounds_after(seg: str) -> tuple[dict[str, Any], int] | None:
    """Bounds in ``seg`` (text after a variable mention): range, operator + number, or number + postfix."""
    # a range "between 200 and 300", "18-75", "18.5-30.0"
    m = re.match(rf"[^\d<>≤≥=]{{0,40}}?(?:between|from|range of|ranging from|of)?\s*{_NUM}\s*([^\d\s,;]{{0,14}}?)\s*(?:-|–|—|to|and)\s*{_NUM}", seg, re.I)
    if m and not re.search(r"[<>≤≥]|less|greater|more|under|over|above|below|at least|at most", seg[: m.start(1)], re.I):
        pre_unit = m.group(2).strip()
        unit, ulen = _unit_at(seg[m.end():])
        if unit is None and pre_unit:
            unit, _ = _unit_at(pre_unit)
        lo, hi = _num(m.group(1)), _num(m.group(3))
        if lo < hi:
            return {"lower": lo, "lower_incl": True, "upper": hi, "upper_incl": True, "unit": unit}, m.end() + ulen
    # operator before a number
    for mm in re.finditer(_NUM, seg[:80]):
        before = seg[: mm.start()]
        if re.search(r"\d", before[-3:]):
            continue
        for rx, side, inc in _OP_RE:
            om = rx.search(before)
            if om and len(before) - om.end() <= 2:
                val = _num(mm.group(1))
                # scientific notation "1.5x10^9/L", "100 x 10^9/L"
                unit, ulen = _unit_at(seg[mm.end():])
                if side == "lower":
                    b = {"lower": val, "lower_incl": inc, "unit": unit}
                else:
                    b = {"upper": val, "upper_incl": inc, "unit": unit}
                # a second bound ("> 18 and < 65", "≥ 18 and ≤ 75")
                rest = seg[mm.end() + ulen: mm.end() + ulen + 40]
                m2 = re.match(rf"\s*(?:and|,|but)\s*(?:age\s*)?([<>≤≥]=?|less than|under|below|greater than|over|above|at most|at least)\s*{_NUM}", rest, re.I)
                if m2:
                    for rx2, side2, inc2 in _OP_RE:
                        if rx2.search(m2.group(1)) and side2 != side:
                            b.update({side2: _num(m2.group(2)), f"{side2}_incl": inc2})
                            break
                return b, mm.end() + ulen
        # number followed by "or older", "or more"
        post = seg[mm.end(): mm.end() + 40]
        for rx, side, inc in _POST_RE:
            pm = rx.match(post)
            if pm:
                unit, _ = _unit_at(post)
                val = _num(mm.group(1))
                b = {"lower": val, "lower_incl": inc} if side == "lower" else {"upper": val, "upper_incl": inc}
                b["unit"] = unit
                used = mm.end() + pm.end()
                # a second bound after the postfix form: "19 and over, under 75"
                m2 = re.match(rf"\s*(?:,|and|but)?\s*(?:age[ds]?\s*)?(less than|under|below|younger than|over|above|older than|greater than|[<>≤≥]=?)\s*{_NUM}",
                              seg[used: used + 40], re.I)
                if m2:
                    for rx2, side2, inc2 in _OP_RE:
                        if rx2.search(m2.group(1)) and side2 != side:
                            b.update({side2: _num(m2.group(2)), f"{side2}_incl": inc2})
                            used += m2.end()
                            break
                return b, used
        break  # only the first number right after the mention counts
    return None


def _age_criteria(item: str, base: int) -> list[ParsedCriterion]:
    out = []
    for m in re.finditer(r"\b(?:age[ds]?|aged)\b|\b\d{1,3}\s*(?:years?|yrs?)\b", item, re.I):
        seg_start = m.start() if m.group(0)[0].isdigit() else m.end()
        seg = item[seg_start: seg_start + 90]
        b = _bounds_after(seg)
        if b is None and not m.group(0)[0].isdigit():
            continue
        if b is None:
            continue
        bounds, used = b
        vals = [v for v in (bounds.get("lower"), bounds.get("upper")) if v is not None]
        if not vals or any(v > 120 for v in vals) or bounds.get("unit") not in (None, "year"):
            continue
        if m.group(0)[0].isdigit() and not re.search(r"older|younger|over|under|above|below|more|less|or|and|-|to", seg[:used + 5], re.I):
            continue
        s = min(m.start(), seg_start)
        e = seg_start + used
        out.append(ParsedCriterion("age", base + s, base + e, item[s:e], variable="age",
                                   lower=bounds.get("lower"), lower_incl=bounds.get("lower_incl"),
                                   upper=bounds.get("upper"), upper_incl=bounds.get("upper_incl"), unit="year"))
        break
    if not out:
        # "18 years of age or older", "over 18 years old", "adults >= 18"
        m = re.search(rf"(?:(?P<op>≥|>=|>|<|≤|<=|over|under|above|below|older than|younger than|at least)\s*)?{_NUM}\s*(?:years?|yrs?)(?:\s+(?:of age|old))?(?P<post>\s+(?:or|and)\s+(?:older|above|over|younger|below|under))?", item, re.I)
        if m and (m.group("op") or m.group("post")):
            val = _num(m.group(2))
            if val <= 120:
                if m.group("post"):
                    lower = bool(re.search(r"older|above|over", m.group("post"), re.I))
                    kw = {"lower": val, "lower_incl": True} if lower else {"upper": val, "upper_incl": True}
                else:
                    for rx, side, inc in _OP_RE:
                        if rx.search(m.group("op")):
                            kw = {side: val, f"{side}_incl": inc}
                            break
                out.append(ParsedCriterion("age", base + m.start(), base + m.end(), m.group(0), variable="age", unit="year", **kw))
    return out


def _sex_criteria(item: str, base: int) -> list[ParsedCriterion]:
    m = _SEX_RE.search(item)
    if not m:
        return []
    if m.group("both"):
        return [ParsedCriterion("sex", base + m.start(), base + m.end(), m.group(0), sex=["male", "female"])]
    # only a sex restriction when the item is about who may enter (short item or "patients/subjects" wording)
    if len(item) > 160 and not re.search(r"\b(only|must be|subjects?|patients?|participants?)\b", item, re.I):
        return []
    if m.group("f"):
        if re.search(r"pregnan|breast.?feeding|lactating|childbearing", item, re.I) and not re.search(r"postmenopausal", item, re.I):
            return []  # pregnancy rules are not sex restrictions
        return [ParsedCriterion("sex", base + m.start(), base + m.end(), m.group(0), sex=["female"])]
    return [ParsedCriterion("sex", base + m.start(), base + m.end(), m.group(0), sex=["male"])]


_VAR_RE = [(v, re.compile(v.pattern, re.I)) for v in VARIABLES]


def _numeric_criteria(item: str, base: int) -> list[ParsedCriterion]:
    mentions = []
    taken: list[tuple[int, int]] = []
    for v, rx in _VAR_RE:
        for m in rx.finditer(item):
            if any(not (m.end() <= s or m.start() >= e) for s, e in taken):
                continue
            mentions.append((m.start(), m.end(), v))
            taken.append((m.start(), m.end()))
    mentions.sort(key=lambda t: t[0])
    out = []
    for i, (s, e, v) in enumerate(mentions):
        nxt = mentions[i + 1][0] if i + 1 < len(mentions) else len(item)
        seg = item[e: min(nxt, e + 120)]
        b = _bounds_after(seg)
        if b is None:
            if v.name == "ecog":
                m = re.match(r"[^\d]{0,40}?(\d)\s*(?:-|–|to|or|and|,)\s*(\d)(?:\s*(?:or|,)\s*(\d))?", seg)
                if m:
                    vals = [int(x) for x in m.groups() if x is not None]
                    out.append(ParsedCriterion("numeric", base + s, base + e + m.end(), item[s:e + m.end()], variable=v.name,
                                               lower=float(min(vals)), lower_incl=True, upper=float(max(vals)), upper_incl=True))
            continue
        bounds, used = b
        unit = bounds.pop("unit", None) or None
        if unit in ("year", "months", "weeks", "days") and v.name not in ("life_expectancy",):
            continue  # "within 6 months" is a window, not a value
        out.append(ParsedCriterion("numeric", base + s, base + e + used, item[s:e + used], variable=v.name,
                                   unit=unit or v.unit, **bounds))
    return out


def _concept_criteria(item: str, base: int, index: dict[str, list[tuple[int, str]]], max_words: int = 8) -> list[ParsedCriterion]:
    if not index:
        return []
    toks = [(m.start(), m.end(), m.group(0).lower()) for m in re.finditer(r"[0-9a-z%/.]+", item.lower())]
    out = []
    i = 0
    while i < len(toks):
        found = None
        for n in range(min(max_words, len(toks) - i), 0, -1):
            key = " ".join(t[2] for t in toks[i:i + n]).strip(".")
            if key in index and (n > 1 or len(key) >= 6):
                found = (n, key)
                break
        if found:
            n, key = found
            s, e = toks[i][0], toks[i + n - 1][1]
            hits = index[key]
            dom = hits[0][1].lower()
            dom = {"condition": "condition", "drug": "drug", "procedure": "procedure", "measurement": "measurement",
                   "observation": "observation"}.get(dom, "condition")
            out.append(ParsedCriterion("concept", base + s, base + e, item[s:e], concept_ids=sorted({c for c, d in hits if d.lower() == hits[0][1].lower()}),
                                       domain=dom, variable=key))
            i += n
        else:
            i += 1
    return out


def parse_eligibility(text: str, *, vocab: "Vocabulary | None" = None, trial_id: str | None = None,
                      name_index: dict[str, list[tuple[int, str]]] | None = None) -> ParsedEligibility:
    """Parse an eligibility block.

    Parameters
    ----------
    text : str
        The ClinicalTrials.gov eligibility criteria text.
    vocab : Vocabulary, optional
        Diagnoses, drugs and procedures are matched against its concept names and
        synonyms (longest match first). Without it only age, sex and numeric
        variables are structured.
    name_index : dict, optional
        Precomputed :meth:`Vocabulary.name_index` (to parse many texts quickly).

    Returns
    -------
    ParsedEligibility
    """
    if name_index is None and vocab is not None:
        name_index = vocab.name_index(domains=("Condition", "Drug", "Procedure"))
    items = []
    for sec, s, e in split_sections(text):
        for a, b in split_items(text, s, e):
            chunk = text[a:b]
            sec2 = sec if sec != "unknown" else "inclusion"
            crits = _age_criteria(chunk, a)
            crits += [c for c in _numeric_criteria(chunk, a)
                      if not any(x.kind == "age" and not (c.end <= x.start or c.start >= x.end) for x in crits)]
            crits += _sex_criteria(chunk, a)
            crits += [c for c in _concept_criteria(chunk, a, name_index or {})
                      if not any(not (c.end <= x.start or c.start >= x.end) for x in crits)]
            win = _window(chunk)
            hist = bool(_HISTORY_RE.search(chunk))
            for c in crits:
                if c.kind in ("concept", "numeric"):
                    c.window_days = win
                    c.history = hist and win is None
            items.append(ParsedItem(sec2, a, b, chunk, crits))
    return ParsedEligibility(text, items, trial_id)


# ----------------------------------------------------------------------------- to criteria

_UNIT_CONCEPTS = {"%": 8554, "mg/dl": 8840, "mg/l": 8751, "g/dl": 8713, "g/l": 8636, "mmol/l": 8753, "umol/l": 8749,
                  "ng/ml": 8842, "ug/ml": 8859, "mmhg": 8876, "kg/m2": 9531, "kg": 9529, "cm": 8582, "ms": 9593,
                  "c": 8653, "/min": 8541, "ml/min": 8795, "10^9/l": 9444, "10^3/ul": 8848}


def to_trial_criteria(parsed: ParsedEligibility, *, name: str | None = None, lab_window_days: int = 365,
                      use_units: bool = False) -> "TrialCriteria":
    """Structured :class:`TrialCriteria` from a parse; every rule keeps its source span.

    Items whose criteria cannot be screened in OMOP (no concept for the
    variable, e.g. ECOG) go to ``needs_review`` together with unparsed items.
    Several facts in one item are one rule; joined by "or" in the text they
    become an ANY group, otherwise ALL.

    Parameters
    ----------
    lab_window_days : int
        Lab values count within this many days before index (``use: last``).
    use_units : bool
        Restrict lab values to the parsed unit's concept (off by default: a
        CDM's units often differ from the protocol's wording).
    """
    from .criteria import SourceSpan, criteria_from_dict

    rules: dict[str, list[dict]] = {"inclusion": [], "exclusion": []}
    review = []
    var = {v.name: v for v in VARIABLES}
    used_names: set[str] = set()
    for it in parsed.items:
        parts = []
        for c in it.criteria:
            src = {"text": c.text, "start": c.start, "end": c.end, "section": it.section}
            if c.kind == "age":
                d = {"type": "age", "source": src}
                if c.lower is not None:
                    d["gte" if c.lower_incl else "gt"] = c.lower
                if c.upper is not None:
                    d["lte" if c.upper_incl else "lt"] = c.upper
                parts.append(d)
            elif c.kind == "sex" and c.sex and len(c.sex) == 1:
                parts.append({"type": "sex", "sex": c.sex, "source": src})
            elif c.kind == "numeric" and var[c.variable].concept_ids:
                val = {}
                if c.lower is not None:
                    val["gte" if c.lower_incl else "gt"] = c.lower
                if c.upper is not None:
                    val["lte" if c.upper_incl else "lt"] = c.upper
                if not val or c.unit == "xuln":
                    continue
                d = {"type": "measurement", "concepts": list(var[c.variable].concept_ids), "include_descendants": False,
                     "value": val, "use": "last", "window": {"start": -(c.window_days or lab_window_days), "end": 0},
                     "source": src}
                if use_units and c.unit in _UNIT_CONCEPTS:
                    d["units"] = [_UNIT_CONCEPTS[c.unit]]
                parts.append(d)
            elif c.kind == "concept" and c.concept_ids:
                d = {"type": c.domain if c.domain in ("condition", "drug", "procedure") else "condition",
                     "concepts": c.concept_ids, "window": {"start": -c.window_days if c.window_days else None, "end": 0},
                     "source": src}
                parts.append(d)
        if not parts:
            review.append(SourceSpan(text=it.text, start=it.start, end=it.end, section=it.section).model_dump())
            continue
        base = re.sub(r"\s+", " ", it.text).strip()
        nm = base[:60] + ("…" if len(base) > 60 else "")
        k = 2
        while nm in used_names:
            nm = f"{base[:55]} ({k})"
            k += 1
        used_names.add(nm)
        if len(parts) == 1:
            rule = {**parts[0], "name": nm}
        else:
            for j, p in enumerate(parts, 1):
                p["name"] = f"{p['source']['text'][:40]} #{j}"
            kind = "any" if re.search(r"\bor\b", it.text, re.I) else "all"
            rule = {"type": kind, "name": nm, "criteria": parts,
                    "source": {"text": it.text, "start": it.start, "end": it.end, "section": it.section}}
        rules[it.section].append(rule)
    data = {"name": name or parsed.trial_id or "parsed trial", "inclusion": rules["inclusion"],
            "exclusion": rules["exclusion"], "needs_review": review}
    return criteria_from_dict(data)


def read_nct_file(path: str, nct: str) -> tuple[str, dict[str, str]]:
    """Eligibility text of one trial from a CSV with ``nct_id`` and ``eligibility_criteria`` columns.

    Raises
    ------
    InputError
        File or columns missing, or no row for ``nct``.
    """
    import csv

    from ..errors import InputError

    try:
        fh = open(path, newline="", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot open trials file: {exc}", file=path) from None
    with fh:
        reader = csv.DictReader(fh)
        fields = [f.lstrip("#") for f in (reader.fieldnames or [])]
        reader.fieldnames = fields
        if "nct_id" not in fields or "eligibility_criteria" not in fields:
            raise InputError("trials file needs columns nct_id and eligibility_criteria", file=path,
                             hint=f"columns present: {', '.join(fields)}")
        for row in reader:
            if row["nct_id"].strip().upper() == nct.strip().upper():
                return row["eligibility_criteria"], row
    raise InputError("no such trial in the file", file=path, column="nct_id", value=nct)


def iter_nct_file(path: str) -> Iterable[dict[str, str]]:
    """Rows of a trials CSV (``#nct_id`` header handled)."""
    import csv

    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        reader.fieldnames = [f.lstrip("#") for f in (reader.fieldnames or [])]
        yield from reader
