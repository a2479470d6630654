"""Unit conversion for measurement thresholds (UCUM unit concepts of the OMOP vocabulary).

A criterion with ``units: [u0, ...]`` compares values recorded in any listed
unit as they are; with ``convert_units: true`` (the default) a value recorded
in another unit is converted to ``u0`` when a conversion is known:

- the same dimension, any analyte: mass concentration (g/L, g/dL, mg/dL, mg/L,
  ug/mL, ng/mL), counts per volume (10^9/L = 10^3/uL);
- molar <-> mass for two analytes where the factor is standard: glucose
  (mmol/L x 18.016 = mg/dL) and creatinine (umol/L / 88.42 = mg/dL).

Values in units with no known conversion stay *not comparable* (the criterion
is unknown for a person who has only those), never silently mixed.
"""

from __future__ import annotations

from typing import Iterable

# unit concept ids (OMOP UCUM concepts, as in the Synthea27Nj vocabulary)
PERCENT, MG_DL, G_DL, G_L, MG_L, MMOL_L, UMOL_L, BILLION_L, THOUSAND_UL, NG_ML, UG_ML = (
    8554, 8840, 8713, 8636, 8751, 8753, 8749, 9444, 8848, 8842, 8859)

#: unit -> grams per litre
_MASS = {G_L: 1.0, G_DL: 10.0, MG_DL: 0.01, MG_L: 0.001, UG_ML: 0.001, NG_ML: 1e-6}
#: unit -> 10^9 per litre
_COUNT = {BILLION_L: 1.0, THOUSAND_UL: 1.0}
#: analyte concept ids -> (molar unit, mg/dL per molar unit)
_MOLAR = {
    "glucose": ({3004501, 3000483}, MMOL_L, 18.016),
    "creatinine": ({3016723, 3051825}, UMOL_L, 1 / 88.42),
}


def factor(from_unit: int, to_unit: int, concepts: Iterable[int] = ()) -> float | None:
    """Multiplier turning a value in ``from_unit`` into ``to_unit`` (None when unknown).

    ``concepts`` are the measurement concepts the value may belong to; molar <->
    mass conversions apply only when all of them are one analyte.
    """
    if from_unit == to_unit:
        return 1.0
    for table in (_MASS, _COUNT):
        if from_unit in table and to_unit in table:
            return table[from_unit] / table[to_unit]
    cs = set(concepts)
    for ids, molar, per in _MOLAR.values():
        if cs and cs <= ids:
            to_mgdl = {molar: per, MG_DL: 1.0}
            for u, f in _MASS.items():
                to_mgdl.setdefault(u, f / _MASS[MG_DL])
            if from_unit in to_mgdl and to_unit in to_mgdl:
                return to_mgdl[from_unit] / to_mgdl[to_unit]
    return None


def conversions(target: int, concepts: Iterable[int]) -> dict[int, float]:
    """Every unit convertible to ``target`` for these concepts, with its multiplier (target itself excluded)."""
    cs = list(concepts)
    units = set(_MASS) | set(_COUNT) | {m for _, m, _ in _MOLAR.values()}
    out = {}
    for u in sorted(units - {target}):
        f = factor(u, target, cs)
        if f is not None:
            out[u] = f
    return out
