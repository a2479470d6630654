"""OMOP vocabulary helpers: concepts by id, code, name or synonym; descendants.

Descendants come from ``concept_ancestor`` (the OHDSI way). Where that table
is absent or empty (Synthea27Nj ships it empty) they are computed by walking
``concept_relationship`` rows with ``relationship_id = 'Is a'`` (child
``concept_id_1`` is a ``concept_id_2``) with a recursive query; which source
was used is recorded in :attr:`Vocabulary.hierarchy_source`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterable, Sequence

from ..errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .io import Cdm

_CONCEPT_COLS = "concept_id, concept_name, domain_id, vocabulary_id, concept_class_id, standard_concept, concept_code"


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^0-9a-z%/.]+", " ", text.lower())).strip()


class Vocabulary:
    """Concept look-ups over a :class:`~discovery.cohorts.io.Cdm`.

    Parameters
    ----------
    cdm : Cdm
        The CDM whose ``concept``, ``concept_synonym``, ``concept_ancestor``
        and ``concept_relationship`` tables are used (each optional).
    """

    def __init__(self, cdm: "Cdm") -> None:
        self.cdm = cdm
        self._hier: str | None = None

    # -- availability ------------------------------------------------------
    @property
    def has_concepts(self) -> bool:
        return self.cdm.has("concept")

    @property
    def hierarchy_source(self) -> str:
        """``"concept_ancestor"``, ``"concept_relationship"`` or ``"none"``."""
        if self._hier is None:
            if self.cdm.has("concept_ancestor") and self.cdm.count("concept_ancestor") > 0:
                self._hier = "concept_ancestor"
            elif self.cdm.has("concept_relationship") and self.cdm.con.execute(
                f"SELECT count(*) FROM {self.cdm.table('concept_relationship')} WHERE relationship_id = 'Is a'"
            ).fetchone()[0] > 0:
                self._hier = "concept_relationship"
            else:
                self._hier = "none"
        return self._hier

    def _concept_table(self) -> str:
        if not self.has_concepts:
            raise InputError("the OMOP CDM has no concept table; concept look-ups need it", file=self.cdm.source)
        return self.cdm.table("concept")

    # -- look-ups ------------------------------------------------------------
    def concept(self, concept_id: int) -> dict:
        """One concept as a dict.

        Raises
        ------
        InputError
            No concept with that id.
        """
        df = self.concepts([concept_id])
        if df.empty:
            raise InputError("unknown concept id", value=int(concept_id), file=self.cdm.source,
                             hint="look it up with Vocabulary.search(name) or by_code(code)")
        return df.iloc[0].to_dict()

    def concepts(self, concept_ids: Iterable[int]) -> "pd.DataFrame":
        """Rows of ``concept`` for the given ids (unknown ids are simply absent)."""
        ids = sorted({int(i) for i in concept_ids})
        if not ids:
            return self.cdm.sql(f"SELECT {_CONCEPT_COLS} FROM {self._concept_table()} WHERE false")
        return self.cdm.sql(
            f"SELECT {_CONCEPT_COLS} FROM {self._concept_table()} WHERE concept_id IN (SELECT unnest(?::BIGINT[])) "
            "ORDER BY concept_id", [ids])

    def missing(self, concept_ids: Iterable[int]) -> list[int]:
        """Ids among ``concept_ids`` that are not in the concept table (all of them if there is none)."""
        ids = sorted({int(i) for i in concept_ids})
        if not self.has_concepts:
            return ids
        rows = self.cdm.con.execute(f"SELECT concept_id FROM {self._concept_table()} "
                                    "WHERE concept_id IN (SELECT unnest(?::BIGINT[]))", [ids]).fetchall()
        found = {int(r[0]) for r in rows}
        return [i for i in ids if i not in found]

    def by_code(self, code: str, vocabulary_id: str | None = None) -> "pd.DataFrame":
        """Concepts with this ``concept_code`` (e.g. ``"44054006"`` in SNOMED, ``"4548-4"`` in LOINC)."""
        q = f"SELECT {_CONCEPT_COLS} FROM {self._concept_table()} WHERE concept_code = ?"
        params: list = [str(code)]
        if vocabulary_id:
            q += " AND lower(vocabulary_id) = lower(?)"
            params.append(vocabulary_id)
        return self.cdm.sql(q + " ORDER BY standard_concept NULLS LAST, concept_id", params)

    def search(self, text: str, *, domain: str | Sequence[str] | None = None, standard_only: bool = False,
               exact: bool = False, limit: int = 20) -> "pd.DataFrame":
        """Concepts whose name or synonym matches ``text`` (case-insensitive).

        Ranked: exact name, exact synonym, name prefix, contains; standard
        concepts and shorter names first. Column ``matched`` holds the matched string.
        """
        t = text.strip().lower()
        domains = [domain] if isinstance(domain, str) else list(domain or [])
        ct = self._concept_table()
        syn = ""
        if self.cdm.has("concept_synonym"):
            syn = (f" UNION ALL SELECT s.concept_id, lower(s.concept_synonym_name) AS nm, 1 AS src "
                   f"FROM {self.cdm.table('concept_synonym')} s")
        names = f"SELECT concept_id, lower(concept_name) AS nm, 0 AS src FROM {ct}{syn}"
        cond = "n.nm = ?" if exact else "n.nm LIKE '%' || ? || '%'"
        where = [cond]
        params: list = [t]
        if domains:
            where.append("lower(c.domain_id) IN (SELECT lower(unnest(?::VARCHAR[])))")
            params.append(domains)
        if standard_only:
            where.append("c.standard_concept = 'S'")
        q = (f"SELECT {', '.join('c.' + x.strip() for x in _CONCEPT_COLS.split(','))}, min(n.nm) AS matched, "
             f"min(CASE WHEN n.nm = ? THEN n.src WHEN starts_with(n.nm, ?) THEN 2 + n.src ELSE 4 + n.src END) AS rank_ "
             f"FROM ({names}) n JOIN {ct} c USING (concept_id) WHERE {' AND '.join(where)} "
             f"GROUP BY ALL")
        q = (f"SELECT * FROM ({q}) ORDER BY rank_, (standard_concept = 'S') DESC NULLS LAST, length(concept_name), "
             f"concept_id LIMIT {int(limit)}")
        return self.cdm.sql(q, [t, t, *params]).drop(columns=["rank_"])

    # -- hierarchy -------------------------------------------------------------
    def descendants(self, concept_ids: Iterable[int], *, include_self: bool = True) -> set[int]:
        """All descendants of the given concepts (and the concepts themselves by default).

        Uses ``concept_ancestor``; falls back to the transitive closure of
        ``concept_relationship`` 'Is a' when the ancestor table is missing or empty.
        """
        ids = sorted({int(i) for i in concept_ids})
        out: set[int] = set(ids) if include_self else set()
        if not ids:
            return out
        src = self.hierarchy_source
        con = self.cdm.con
        if src == "concept_ancestor":
            rows = con.execute(
                f"SELECT DISTINCT descendant_concept_id FROM {self.cdm.table('concept_ancestor')} "
                "WHERE ancestor_concept_id IN (SELECT unnest(?::BIGINT[])) AND descendant_concept_id <> ancestor_concept_id",
                [ids]).fetchall()
        elif src == "concept_relationship":
            cr = self.cdm.table("concept_relationship")
            rows = con.execute(
                f"""WITH RECURSIVE d(cid) AS (
                        SELECT unnest(?::BIGINT[])
                        UNION
                        SELECT r.concept_id_1 FROM {cr} r JOIN d ON r.concept_id_2 = d.cid
                        WHERE r.relationship_id = 'Is a' AND (r.invalid_reason IS NULL OR r.invalid_reason = '')
                    ) SELECT cid FROM d""" if self.cdm.has_column("concept_relationship", "invalid_reason") else
                f"""WITH RECURSIVE d(cid) AS (
                        SELECT unnest(?::BIGINT[])
                        UNION
                        SELECT r.concept_id_1 FROM {cr} r JOIN d ON r.concept_id_2 = d.cid
                        WHERE r.relationship_id = 'Is a'
                    ) SELECT cid FROM d""",
                [ids]).fetchall()
            rows = [r for r in rows if include_self or r[0] not in ids]
        else:
            rows = []
        out.update(int(r[0]) for r in rows)
        return out

    def ancestors(self, concept_id: int) -> set[int]:
        """Ancestors of one concept (excluding itself), via the same source as :meth:`descendants`."""
        src = self.hierarchy_source
        if src == "concept_ancestor":
            rows = self.cdm.con.execute(
                f"SELECT ancestor_concept_id FROM {self.cdm.table('concept_ancestor')} "
                "WHERE descendant_concept_id = ? AND ancestor_concept_id <> descendant_concept_id", [int(concept_id)]).fetchall()
        elif src == "concept_relationship":
            rows = self.cdm.con.execute(
                f"""WITH RECURSIVE a(cid) AS (SELECT ?::BIGINT UNION
                    SELECT r.concept_id_2 FROM {self.cdm.table('concept_relationship')} r JOIN a ON r.concept_id_1 = a.cid
                    WHERE r.relationship_id = 'Is a') SELECT cid FROM a WHERE cid <> ?""",
                [int(concept_id), int(concept_id)]).fetchall()
        else:
            rows = []
        return {int(r[0]) for r in rows}

    def name_index(self, domains: Sequence[str] = ("Condition", "Drug", "Procedure", "Measurement", "Observation"),
                   min_length: int = 4) -> dict[str, list[tuple[int, str]]]:
        """Normalised concept name/synonym -> [(concept_id, domain_id)] for dictionary matching in text."""
        if not self.has_concepts:
            return {}
        ct = self.cdm.table("concept")
        q = f"SELECT concept_id, concept_name AS nm, domain_id FROM {ct} WHERE domain_id IN (SELECT unnest(?::VARCHAR[]))"
        if self.cdm.has("concept_synonym"):
            q += (f" UNION ALL SELECT s.concept_id, s.concept_synonym_name, c.domain_id FROM {self.cdm.table('concept_synonym')} s "
                  f"JOIN {ct} c USING (concept_id) WHERE c.domain_id IN (SELECT unnest(?::VARCHAR[]))")
            params = [list(domains), list(domains)]
        else:
            params = [list(domains)]
        out: dict[str, list[tuple[int, str]]] = {}
        for cid, nm, dom in self.cdm.con.execute(q, params).fetchall():
            if not nm:
                continue
            key = _norm(nm)
            if len(key) < min_length:
                continue
            lst = out.setdefault(key, [])
            if (int(cid), dom) not in lst:
                lst.append((int(cid), dom))
        return out
