"""Import the concept sets and inclusion rules of an OHDSI Circe (ATLAS) cohort definition JSON.

Supported subset
----------------
- ``ConceptSets``: items with ``concept.CONCEPT_ID``, ``includeDescendants``, ``isExcluded``.
- ``PrimaryCriteria.CriteriaList``: the first entry of a supported domain becomes the index rule
  (``first_event`` by default, ``last_event`` when ``PrimaryLimit.Type`` is ``Last``); without one the
  index is the end of observation.
- ``InclusionRules[].expression``: groups ``ALL`` / ``ANY`` / ``AT_LEAST`` (with ``Count``), nested
  ``Groups``, ``CriteriaList`` entries of ConditionOccurrence, ConditionEra, DrugExposure, DrugEra,
  ProcedureOccurrence, Measurement, Observation, VisitOccurrence, DeviceExposure, Death with
  ``CodesetId``, ``StartWindow`` (days x coefficient, ``null`` days = unbounded), ``Occurrence``
  (Type 0 exactly / 1 at most / 2 at least, ``Count``), ``ValueAsNumber`` (gt, gte, lt, lte, bt) and
  ``Unit``; ``DemographicCriteriaList`` with ``Age`` and ``Gender``.

Anything else (``AT_MOST`` groups, ``!bt``, correlated criteria, end windows, censoring, era
collapse) raises :class:`~discovery.errors.InputError` naming the rule, rather than being dropped.
"""

from __future__ import annotations

from typing import Any

from ..errors import InputError
from .criteria import TrialCriteria, criteria_from_dict

_DOMAINS = {"ConditionOccurrence": "condition", "ConditionEra": "condition", "DrugExposure": "drug", "DrugEra": "drug",
            "ProcedureOccurrence": "procedure", "Measurement": "measurement", "Observation": "observation",
            "VisitOccurrence": "visit", "DeviceExposure": "device", "Death": "death"}
_OPS = {"gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte"}


def _num_range(r: dict[str, Any], where: str) -> dict[str, float]:
    op = str(r.get("Op", "")).lower()
    if op in _OPS:
        return {_OPS[op]: float(r["Value"])}
    if op == "bt":
        return {"gte": float(r["Value"]), "lte": float(r["Extent"])}
    if op == "eq":
        return {"gte": float(r["Value"]), "lte": float(r["Value"])}
    raise InputError(f"Circe numeric range operator {op!r} is not supported", value=op, column=where)


def _window(w: dict[str, Any] | None) -> dict[str, Any]:
    if not w:
        return {"start": None, "end": None}

    def side(s: dict[str, Any]) -> int | None:
        if s.get("Days") is None:
            return None
        return int(s["Days"]) * int(s.get("Coeff", 1))
    return {"start": side(w.get("Start", {})), "end": side(w.get("End", {}))}


def _criterion(entry: dict[str, Any], names: dict[int, str], where: str, n: int) -> dict[str, Any]:
    crit = entry.get("Criteria") or {}
    if len(crit) != 1:
        raise InputError("Circe criteria entry must hold exactly one domain criterion", column=where)
    (dom_key, body), = crit.items()
    if dom_key not in _DOMAINS:
        raise InputError(f"Circe criterion {dom_key} is not supported", column=where, value=dom_key)
    if body.get("CorrelatedCriteria"):
        raise InputError("Circe correlated criteria are not supported", column=where)
    if entry.get("EndWindow"):
        raise InputError("Circe end windows are not supported", column=where)
    out: dict[str, Any] = {"name": f"{where} #{n}", "type": _DOMAINS[dom_key], "window": _window(entry.get("StartWindow"))}
    if body.get("CodesetId") is not None:
        out["concept_set"] = names[int(body["CodesetId"])]
    occ = entry.get("Occurrence") or {"Type": 2, "Count": 1}
    t, c = int(occ.get("Type", 2)), int(occ.get("Count", 1))
    out["count"] = {0: {"exactly": c}, 1: {"at_most": c}, 2: {"at_least": c}}[t]
    if body.get("ValueAsNumber"):
        out["value"] = _num_range(body["ValueAsNumber"], where)
    if body.get("Unit"):
        out["units"] = [int(u["CONCEPT_ID"]) for u in body["Unit"]]
    return out


def _group(expr: dict[str, Any], names: dict[int, str], where: str) -> dict[str, Any]:
    typ = str(expr.get("Type", "ALL")).upper()
    kids: list[dict[str, Any]] = []
    for i, e in enumerate(expr.get("CriteriaList", []), 1):
        kids.append(_criterion(e, names, where, i))
    for d in expr.get("DemographicCriteriaList", []):
        if d.get("Age"):
            kids.append({"name": f"{where} age", "type": "age", **_num_range(d["Age"], where)})
        if d.get("Gender"):
            kids.append({"name": f"{where} sex", "type": "sex", "sex": [int(g["CONCEPT_ID"]) for g in d["Gender"]]})
    for j, g in enumerate(expr.get("Groups", []), 1):
        kids.append({**_group(g, names, f"{where} group {j}")})
    if not kids:
        raise InputError("Circe group has no criteria", column=where)
    if typ == "ALL":
        out = {"type": "all", "criteria": kids}
    elif typ == "ANY":
        out = {"type": "any", "criteria": kids}
    elif typ == "AT_LEAST":
        out = {"type": "at_least", "k": int(expr.get("Count", 1)), "criteria": kids}
    else:
        raise InputError(f"Circe group type {typ} is not supported", column=where, value=typ)
    out["name"] = where
    return out


def from_circe(data: dict[str, Any], *, file: str | None = None, name: str | None = None) -> TrialCriteria:
    """Criteria from a Circe cohort expression (dict from the ATLAS JSON).

    Raises
    ------
    InputError
        Unsupported constructs (named with their rule), or invalid resulting criteria.
    """
    names: dict[int, str] = {}
    sets = []
    for cs in data.get("ConceptSets", []):
        nm = str(cs.get("name") or f"concept set {cs['id']}")
        names[int(cs["id"])] = nm
        items = [{"concept_id": int(it["concept"]["CONCEPT_ID"]), "include_descendants": bool(it.get("includeDescendants")),
                  "exclude": bool(it.get("isExcluded"))} for it in (cs.get("expression") or {}).get("items", [])]
        sets.append({"name": nm, "items": items})
    index: dict[str, Any] = {"type": "observation_end"}
    for entry in (data.get("PrimaryCriteria") or {}).get("CriteriaList", []):
        (dom_key, body), = entry.items()
        if dom_key in _DOMAINS and _DOMAINS[dom_key] != "death" and body.get("CodesetId") is not None:
            last = str(((data.get("PrimaryCriteria") or {}).get("PrimaryCriteriaLimit") or {}).get("Type", "First")).lower() == "last"
            index = {"type": "last_event" if last else "first_event", "domain": _DOMAINS[dom_key],
                     "concept_set": names[int(body["CodesetId"])]}
            break
    inclusion = []
    try:
        for i, rule in enumerate(data.get("InclusionRules", []), 1):
            where = str(rule.get("name") or f"inclusion rule {i}")
            g = _group(rule.get("expression") or {}, names, where)
            inclusion.append(g)
    except InputError as err:
        err.file = file
        raise
    return criteria_from_dict({"name": name or data.get("name") or (file or "circe cohort"), "concept_sets": sets,
                               "index": index, "inclusion": inclusion}, file=file)
