"""Trial eligibility criteria as data (pydantic v2; YAML or JSON), in the spirit of OHDSI Circe.

A :class:`TrialCriteria` has named concept sets, an index-date rule, and
ordered inclusion and exclusion rules. A rule is one criterion:

===============  ============================================================
``type``         meaning
===============  ============================================================
``age``          age in whole years at index within bounds (``gt/gte/lt/lte``)
``sex``          sex at birth in a list (``male``, ``female`` or concept ids)
``condition``    occurrences in ``condition_occurrence`` (``condition_era`` if absent)
``drug``         ``drug_exposure`` (``drug_era`` if absent)
``procedure``    ``procedure_occurrence``
``measurement``  ``measurement``, optionally with ``value`` bounds and ``units``
``observation``  ``observation``, optionally with ``value`` bounds
``visit``        ``visit_occurrence``
``device``       ``device_exposure``
``death``        a death record
``all``/``any``  nested group: every / at least one child criterion met
``at_least``     nested group: at least ``k`` children met
===============  ============================================================

Occurrence criteria count records of a concept set whose start date falls in
``window`` (days relative to the index date, both ends inclusive; ``null``
= unbounded) and compare the count with ``count`` (``at_least`` /
``at_most`` / ``exactly``; default at least 1). With ``value`` bounds only
records whose value is within bounds (and in one of ``units``, when given)
count; ``use: last`` instead tests the latest valued record in the window. Values in
other units are converted to the first of ``units`` where :mod:`discovery.cohorts.units`
knows the factor (``convert_units: false`` turns that off); the rest are not compared.

A criterion is *met*, *not met*, or *unknown* (missing data: no valued
measurement in the window, a missing table, unknown birth year or sex). An
inclusion rule passes when met; an exclusion rule passes when not met.
``if_unknown`` says what an unknown counts as (default: inclusion ``fail``,
exclusion ``pass``).

Examples
--------
YAML::

    name: T2D, HbA1c 7-10.5%
    concept_sets:
      - {name: t2d, concepts: [201826], include_descendants: true}
      - {name: hba1c, concepts: [3004410]}
    inclusion:
      - {name: adult, type: age, gte: 18, lt: 75}
      - {name: T2D diagnosis, type: condition, concept_set: t2d, window: {start: null, end: 0}}
      - {name: HbA1c 7-10.5%, type: measurement, concept_set: hba1c, window: {start: -180, end: 0},
         value: {gte: 7, lte: 10.5}, units: [8554], use: last}
    exclusion:
      - {name: insulin, type: drug, concepts: [21600713], window: {start: -90, end: 0}}
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import InputError

DOMAIN_TYPES = ("condition", "drug", "procedure", "measurement", "observation", "visit", "device", "death")
SEX_CONCEPTS = {"male": 8507, "female": 8532}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class SourceSpan(_Model):
    """Where a criterion came from in a free-text eligibility block."""

    text: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    section: Literal["inclusion", "exclusion", "unknown"] = "unknown"


class ConceptItem(_Model):
    """One concept of a concept set (Circe ``ConceptSetItem``)."""

    concept_id: int
    include_descendants: bool = True
    exclude: bool = False
    name: str | None = None


class ConceptSet(_Model):
    """Named set of concepts; descendants expanded through the vocabulary.

    ``concepts`` / ``exclude_concepts`` are shorthand for ``items``.
    """

    name: str
    items: list[ConceptItem] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, dict) and ("concepts" in data or "exclude_concepts" in data):
            data = dict(data)
            desc = data.pop("include_descendants", True)
            items = list(data.get("items", []))
            items += [{"concept_id": int(c), "include_descendants": desc} for c in data.pop("concepts", [])]
            items += [{"concept_id": int(c), "include_descendants": desc, "exclude": True}
                      for c in data.pop("exclude_concepts", [])]
            data["items"] = items
        return data

    @model_validator(mode="after")
    def _nonempty(self) -> "ConceptSet":
        if not any(not i.exclude for i in self.items):
            raise ValueError(f"concept set '{self.name}' includes no concept")
        return self

    @property
    def concept_ids(self) -> list[int]:
        return [i.concept_id for i in self.items]


class Bounds(_Model):
    """Numeric bounds: ``gt`` / ``gte`` (lower) and ``lt`` / ``lte`` (upper)."""

    gt: float | None = None
    gte: float | None = None
    lt: float | None = None
    lte: float | None = None

    @model_validator(mode="after")
    def _check(self) -> "Bounds":
        if self.gt is not None and self.gte is not None:
            raise ValueError("give either gt or gte, not both")
        if self.lt is not None and self.lte is not None:
            raise ValueError("give either lt or lte, not both")
        for v in (self.gt, self.gte, self.lt, self.lte):
            if v is not None and not math.isfinite(v):
                raise ValueError(f"bound {v} is not a finite number")
        lo, lo_inc = self.lower
        hi, hi_inc = self.upper
        if lo is not None and hi is not None and (lo > hi or (lo == hi and not (lo_inc and hi_inc))):
            raise ValueError(f"contradictory bounds: {self.describe('value')} admits no value")
        return self

    @property
    def lower(self) -> tuple[float | None, bool]:
        return (self.gte, True) if self.gte is not None else (self.gt, False)

    @property
    def upper(self) -> tuple[float | None, bool]:
        return (self.lte, True) if self.lte is not None else (self.lt, False)

    @property
    def empty(self) -> bool:
        return all(v is None for v in (self.gt, self.gte, self.lt, self.lte))

    def describe(self, what: str) -> str:
        parts = []
        for op, v in ((">", self.gt), (">=", self.gte), ("<", self.lt), ("<=", self.lte)):
            if v is not None:
                parts.append(f"{what} {op} {v:g}")
        return " and ".join(parts) or f"any {what}"

    def contains(self, x: float) -> bool:
        lo, li = self.lower
        hi, hi_inc = self.upper
        if lo is not None and (x < lo or (x == lo and not li)):
            return False
        if hi is not None and (x > hi or (x == hi and not hi_inc)):
            return False
        return True

    def intersect(self, other: "Bounds") -> "Bounds | None":
        """The intersection, or None when it is empty."""
        lo = max((b for b in (self.lower, other.lower) if b[0] is not None),
                 key=lambda b: (b[0], not b[1]), default=(None, True))
        hi = min((b for b in (self.upper, other.upper) if b[0] is not None),
                 key=lambda b: (b[0], b[1]), default=(None, True))
        kw: dict[str, float] = {}
        if lo[0] is not None:
            kw["gte" if lo[1] else "gt"] = lo[0]
        if hi[0] is not None:
            kw["lte" if hi[1] else "lt"] = hi[0]
        try:
            return Bounds(**kw)
        except ValidationError:
            return None


class Window(_Model):
    """Days relative to the index date, both ends inclusive; ``None`` = unbounded."""

    start: int | None = None
    end: int | None = 0

    @model_validator(mode="after")
    def _order(self) -> "Window":
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValueError(f"impossible window: start {self.start} days is after end {self.end} days")
        return self


class Count(_Model):
    """Occurrence count: ``at_least`` / ``at_most`` / ``exactly`` (default at least 1)."""

    at_least: int | None = Field(default=None, ge=0)
    at_most: int | None = Field(default=None, ge=0)
    exactly: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _check(self) -> "Count":
        if self.exactly is not None and (self.at_least is not None or self.at_most is not None):
            raise ValueError("give exactly alone, or at_least/at_most")
        if self.at_least is not None and self.at_most is not None and self.at_least > self.at_most:
            raise ValueError(f"contradictory count: at least {self.at_least} and at most {self.at_most}")
        return self

    @property
    def range(self) -> tuple[int, int | None]:
        if self.exactly is not None:
            return self.exactly, self.exactly
        lo = self.at_least if self.at_least is not None else (0 if self.at_most is not None else 1)
        return lo, self.at_most


class _Base(_Model):
    name: str | None = None
    if_unknown: Literal["pass", "fail"] | None = None
    source: SourceSpan | None = None
    note: str | None = None


class AgeCriterion(_Base, Bounds):
    """Age in whole years at the index date."""

    type: Literal["age"]

    @model_validator(mode="after")
    def _nonempty(self) -> "AgeCriterion":
        if self.empty:
            raise ValueError("age criterion needs at least one of gt, gte, lt, lte")
        for v in (self.gt, self.gte, self.lt, self.lte):
            if v is not None and not (0 <= v <= 150):
                raise ValueError(f"age bound {v:g} is outside 0-150 years")
        return self

    @property
    def bounds(self) -> Bounds:
        return Bounds(gt=self.gt, gte=self.gte, lt=self.lt, lte=self.lte)


class SexCriterion(_Base):
    """Sex at birth (``person.gender_concept_id``)."""

    type: Literal["sex"]
    sex: list[Union[Literal["male", "female"], int]] = Field(min_length=1)

    @property
    def concept_ids(self) -> list[int]:
        return sorted({SEX_CONCEPTS[s] if isinstance(s, str) else int(s) for s in self.sex})


class OccurrenceCriterion(_Base):
    """Records of a concept set in a domain table within a window of the index date."""

    type: Literal["condition", "drug", "procedure", "measurement", "observation", "visit", "device", "death"]
    concept_set: str | None = None
    concepts: list[int] | None = None
    include_descendants: bool = True
    window: Window = Field(default_factory=Window)
    count: Count = Field(default_factory=Count)
    value: Bounds | None = None
    units: list[int] | None = None
    convert_units: bool = True
    use: Literal["any", "last"] = "any"

    @model_validator(mode="after")
    def _check(self) -> "OccurrenceCriterion":
        if self.type != "death" and (self.concept_set is None) == (self.concepts is None):
            raise ValueError("give exactly one of concept_set (a name) or concepts (a list of ids)")
        if self.value is not None and self.type not in ("measurement", "observation"):
            raise ValueError(f"value bounds apply to measurement/observation criteria, not '{self.type}'")
        if self.value is not None and self.value.empty:
            raise ValueError("value needs at least one of gt, gte, lt, lte")
        if self.units and self.value is None:
            raise ValueError("units given without value bounds")
        if self.use == "last" and self.value is None:
            raise ValueError("use: last needs value bounds")
        if self.concepts is not None and not self.concepts:
            raise ValueError("concepts is empty")
        return self


class GroupCriterion(_Base):
    """Nested group of criteria: ``all``, ``any`` or ``at_least`` ``k``."""

    type: Literal["all", "any", "at_least"]
    k: int | None = Field(default=None, ge=1)
    criteria: list["Criterion"] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> "GroupCriterion":
        if self.type == "at_least":
            if self.k is None:
                raise ValueError("an at_least group needs k")
            if self.k > len(self.criteria):
                raise ValueError(f"at_least k={self.k} but the group has only {len(self.criteria)} criteria")
        elif self.k is not None:
            raise ValueError(f"k applies to at_least groups, not '{self.type}'")
        return self

    @property
    def needed(self) -> int:
        return {"all": len(self.criteria), "any": 1}.get(self.type, self.k or 1)


Criterion = Annotated[Union[AgeCriterion, SexCriterion, OccurrenceCriterion, GroupCriterion], Field(discriminator="type")]
GroupCriterion.model_rebuild()


class IndexRule(_Model):
    """How each person's index date is set.

    ``observation_end`` (default): last day of the person's latest observation
    period ("as of the data cut"); ``observation_start``: first day observed;
    ``fixed``: one calendar ``date`` for everyone (persons must be under
    observation then unless ``require_observation`` is false);
    ``first_event`` / ``last_event``: first / last record of ``concept_set``
    (or ``concepts``) in ``domain``.
    """

    type: Literal["observation_end", "observation_start", "fixed", "first_event", "last_event"] = "observation_end"
    date: _dt.date | None = None
    domain: Literal["condition", "drug", "procedure", "measurement", "observation", "visit", "device"] | None = None
    concept_set: str | None = None
    concepts: list[int] | None = None
    include_descendants: bool = True
    require_observation: bool = True

    @model_validator(mode="after")
    def _check(self) -> "IndexRule":
        if self.type == "fixed":
            if self.date is None:
                raise ValueError("a fixed index needs date (YYYY-MM-DD)")
            if not (_dt.date(1900, 1, 1) <= self.date <= _dt.date(2300, 12, 31)):
                raise ValueError(f"impossible index date {self.date}: outside 1900-2300")
        elif self.date is not None:
            raise ValueError(f"date applies to a fixed index, not '{self.type}'")
        if self.type in ("first_event", "last_event"):
            if self.domain is None or (self.concept_set is None) == (self.concepts is None):
                raise ValueError(f"a {self.type} index needs domain and one of concept_set / concepts")
        return self


class TrialCriteria(_Model):
    """A trial's eligibility criteria: concept sets, index date rule, inclusion and exclusion rules."""

    name: str = "trial"
    description: str | None = None
    concept_sets: list[ConceptSet] = Field(default_factory=list)
    index: IndexRule = Field(default_factory=IndexRule)
    inclusion: list[Criterion] = Field(default_factory=list)
    exclusion: list[Criterion] = Field(default_factory=list)
    needs_review: list[SourceSpan] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _names(cls, data: Any) -> Any:
        """Give unnamed rules a name (``inclusion 2``) so errors and outputs can name them."""
        if isinstance(data, dict):
            data = dict(data)
            for sec in ("inclusion", "exclusion"):
                rules = data.get(sec)
                if isinstance(rules, list):
                    new = []
                    for i, r in enumerate(rules, 1):
                        if isinstance(r, dict) and not r.get("name"):
                            r = {**r, "name": f"{sec} {i}"}
                        new.append(r)
                    data[sec] = new
            if isinstance(data.get("concept_sets"), dict):
                data["concept_sets"] = [{"name": k, **v} for k, v in data["concept_sets"].items()]
        return data

    @model_validator(mode="after")
    def _consistency(self) -> "TrialCriteria":
        names = [c.name for c in self.rules]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError("rule names must be unique; repeated: " + ", ".join(f"'{d}'" for d in dup))
        sets = {s.name for s in self.concept_sets}
        if len(sets) != len(self.concept_sets):
            raise ValueError("concept set names must be unique")
        for sec, crit, path in self.walk():
            cs = getattr(crit, "concept_set", None)
            if cs is not None and cs not in sets:
                raise ValueError(f"criterion '{path}' uses undefined concept set '{cs}' (defined: {', '.join(sorted(sets)) or 'none'})")
        if self.index.concept_set is not None and self.index.concept_set not in sets:
            raise ValueError(f"index rule uses undefined concept set '{self.index.concept_set}'")
        # contradictions among top-level inclusion rules (all must hold)
        age: tuple[Bounds, str] | None = None
        for c in self.inclusion:
            if isinstance(c, AgeCriterion):
                if age is None:
                    age = (c.bounds, c.name or "")
                else:
                    both = age[0].intersect(c.bounds)
                    if both is None:
                        raise ValueError(
                            f"contradictory criteria: '{age[1]}' ({age[0].describe('age')}) and '{c.name}' "
                            f"({c.bounds.describe('age')}) admit no age")
                    age = (both, f"{age[1]}' + '{c.name}")
        sexes: tuple[set[int], str] | None = None
        for c in self.inclusion:
            if isinstance(c, SexCriterion):
                s = set(c.concept_ids)
                if sexes is not None and not (sexes[0] & s):
                    raise ValueError(f"contradictory criteria: '{sexes[1]}' and '{c.name}' admit no sex")
                sexes = (s if sexes is None else sexes[0] & s, c.name or "")
        if age is not None:
            for c in self.exclusion:
                if isinstance(c, AgeCriterion) and age[0].intersect(c.bounds) == age[0]:
                    raise ValueError(f"contradictory criteria: exclusion '{c.name}' ({c.bounds.describe('age')}) "
                                     f"excludes every age that inclusion '{age[1]}' admits")
        return self

    @property
    def rules(self) -> list[Criterion]:
        """Top-level rules in funnel order: inclusion rules, then exclusion rules."""
        return [*self.inclusion, *self.exclusion]

    def sections(self) -> list[str]:
        return ["inclusion"] * len(self.inclusion) + ["exclusion"] * len(self.exclusion)

    def walk(self):
        """Yield ``(section, criterion, path_name)`` for every criterion, groups' children included."""
        def rec(sec: str, c: Criterion, path: str):
            yield sec, c, path
            if isinstance(c, GroupCriterion):
                for i, ch in enumerate(c.criteria, 1):
                    yield from rec(sec, ch, f"{path} > {ch.name or f'#{i}'}")
        for sec in ("inclusion", "exclusion"):
            for c in getattr(self, sec):
                yield from rec(sec, c, c.name or "")

    def concept_set(self, name: str) -> ConceptSet:
        for s in self.concept_sets:
            if s.name == name:
                return s
        raise KeyError(name)

    # -- files ---------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True, exclude_defaults=True)

    def to_yaml(self) -> str:
        import yaml

        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True, width=110)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)


def _describe_loc(data: Any, loc: tuple) -> str:
    """Turn a pydantic error location into words naming the rule (``inclusion 'adult' > value``)."""
    parts: list[str] = []
    node = data
    i = 0
    while i < len(loc):
        key = loc[i]
        if isinstance(node, list) and isinstance(key, int) and key < len(node):
            item = node[key]
            nm = item.get("name") if isinstance(item, dict) else None
            parts[-1:] = [f"{parts[-1] if parts else ''} '{nm}'" if nm else f"{parts[-1] if parts else ''} #{key + 1}"]
            node = item
        elif isinstance(node, dict) and key in node:
            parts.append(str(key))
            node = node[key]
        elif isinstance(key, str) and key in ("age", "sex", "condition", "drug", "procedure", "measurement",
                                                "observation", "visit", "device", "death", "all", "any", "at_least"):
            pass  # discriminator tag in the location
        else:
            parts.append(str(key))
        i += 1
    return " > ".join(p.strip() for p in parts if p.strip()) or "criteria"


def criteria_from_dict(data: dict[str, Any], *, file: str | None = None) -> TrialCriteria:
    """Validate a criteria dict; errors name the rule and field.

    Raises
    ------
    InputError
        Invalid or contradictory criteria.
    """
    if not isinstance(data, dict):
        raise InputError("criteria must be a mapping with inclusion/exclusion lists", file=file)
    try:
        return TrialCriteria.model_validate(data)
    except ValidationError as exc:
        msgs = []
        for e in exc.errors()[:5]:
            msg = e["msg"].removeprefix("Value error, ")
            msgs.append(f"{_describe_loc(data, tuple(e['loc']))}: {msg}")
        more = f" (+{len(exc.errors()) - 5} more)" if len(exc.errors()) > 5 else ""
        raise InputError("invalid criteria: " + "; ".join(msgs) + more, file=file,
                         hint="see discovery.cohorts.criteria for the format") from None


def load_criteria(path: str | Path) -> TrialCriteria:
    """Read criteria from a YAML (``.yaml``/``.yml``) or JSON file (an OHDSI Circe cohort JSON is converted)."""
    p = Path(path)
    if not p.is_file():
        raise InputError("criteria file not found", file=str(p))
    text = p.read_text(encoding="utf-8")
    try:
        if p.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except Exception as exc:
        raise InputError(f"cannot parse criteria file: {exc}", file=str(p)) from None
    if isinstance(data, dict) and ("ConceptSets" in data or "PrimaryCriteria" in data):
        from .circe import from_circe

        return from_circe(data, file=str(p))
    return criteria_from_dict(data, file=str(p))
