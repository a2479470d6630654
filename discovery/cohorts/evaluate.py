"""Parser evaluation: numeric criteria vs the Clinical-Trial-Parser gold, coverage on the LCT texts.

Gold (``trials/cfg_parsed_clinical_trials.tsv``): 64 numeric criteria of 21
trials, each with variable, unit and lower/upper bounds with inclusive flags.
For *exclusion* criteria the gold records the allowed range (the negation of
the text: "Neutrophils < 500" is gold ``lower >= 500``), so our exclusion
bounds are negated before comparing. A prediction matches a gold row when
trial, section and variable agree (one-to-one, best bound agreement first).

Reported: precision / recall / F1 of the variable; among matched pairs, the
fraction with identical bounds (values), unit (normalised spelling) and
inclusivity flags.

Held-out gold (:data:`HELDOUT_GOLD`): the lexicon of the parser was written while
reading the 21 Clinical-Trial-Parser trials, so their scores are optimistic.
``examples/heldout_numeric_gold.tsv`` holds 49 numeric criteria of 10
``criteria-lct`` texts (the first 10 of batch20 with at least three lines
stating a numeric comparison), annotated by hand with the same conventions
before the parser was run on them. Variables the lexicon does not know
(FEV1, pack-years, G8, ICDAS, ...) are in the gold on purpose: they count as
misses.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from .parser import ParsedCriterion, iter_nct_file, parse_eligibility

#: hand-annotated numeric criteria of 10 held-out criteria-lct texts (see the module docstring)
HELDOUT_GOLD = Path(__file__).with_name("examples") / "heldout_numeric_gold.tsv"

_UNIT_ALIASES = {"mmhg": "mmhg", "mm/hg": "mmhg", "cells/l": "10^9/l", "cells/ul": "cells/ul", "mm": "mmol/l",
                 "msec": "ms", "ms": "ms", "year": "year", "c": "c", "%": "%", "kg/m2": "kg/m2", "ml/min": "ml/min",
                 "g/dl": "g/dl", "mg/dl": "mg/dl", "mg/l": "mg/l", "ng/ml": "ng/ml", "/min": "/min", "kg": "kg",
                 "u/l": "u/l"}


def _norm_unit(u: str | None) -> str | None:
    if not u:
        return None
    u = u.strip().lower()
    return _UNIT_ALIASES.get(u, u)


def _negate(c: ParsedCriterion) -> dict[str, Any]:
    """Allowed range of an exclusion criterion (one-sided bounds flip; two-sided ones cannot)."""
    if c.lower is not None and c.upper is None:
        return {"upper": c.lower, "upper_incl": not c.lower_incl}
    if c.upper is not None and c.lower is None:
        return {"lower": c.upper, "lower_incl": not c.upper_incl}
    return {"lower": c.lower, "lower_incl": c.lower_incl, "upper": c.upper, "upper_incl": c.upper_incl}


def read_gold(path: str | Path) -> list[dict[str, Any]]:
    rows = []
    with open(path, newline="", encoding="utf-8") as fh:
        lines = [ln for ln in fh if not ln.startswith("# ")]  # free-text comments above the '#nct_id' header
        reader = csv.DictReader(lines, delimiter="\t")
        reader.fieldnames = [f.lstrip("#") for f in reader.fieldnames or []]
        for r in reader:
            rel = json.loads(r["relation"])
            g = {"nct_id": r["nct_id"], "section": r["eligibility_type"], "criterion": r["criterion"],
                 "variable": rel["name"], "unit": _norm_unit(rel.get("unit"))}
            for side in ("lower", "upper"):
                b = rel.get(side)
                g[side] = float(b["value"]) if b else None
                g[f"{side}_incl"] = bool(b["incl"]) if b else None
            rows.append(g)
    return rows


def _trial_texts(trials: str | Path, ncts: set[str]) -> list[dict[str, str]]:
    """``nct_id`` + ``eligibility_criteria`` rows from a trials CSV or a folder of ``<NCT id>.txt`` texts."""
    trials = Path(trials)
    if trials.is_dir():
        found = {p.stem: p for p in trials.rglob("NCT*.txt") if p.stem in ncts}
        return [{"nct_id": k, "eligibility_criteria": found[k].read_text(encoding="utf-8", errors="replace")}
                for k in sorted(found)]
    return [row for row in iter_nct_file(str(trials)) if row["nct_id"] in ncts]


def _pred_rows(texts: list[dict[str, str]]) -> list[dict[str, Any]]:
    out = []
    for row in texts:
        parsed = parse_eligibility(row["eligibility_criteria"], trial_id=row["nct_id"])
        for it in parsed.items:
            for c in it.criteria:
                if c.kind not in ("age", "numeric"):
                    continue
                b = ({"lower": c.lower, "lower_incl": c.lower_incl, "upper": c.upper, "upper_incl": c.upper_incl}
                     if it.section == "inclusion" else _negate(c))
                out.append({"nct_id": row["nct_id"], "section": it.section, "variable": c.variable,
                            "unit": _norm_unit(c.unit), "text": c.text, **{k: b.get(k) for k in
                                                                           ("lower", "lower_incl", "upper", "upper_incl")}})
    return out


def _agree(p: dict, g: dict) -> tuple[bool, bool, bool]:
    bounds = all((p[s] is None) == (g[s] is None) and (p[s] is None or abs(p[s] - g[s]) < 1e-9) for s in ("lower", "upper"))
    incl = all(g[s] is None or p[f"{s}_incl"] == g[f"{s}_incl"] for s in ("lower", "upper")) and \
        all((p[s] is None) == (g[s] is None) for s in ("lower", "upper"))
    unit = _norm_unit(p["unit"]) == g["unit"]
    return bounds, unit, incl


def evaluate_numeric(trials_csv: str | Path, gold_tsv: str | Path) -> dict[str, Any]:
    """Precision/recall of numeric criteria vs the gold; agreement of bounds, unit and inclusivity.

    ``trials_csv`` is a trials CSV (``nct_id``, ``eligibility_criteria``) or a folder
    of ``<NCT id>.txt`` eligibility texts (the ``criteria-lct`` layout).
    """
    gold = read_gold(gold_tsv)
    ncts = {g["nct_id"] for g in gold}
    texts = _trial_texts(trials_csv, ncts)
    missing = ncts - {r["nct_id"] for r in texts}
    if missing:
        from ..errors import InputError

        raise InputError(f"no eligibility text for {len(missing)} gold trial(s)", file=str(trials_csv),
                         value=sorted(missing)[0])
    preds = _pred_rows(texts)
    used_p: set[int] = set()
    pairs = []
    for gi, g in enumerate(gold):
        cands = [(pi, p) for pi, p in enumerate(preds) if pi not in used_p and p["nct_id"] == g["nct_id"]
                 and p["section"] == g["section"] and p["variable"] == g["variable"]]
        if not cands:
            continue
        pi, p = max(cands, key=lambda t: sum(_agree(t[1], g)))
        used_p.add(pi)
        pairs.append((g, p))
    n_gold, n_pred, n_match = len(gold), len(preds), len(pairs)
    prec = n_match / n_pred if n_pred else 0.0
    rec = n_match / n_gold if n_gold else 0.0
    agree = [_agree(p, g) for g, p in pairs]
    res = {
        "n_trials": len(ncts), "n_gold": n_gold, "n_predicted": n_pred, "n_matched": n_match,
        "variable_precision": round(prec, 4), "variable_recall": round(rec, 4),
        "variable_f1": round(2 * prec * rec / (prec + rec), 4) if prec + rec else 0.0,
        "bounds_accuracy": round(sum(a[0] for a in agree) / n_match, 4) if n_match else 0.0,
        "unit_accuracy": round(sum(a[1] for a in agree) / n_match, 4) if n_match else 0.0,
        "inclusivity_accuracy": round(sum(a[2] for a in agree) / n_match, 4) if n_match else 0.0,
        "all_correct_recall": round(sum(all(a) for a in agree) / n_gold, 4) if n_gold else 0.0,
        "unmatched_gold": [f"{g['nct_id']} {g['section']} {g['variable']}: {g['criterion'][:80]}" for g in gold
                           if not any(g is gg for gg, _ in pairs)],
    }
    return res


def parse_coverage(folder: str | Path, *, vocab=None) -> dict[str, Any]:
    """Parse every ``*.txt`` eligibility text under ``folder``; fraction of items structured."""
    files = sorted(Path(folder).rglob("*.txt"))
    index = vocab.name_index(domains=("Condition", "Drug", "Procedure")) if vocab is not None else None
    n_items = n_parsed = n_texts_split = 0
    kinds: dict[str, int] = {}
    for f in files:
        p = parse_eligibility(f.read_text(encoding="utf-8", errors="replace"), trial_id=f.stem, name_index=index)
        n_items += len(p.items)
        n_parsed += sum(i.parsed for i in p.items)
        n_texts_split += bool(p.inclusion) and bool(p.exclusion)
        for i in p.items:
            for c in i.criteria:
                kinds[c.kind] = kinds.get(c.kind, 0) + 1
    return {"n_texts": len(files), "n_items": n_items, "n_items_structured": n_parsed,
            "item_coverage": round(n_parsed / n_items, 4) if n_items else 0.0,
            "texts_with_both_sections": n_texts_split,
            "section_split_rate": round(n_texts_split / len(files), 4) if files else 0.0,
            "criteria_by_kind": dict(sorted(kinds.items())), "needs_review_items": n_items - n_parsed,
            "vocabulary": "yes" if vocab is not None else "none"}


def _main() -> None:  # pragma: no cover - convenience
    import sys

    root = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/cohorts")
    r = evaluate_numeric(root / "trials/clinical_trials.csv", root / "trials/cfg_parsed_clinical_trials.tsv")
    print(json.dumps({k: v for k, v in r.items() if k != "unmatched_gold"}, indent=1))
    for u in r["unmatched_gold"]:
        print("  missed:", u)
    print(json.dumps(parse_coverage(root / "criteria-lct"), indent=1))


if __name__ == "__main__":  # pragma: no cover
    _main()
