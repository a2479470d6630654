"""Knowledge-graph input/output: Hetionet SIF, Neo4j-style TSVs, generic triple tables.

A :class:`KnowledgeGraph` holds typed nodes (one id vocabulary per node type)
and typed edges, keyed by ``(source_type, relation, target_type)``, as integer
index arrays. Readers follow the project's skip-and-report policy: a malformed
line or an edge to an unknown node becomes a :class:`Problem` (file, line,
reason) and is skipped (``on_error="report"``, the default) or raises
:class:`~discovery.errors.InputError` (``on_error="raise"``).

Examples
--------
>>> kg = read_hetionet_sif("edges-10.sif", nodes="hetionet-v1.0-nodes.tsv")  # doctest: +SKIP
>>> kg.summary()["edges"]["Disease-associates-Gene"]                        # doctest: +SKIP
10
>>> data = kg.to_heterodata()                                               # doctest: +SKIP
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Literal, Mapping, Sequence

import numpy as np

from ..errors import AllRowsInvalidError, InputError

EdgeType = tuple[str, str, str]
OnError = Literal["report", "raise"]

#: Hetionet node type abbreviations.
NODE_ABBREV: dict[str, str] = {
    "A": "Anatomy", "BP": "Biological Process", "CC": "Cellular Component", "C": "Compound",
    "D": "Disease", "G": "Gene", "MF": "Molecular Function", "PW": "Pathway",
    "PC": "Pharmacologic Class", "SE": "Side Effect", "S": "Symptom",
}
#: Hetionet v1.0 metaedges: abbreviation -> (source type, relation, target type).
METAEDGES: dict[str, EdgeType] = {
    "AdG": ("Anatomy", "downregulates", "Gene"), "AeG": ("Anatomy", "expresses", "Gene"),
    "AuG": ("Anatomy", "upregulates", "Gene"), "CbG": ("Compound", "binds", "Gene"),
    "CcSE": ("Compound", "causes", "Side Effect"), "CdG": ("Compound", "downregulates", "Gene"),
    "CpD": ("Compound", "palliates", "Disease"), "CrC": ("Compound", "resembles", "Compound"),
    "CtD": ("Compound", "treats", "Disease"), "CuG": ("Compound", "upregulates", "Gene"),
    "DaG": ("Disease", "associates", "Gene"), "DdG": ("Disease", "downregulates", "Gene"),
    "DlA": ("Disease", "localizes", "Anatomy"), "DpS": ("Disease", "presents", "Symptom"),
    "DrD": ("Disease", "resembles", "Disease"), "DuG": ("Disease", "upregulates", "Gene"),
    "GcG": ("Gene", "covaries", "Gene"), "GiG": ("Gene", "interacts", "Gene"),
    "GpBP": ("Gene", "participates", "Biological Process"),
    "GpCC": ("Gene", "participates", "Cellular Component"),
    "GpMF": ("Gene", "participates", "Molecular Function"), "GpPW": ("Gene", "participates", "Pathway"),
    "Gr>G": ("Gene", "regulates", "Gene"), "PCiC": ("Pharmacologic Class", "includes", "Compound"),
}
_ABBREV_OF = {v: k for k, v in METAEDGES.items()}
#: Hetionet relations without direction (an edge a-b is also b-a).
UNDIRECTED = {"GcG", "GiG", "CrC", "DrD"}
REVERSE_PREFIX = "rev_"


def edge_label(et: EdgeType) -> str:
    """``"Disease-associates-Gene"`` for ``("Disease", "associates", "Gene")``."""
    return "-".join(et)


def abbreviation(et: EdgeType) -> str:
    """Hetionet abbreviation of an edge type (``"DaG"``), or its label when it has none."""
    return _ABBREV_OF.get(et, edge_label(et))


def parse_edge_type(text: str | Sequence[str]) -> EdgeType:
    """Edge type from ``"DaG"``, ``"Disease-associates-Gene"`` or a 3-sequence.

    Raises
    ------
    InputError
        ``text`` is none of these.
    """
    if not isinstance(text, str):
        t = tuple(text)
        if len(t) == 3:
            return t  # type: ignore[return-value]
        raise InputError("an edge type needs 3 parts (source type, relation, target type)", value=text)
    if text in METAEDGES:
        return METAEDGES[text]
    for k, v in METAEDGES.items():
        if k.lower() == text.lower():
            return v
    parts = text.split("-")
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    raise InputError(
        "unknown edge type", value=text,
        hint="use a Hetionet abbreviation (DaG, CtD, ...) or 'Source-relation-Target'",
    )


@dataclass(frozen=True)
class Problem:
    """One skipped input record.

    Attributes
    ----------
    file : str
    line : int
        1-based line number in the file (header = line 1).
    reason : str
    text : str
        The offending line (truncated to 200 characters).
    """

    file: str
    line: int
    reason: str
    text: str = ""


@dataclass
class KnowledgeGraph:
    """A typed multigraph.

    Attributes
    ----------
    node_ids : dict of str to list of str
        Per node type, identifiers without the type prefix (``"DOID:1612"``, ``"1017"``);
        position = node index.
    node_names : dict of str to list of str
        Human-readable names aligned with ``node_ids`` (the id when unknown).
    edges : dict of EdgeType to ndarray
        ``(2, E)`` int64 arrays of (source index, target index), duplicates removed.
    edge_attrs : dict of EdgeType to dict of str to ndarray
        Optional per-edge columns (``source``, ``evidence_count``, ``score``) aligned with ``edges``.
    problems : list of Problem
        Records skipped while reading.
    inputs : list of str
        Files read.
    """

    node_ids: dict[str, list[str]] = field(default_factory=dict)
    node_names: dict[str, list[str]] = field(default_factory=dict)
    edges: dict[EdgeType, np.ndarray] = field(default_factory=dict)
    edge_attrs: dict[EdgeType, dict[str, np.ndarray]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._index: dict[str, dict[str, int]] = {}

    # ------------------------------------------------------------------ nodes
    @property
    def node_types(self) -> list[str]:
        return list(self.node_ids)

    def num_nodes(self, node_type: str) -> int:
        return len(self.node_ids.get(node_type, ()))

    def index(self, node_type: str) -> dict[str, int]:
        """Id -> index map of one node type (cached)."""
        idx = self._index.get(node_type)
        if idx is None or len(idx) != len(self.node_ids.get(node_type, ())):
            idx = {n: i for i, n in enumerate(self.node_ids.get(node_type, ()))}
            self._index[node_type] = idx
        return idx

    def add_node(self, node_type: str, node_id: str, name: str | None = None) -> int:
        """Index of the node, adding it when new."""
        idx = self.index(node_type)
        i = idx.get(node_id)
        if i is None:
            i = len(self.node_ids.setdefault(node_type, []))
            self.node_ids[node_type].append(node_id)
            self.node_names.setdefault(node_type, []).append(name if name else node_id)
            idx[node_id] = i
        elif name and self.node_names[node_type][i] == node_id:
            self.node_names[node_type][i] = name
        return i

    def name(self, node_type: str, i: int) -> str:
        return self.node_names[node_type][i]

    def find_node(self, query: str, node_type: str | None = None) -> tuple[str, int]:
        """Resolve an id (``DOID:1612``, ``Disease::DOID:1612``) or a name (case-insensitive).

        Raises
        ------
        InputError
            Nothing matches, or a name matches several nodes.
        """
        q = query.strip()
        if "::" in q:
            t, _, q2 = q.partition("::")
            if t in self.node_ids and q2 in self.index(t):
                return t, self.index(t)[q2]
        types = [node_type] if node_type else self.node_types
        for t in types:
            if q in self.index(t):
                return t, self.index(t)[q]
        hits = [(t, i) for t in types for i, n in enumerate(self.node_names.get(t, ())) if n.lower() == q.lower()]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise InputError(f"name matches {len(hits)} nodes", value=query, hint="pass the identifier instead")
        import difflib

        names = [n for t in types for n in self.node_names.get(t, ())]
        close = difflib.get_close_matches(q, names, n=3)
        raise InputError(
            f"no {node_type or 'node'} with this id or name", value=query,
            hint=("did you mean " + ", ".join(repr(c) for c in close)) if close else "check the identifier",
        )

    # ------------------------------------------------------------------ edges
    @property
    def edge_types(self) -> list[EdgeType]:
        return list(self.edges)

    def num_edges(self, et: EdgeType | None = None) -> int:
        if et is None:
            return int(sum(e.shape[1] for e in self.edges.values()))
        return int(self.edges[et].shape[1]) if et in self.edges else 0

    def summary(self) -> dict[str, Any]:
        """Counts per node type and per edge type, and the number of skipped records."""
        return {
            "nodes": {t: len(v) for t, v in self.node_ids.items()},
            "edges": {edge_label(et): int(e.shape[1]) for et, e in self.edges.items()},
            "n_nodes": int(sum(len(v) for v in self.node_ids.values())),
            "n_edges": self.num_edges(),
            "n_problems": len(self.problems),
        }

    def copy_with_edges(self, edges: Mapping[EdgeType, np.ndarray],
                        edge_attrs: Mapping[EdgeType, dict[str, np.ndarray]] | None = None) -> "KnowledgeGraph":
        """Same nodes (shared vocabularies), other edges."""
        kg = KnowledgeGraph(self.node_ids, self.node_names, dict(edges), dict(edge_attrs or {}),
                            list(self.problems), list(self.inputs))
        kg._index = self._index
        return kg

    def drop_isolated_types(self) -> "KnowledgeGraph":
        """Drop node types that no edge touches (e.g. types only present in a nodes file)."""
        used = {t for et in self.edges for t in (et[0], et[2])}
        kg = KnowledgeGraph({t: v for t, v in self.node_ids.items() if t in used},
                            {t: v for t, v in self.node_names.items() if t in used},
                            dict(self.edges), dict(self.edge_attrs), list(self.problems), list(self.inputs))
        kg._index = {t: v for t, v in self._index.items() if t in used}
        return kg

    def adjacency_sets(self, et: EdgeType) -> dict[int, set[int]]:
        """Source index -> set of target indices for one edge type."""
        out: dict[int, set[int]] = {}
        for s, t in self.edges.get(et, np.zeros((2, 0), dtype=np.int64)).T:
            out.setdefault(int(s), set()).add(int(t))
        return out

    def has_edge(self, et: EdgeType, s: int, t: int) -> bool:
        e = self.edges.get(et)
        if e is None:
            return False
        return bool(np.any((e[0] == s) & (e[1] == t)))

    def to_heterodata(self, *, add_reverse: bool = True, node_features: Mapping[str, Any] | None = None):
        """A ``torch_geometric.data.HeteroData`` with ``num_nodes``, ``node_ids`` per type and edges.

        Parameters
        ----------
        add_reverse : bool
            Add ``(dst, "rev_<rel>", src)`` for every edge type (for same-type relations too),
            so messages flow both ways.
        node_features : mapping, optional
            ``{node_type: (N, F) tensor}`` stored as ``x``.

        Returns
        -------
        HeteroData
            ``data[t].num_nodes``, ``data[t].node_ids`` (list of str), ``data[et].edge_index`` (2, E) long.
        """
        import torch
        from torch_geometric.data import HeteroData

        data = HeteroData()
        for t, ids in self.node_ids.items():
            data[t].num_nodes = len(ids)
            data[t].node_ids = list(ids)
            if node_features and t in node_features:
                data[t].x = torch.as_tensor(node_features[t])
        for et, e in self.edges.items():
            ei = torch.from_numpy(np.ascontiguousarray(e)).long()
            data[et].edge_index = ei
            if add_reverse:
                data[(et[2], REVERSE_PREFIX + et[1], et[0])].edge_index = ei.flip(0).contiguous()
        return data


# ---------------------------------------------------------------------- helpers


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


class _Reporter:
    def __init__(self, kg: KnowledgeGraph, on_error: OnError) -> None:
        if on_error not in ("report", "raise"):
            raise InputError("on_error must be 'report' or 'raise'", value=on_error)
        self.kg, self.on_error = kg, on_error

    def __call__(self, file: Path | str, line: int, reason: str, text: str = "", column: str | None = None) -> None:
        if self.on_error == "raise":
            raise InputError(reason, file=str(file), row=line, column=column, value=text[:200] or None,
                             hint="fix the line or read with on_error='report' to skip it")
        self.kg.problems.append(Problem(str(file), line, reason, text[:200]))


class _EdgeBuffer:
    """Collects edges per type, then dedups into arrays."""

    def __init__(self) -> None:
        self.src: dict[EdgeType, list[int]] = {}
        self.dst: dict[EdgeType, list[int]] = {}
        self.attrs: dict[EdgeType, dict[str, list[Any]]] = {}

    def add(self, et: EdgeType, s: int, t: int, attrs: Mapping[str, Any] | None = None) -> None:
        self.src.setdefault(et, []).append(s)
        self.dst.setdefault(et, []).append(t)
        if attrs:
            d = self.attrs.setdefault(et, {})
            n = len(self.src[et]) - 1
            for k, v in attrs.items():
                col = d.setdefault(k, [None] * n)
                col.extend([None] * (n - len(col)))
                col.append(v)

    def into(self, kg: KnowledgeGraph) -> None:
        for et in self.src:
            new = np.array([self.src[et], self.dst[et]], dtype=np.int64)
            n_old = kg.num_edges(et)
            e = np.concatenate([kg.edges[et], new], axis=1) if n_old else new
            n_t = max(kg.num_nodes(et[2]), 1)
            _, first = np.unique(e[0] * n_t + e[1], return_index=True)
            first.sort()
            kg.edges[et] = e[:, first]
            names = set(self.attrs.get(et, {})) | set(kg.edge_attrs.get(et, {}))
            if names:
                cols = {}
                for k in names:
                    old = kg.edge_attrs.get(et, {}).get(k)
                    old = np.full(n_old, None, dtype=object) if old is None else old
                    v = list(self.attrs.get(et, {}).get(k, []))
                    v += [None] * (new.shape[1] - len(v))
                    cols[k] = np.concatenate([old, np.array(v, dtype=object)])[first]
                kg.edge_attrs[et] = cols


def read_nodes(path: str | os.PathLike, kg: KnowledgeGraph | None = None, *, on_error: OnError = "report") -> KnowledgeGraph:
    """Read a Hetionet nodes TSV (``id``, ``name``, ``kind``; ids prefixed ``Kind::``).

    Raises
    ------
    InputError
        The header lacks ``id``/``kind``, or a line is malformed and ``on_error="raise"``.
    """
    path = Path(path)
    kg = kg or KnowledgeGraph()
    report = _Reporter(kg, on_error)
    with _open_text(path) as fh:
        reader = csv.reader(fh, delimiter="\t")
        header = next(reader, None)
        if not header or "id" not in header or "kind" not in header:
            raise InputError("nodes table needs columns id, name, kind", file=str(path), row=1, value=header)
        ci, ck = header.index("id"), header.index("kind")
        cn = header.index("name") if "name" in header else None
        for lineno, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) != len(header):
                report(path, lineno, f"expected {len(header)} fields, found {len(row)}", "\t".join(row))
                continue
            kind, raw = row[ck], row[ci]
            nid = raw.split("::", 1)[1] if raw.startswith(kind + "::") else raw
            if not kind or not nid:
                report(path, lineno, "empty id or kind", "\t".join(row), column="id")
                continue
            kg.add_node(kind, nid, row[cn] if cn is not None else None)
    kg.inputs.append(str(path))
    return kg


def _split_prefixed(text: str) -> tuple[str, str] | None:
    if "::" not in text:
        return None
    t, _, i = text.partition("::")
    return (t, i) if t and i else None


def read_hetionet_sif(
    edges: str | os.PathLike | Iterable[str | os.PathLike],
    *,
    nodes: str | os.PathLike | None = None,
    on_error: OnError = "report",
    edge_types: Iterable[str | EdgeType] | None = None,
) -> KnowledgeGraph:
    """Read Hetionet SIF edges (``source``, ``metaedge``, ``target``; optionally gzipped).

    Parameters
    ----------
    edges : path or paths
        SIF files (tab-separated, header ``source metaedge target``; node ids ``Type::id``).
    nodes : path, optional
        Nodes TSV. When given, only its nodes exist: an edge to a node not in it is
        skipped and reported ("unknown node"). Without it, nodes are created from the edges.
    on_error : {"report", "raise"}
    edge_types : iterable, optional
        Keep only these metaedges (abbreviations or labels).

    Returns
    -------
    KnowledgeGraph
    """
    kg = KnowledgeGraph()
    if nodes is not None:
        read_nodes(nodes, kg, on_error=on_error)
    closed = nodes is not None
    keep = None if edge_types is None else {parse_edge_type(e) for e in edge_types}
    report = _Reporter(kg, on_error)
    buf = _EdgeBuffer()
    files = [edges] if isinstance(edges, (str, os.PathLike)) else list(edges)
    for f in files:
        path = Path(f)
        with _open_text(path) as fh:
            for lineno, line in enumerate(fh, start=1):
                line = line.rstrip("\r\n")
                if not line.strip():
                    continue
                parts = line.split("\t")
                if lineno == 1 and parts[:3] == ["source", "metaedge", "target"]:
                    continue
                if len(parts) != 3:
                    report(path, lineno, f"expected 3 tab-separated fields, found {len(parts)}", line)
                    continue
                a, me, b = parts
                et = METAEDGES.get(me)
                pa, pb = _split_prefixed(a), _split_prefixed(b)
                if pa is None or pb is None:
                    report(path, lineno, "node id lacks the 'Type::' prefix", line, column="source" if pa is None else "target")
                    continue
                if et is None:
                    et = (pa[0], me, pb[0])
                elif (pa[0], pb[0]) != (et[0], et[2]):
                    report(path, lineno, f"metaedge {me} joins {et[0]} to {et[2]}, not {pa[0]} to {pb[0]}", line, column="metaedge")
                    continue
                if keep is not None and et not in keep:
                    continue
                if closed:
                    ia, ib = kg.index(pa[0]).get(pa[1]), kg.index(pb[0]).get(pb[1])
                    if ia is None or ib is None:
                        report(path, lineno, f"unknown node {a if ia is None else b}", line)
                        continue
                else:
                    ia, ib = kg.add_node(*pa), kg.add_node(*pb)
                buf.add(et, ia, ib)
        kg.inputs.append(str(path))
    buf.into(kg)
    _check_nonempty(kg, files)
    return kg


_NEO4J_ID = re.compile(r"^:(START|END)_ID\(([^)]+)\)$")


def read_neo4j_tsv(
    directory_or_files: str | os.PathLike | Iterable[str | os.PathLike],
    *,
    nodes: str | os.PathLike | None = None,
    on_error: OnError = "report",
    edge_types: Iterable[str | EdgeType] | None = None,
) -> KnowledgeGraph:
    """Read Neo4j import-style edge TSVs, one file per edge type.

    Each file is named ``<Source>_<Relation>_<Target>.tsv`` and has the header
    ``:START_ID(<Source>)	:END_ID(<Target>)`` with unprefixed ids. Node types come
    from the header; the relation from the file name (lower-cased). With ``nodes``
    (a Hetionet nodes TSV), edges to unknown nodes are skipped and reported.
    """
    if isinstance(directory_or_files, (str, os.PathLike)) and Path(directory_or_files).is_dir():
        files = sorted(p for p in Path(directory_or_files).iterdir() if p.name.endswith((".tsv", ".tsv.gz")))
    elif isinstance(directory_or_files, (str, os.PathLike)):
        files = [Path(directory_or_files)]
    else:
        files = [Path(p) for p in directory_or_files]
    kg = KnowledgeGraph()
    if nodes is not None:
        read_nodes(nodes, kg, on_error=on_error)
    closed = nodes is not None
    keep = None if edge_types is None else {parse_edge_type(e) for e in edge_types}
    report = _Reporter(kg, on_error)
    buf = _EdgeBuffer()
    for path in files:
        stem = path.name.split(".")[0]
        parts = stem.split("_")
        with _open_text(path) as fh:
            header = fh.readline().rstrip("\r\n").split("\t")
            m = [_NEO4J_ID.match(h) for h in header[:2]]
            if len(header) < 2 or not all(m) or m[0].group(1) != "START" or m[1].group(1) != "END":
                raise InputError("header must start with :START_ID(Type) and :END_ID(Type)", file=str(path), row=1,
                                 value="\t".join(header))
            st, tt = m[0].group(2), m[1].group(2)
            rel = "_".join(parts[1:-1]).lower() if len(parts) >= 3 else stem.lower()
            et = (st, rel, tt)
            if keep is not None and et not in keep:
                continue
            for lineno, line in enumerate(fh, start=2):
                line = line.rstrip("\r\n")
                if not line.strip():
                    continue
                f = line.split("\t")
                if len(f) < 2 or not f[0] or not f[1]:
                    report(path, lineno, f"expected 2 non-empty tab-separated ids, found {line!r}", line)
                    continue
                if closed:
                    ia, ib = kg.index(st).get(f[0]), kg.index(tt).get(f[1])
                    if ia is None or ib is None:
                        report(path, lineno, f"unknown node {st + '::' + f[0] if ia is None else tt + '::' + f[1]}", line)
                        continue
                else:
                    ia, ib = kg.add_node(st, f[0]), kg.add_node(tt, f[1])
                buf.add(et, ia, ib)
        kg.inputs.append(str(path))
    buf.into(kg)
    _check_nonempty(kg, files)
    return kg


TRIPLE_COLUMNS = ("head", "relation", "tail")
OPTIONAL_TRIPLE_COLUMNS = ("head_type", "tail_type", "source", "evidence_count", "score")


def read_triples(
    path: str | os.PathLike,
    *,
    kg: KnowledgeGraph | None = None,
    on_error: OnError = "report",
    add_nodes: bool | None = None,
) -> KnowledgeGraph:
    """Read a generic triple table (TSV, CSV or Parquet).

    Required columns ``head``, ``relation``, ``tail``; optional ``head_type``,
    ``tail_type`` (else ids must be ``Type::id`` prefixed, or unique across the
    types of ``kg``), ``source``, ``evidence_count``, ``score`` (kept as edge attributes,
    e.g. literature evidence joined onto Hetionet).

    Parameters
    ----------
    kg : KnowledgeGraph, optional
        Add to this graph. Its nodes are closed by default (``add_nodes=False``):
        an edge to an unknown node is skipped and reported.
    add_nodes : bool, optional
        Create unknown nodes (default: True without ``kg``, False with it).
    """
    import pandas as pd

    path = Path(path)
    kg = kg if kg is not None else KnowledgeGraph()
    add_nodes = (kg.num_edges() == 0 and not kg.node_ids) if add_nodes is None else add_nodes
    report = _Reporter(kg, on_error)
    if path.suffix == ".parquet":
        df = pd.read_parquet(path)
        first_line = 1  # row i of the table is reported as line i + 2 (header-like numbering)
    else:
        sep = "," if path.suffix == ".csv" or path.name.endswith(".csv.gz") else "\t"
        df = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
        first_line = 1
    missing = [c for c in TRIPLE_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"triple table lacks columns {missing}", file=str(path), row=1, value=list(df.columns),
                         hint="columns: head, relation, tail [, head_type, tail_type, source, evidence_count, score]")
    buf = _EdgeBuffer()
    type_of: dict[str, list[str]] = {}
    for t, ids in kg.node_ids.items():
        for i in ids:
            type_of.setdefault(i, []).append(t)
    extra = [c for c in ("source", "evidence_count", "score") if c in df.columns]
    rows = df.to_dict("records")
    for k, r in enumerate(rows):
        lineno = k + 1 + first_line
        ends = []
        bad = None
        for side in ("head", "tail"):
            raw = str(r[side]).strip()
            typ = str(r.get(f"{side}_type", "") or "").strip()
            if not raw or raw == "nan":
                bad = (f"empty {side}", side)
                break
            if not typ:
                pre = _split_prefixed(raw)
                if pre:
                    typ, raw = pre
                elif len(type_of.get(raw, [])) == 1:
                    typ = type_of[raw][0]
                else:
                    bad = (f"{side} {raw!r} has no type (add {side}_type or a 'Type::' prefix)", side)
                    break
            elif raw.startswith(typ + "::"):
                raw = raw[len(typ) + 2:]
            ends.append((typ, raw))
        if bad is None and not str(r["relation"]).strip():
            bad = ("empty relation", "relation")
        if bad is not None:
            report(path, lineno, bad[0], str(r), column=bad[1])
            continue
        (ht, h), (tt, t) = ends
        rel = str(r["relation"]).strip()
        et = METAEDGES.get(rel, (ht, rel, tt))
        if (et[0], et[2]) != (ht, tt):
            et = (ht, rel, tt)
        if add_nodes:
            ia, ib = kg.add_node(ht, h), kg.add_node(tt, t)
        else:
            ia, ib = kg.index(ht).get(h), kg.index(tt).get(t)
            if ia is None or ib is None:
                report(path, lineno, f"unknown node {ht + '::' + h if ia is None else tt + '::' + t}", str(r))
                continue
        attrs = {}
        for c in extra:
            v = r[c]
            if c in ("evidence_count", "score") and v not in ("", None):
                try:
                    v = float(v)
                except (TypeError, ValueError):
                    report(path, lineno, f"{c} is not a number", str(r), column=c)
                    attrs = None
                    break
            attrs[c] = v
        if attrs is None:
            continue
        buf.add(et, ia, ib, attrs)
    buf.into(kg)
    kg.inputs.append(str(path))
    _check_nonempty(kg, [path])
    return kg


def _check_nonempty(kg: KnowledgeGraph, files: Sequence[Any]) -> None:
    if kg.num_edges() == 0:
        raise AllRowsInvalidError(
            f"no usable edge in {len(files)} file(s); {len(kg.problems)} record(s) skipped"
            + (f", first: line {kg.problems[0].line}: {kg.problems[0].reason}" if kg.problems else ""),
            file=str(files[0]) if files else None,
        )


def write_problems(kg: KnowledgeGraph, path: str | os.PathLike) -> Path:
    """Write the skipped records as TSV (file, line, reason, text)."""
    from ..fsutil import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh, delimiter="\t")
            w.writerow(["file", "line", "reason", "text"])
            for p in kg.problems:
                w.writerow([p.file, p.line, p.reason, p.text])
    return path


# ---------------------------------------------------------------------- registry loading

#: Registered KG datasets and how to read them.
KG_DATASETS: dict[str, str] = {
    "hetionet-16": "neo4j",
    "hetionet-5k": "sif",
    "hetionet-tiny": "sif",
}


def load_kg(source: str | os.PathLike, *, nodes: str | os.PathLike | None = None,
            on_error: OnError = "report", edge_types: Iterable[str | EdgeType] | None = None) -> KnowledgeGraph:
    """Load a knowledge graph by registered name or path.

    Parameters
    ----------
    source : str or path
        ``hetionet-16`` (complete 16 edge types among Anatomy, Compound, Disease, Gene),
        ``hetionet-5k`` (24 edge types, 5,000 each), ``hetionet-tiny`` (10 per type),
        a SIF file (``.sif``, ``.sif.gz``), a folder of Neo4j TSVs, or a triple table
        (``.tsv``/``.csv``/``.parquet`` with head, relation, tail).
    nodes : path, optional
        Nodes TSV; for registered names the Hetionet nodes table is used.
    """
    from ..data.fetcher import fetch

    s = str(source)
    if s.lower() in KG_DATASETS or s.lower() in ("hetionet-neo4j", "hetionet-10", "edges-10", "hetionet-sampled"):
        from ..data.registry import get

        info = get(s)
        paths = fetch(info)
        node_path = nodes or fetch("hetionet-nodes")[0]
        kind = KG_DATASETS[info.name]
        if kind == "neo4j":
            edge_files = [p for p, f in zip(paths, info.files) if "/edges/" in f.relpath]
            kg = read_neo4j_tsv(edge_files, nodes=node_path, on_error=on_error, edge_types=edge_types)
        else:
            kg = read_hetionet_sif(paths, nodes=node_path, on_error=on_error, edge_types=edge_types)
        kg = kg.drop_isolated_types()
        kg.inputs = [str(p) for p in paths] + [str(node_path)]
        return kg
    p = Path(s)
    if not p.exists():
        raise InputError("no such knowledge graph file or registered name", value=s,
                         hint="use hetionet-16, hetionet-5k, hetionet-tiny or a path")
    if p.is_dir():
        return read_neo4j_tsv(p, nodes=nodes, on_error=on_error, edge_types=edge_types)
    if p.name.endswith((".sif", ".sif.gz")):
        kg = read_hetionet_sif(p, nodes=nodes, on_error=on_error, edge_types=edge_types)
        return kg.drop_isolated_types() if nodes else kg
    base = KnowledgeGraph()
    if nodes is not None:
        read_nodes(nodes, base, on_error=on_error)
    return read_triples(p, kg=base, on_error=on_error, add_nodes=nodes is None)
