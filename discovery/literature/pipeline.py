"""Result-folder level operations: ingest, extract, evaluate, summarize.

Each writes a folder (atomically) with ``manifest.json`` whose ``kind`` selects
the report section: ``literature.ingest``, ``literature.extract``,
``literature.evaluate``, ``literature.summary``.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from ..errors import ConfigError, InputError
from .documents import Document, Problem, ReadReport
from .relations import EVIDENCE_COLUMNS, Evidence

MENTION_COLUMNS = ("pmid", "start", "end", "text", "type", "id", "source")


def _write_problems(folder: Path, problems: Sequence[Problem]) -> None:
    import csv

    with open(folder / "problems.tsv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter="\t")
        w.writerow(["file", "position", "pmid", "reason"])
        for p in problems:
            w.writerow([p.file, p.position, p.pmid or "", p.reason])


# ----------------------------------------------------------------------------- ingest

def ingest(paths: Sequence[str | os.PathLike], db: str | os.PathLike, *, out: str | os.PathLike | None = None,
           parquet: str | os.PathLike | None = None, on_error: str = "report") -> dict[str, Any]:
    """Read literature files into the corpus database (idempotent upserts).

    Returns the summary (files, documents, deleted, empty abstracts, skipped, rows in store).
    With ``out`` a result folder (summary.json, problems.tsv, manifest.json) is written.
    """
    from ..fsutil import atomic_dir
    from ..provenance import Timer, build_manifest, write_manifest
    from .io import read_documents
    from .store import CorpusStore

    timer = Timer()
    report = ReadReport()
    with timer("ingest"), CorpusStore(db) as store:
        written = store.upsert(read_documents(paths, report=report, on_error=on_error))  # type: ignore[arg-type]
        removed = store.delete(report.deleted)
        total = store.count()
        if parquet:
            store.to_parquet(parquet)
    summary = {**report.summary(), "written": written, "removed": removed, "rows_in_store": total, "db": str(db)}
    if out:
        with atomic_dir(out) as tmp:
            (tmp / "summary.json").write_text(json.dumps(summary, indent=2))
            _write_problems(tmp, report.problems)
            write_manifest(tmp, build_manifest(kind="literature.ingest",
                                               inputs={f"input_{i}": p for i, p in enumerate(paths)},
                                               config={"db": str(db), "on_error": on_error},
                                               timings=timer.timings, extra={"summary": summary}))
    summary["problems"] = [p.as_dict() for p in report.problems]
    return summary


def fetch_pubmed(db: str | os.PathLike, *, query: str | None = None, pmids: Sequence[str] = (),
                 email: str | None = None, api_key: str | None = None, retmax: int = 100,
                 base_url: str | None = None, out: str | os.PathLike | None = None) -> dict[str, Any]:
    """Search and/or fetch PubMed records through E-utilities into the corpus database.

    ``query`` is run through ESearch (up to ``retmax`` PMIDs), joined with the
    explicit ``pmids``; the records are fetched with EFetch (PubMed XML) and
    upserted like :func:`ingest` does. ``email`` and ``api_key`` default to the
    ``NCBI_EMAIL`` and ``NCBI_API_KEY`` environment variables.

    Returns the summary (pmids asked for, documents written, requests made, rows in store).
    """
    from ..fsutil import atomic_dir
    from ..provenance import Timer, build_manifest, write_manifest
    from .entrez import EUTILS, EntrezClient
    from .store import CorpusStore

    if not query and not pmids:
        raise ConfigError("nothing to fetch", hint="give --query TEXT and/or --pmids ID,ID,...")
    bad = [p for p in pmids if not str(p).isdigit()]
    if bad:
        raise InputError("a PMID must be a positive integer", value=bad[0], column="pmids")
    email = email or os.environ.get("NCBI_EMAIL")
    api_key = api_key or os.environ.get("NCBI_API_KEY") or None
    timer = Timer()
    report = ReadReport()
    client = EntrezClient(email=email or "", api_key=api_key, base_url=base_url or EUTILS)
    try:
        with timer("search"):
            found = client.search(query, retmax=retmax) if query else []
        wanted = list(dict.fromkeys([*found, *(str(p) for p in pmids)]))
        with timer("fetch"):
            docs = client.fetch(wanted, report=report) if wanted else []
    finally:
        client.close()
    with timer("store"), CorpusStore(db) as store:
        written = store.upsert(docs)
        total = store.count()
    got = {d.pmid for d in docs}
    summary = {"query": query, "found": len(found), "pmids": len(wanted), "written": written,
               "missing": [p for p in wanted if p not in got], "requests": client.requests,
               "rows_in_store": total, "db": str(db), **report.summary()}
    if out:
        with atomic_dir(out) as tmp:
            (tmp / "summary.json").write_text(json.dumps(summary, indent=2))
            (tmp / "pmids.txt").write_text("".join(f"{p}\n" for p in wanted))
            _write_problems(tmp, report.problems)
            write_manifest(tmp, build_manifest(kind="literature.fetch", inputs={},
                                               config={"db": str(db), "query": query, "pmids": list(pmids),
                                                       "retmax": retmax, "base_url": base_url or EUTILS,
                                                       "api_key": bool(api_key)},
                                               timings=timer.timings, extra={"summary": summary}))
    summary["problems"] = [p.as_dict() for p in report.problems]
    return summary


# ----------------------------------------------------------------------------- extraction

class Extractor:
    """Interface of relation extractors chosen by name (see :data:`EXTRACTORS`)."""

    name = "base"

    def extract(self, doc: Document, mentions) -> list[Evidence]:  # pragma: no cover - interface
        raise NotImplementedError

    def stats(self) -> dict[str, Any]:
        return {}


def _rules_factory(model, **_: Any):
    class Rules(Extractor):
        name = "rules"

        def extract(self, doc, mentions):
            return model.cid.extract(doc, mentions)

    return Rules()


def _llm_factory(model, **kw: Any):
    from .llm_extract import LLMRelationExtractor

    return LLMRelationExtractor(**kw)


#: name -> factory(model, **options) returning an object with ``extract(doc, mentions)``
EXTRACTORS: dict[str, Callable[..., Any]] = {"rules": _rules_factory, "llm": _llm_factory}


def iter_inputs(inputs: Sequence[str | os.PathLike], report: ReadReport) -> Iterable[Document]:
    """Documents from files (any supported format) or from ``.duckdb`` corpus stores."""
    from .io import read_documents
    from .store import CorpusStore

    for p in inputs:
        if str(p).endswith(".duckdb"):
            with CorpusStore(p, read_only=True) as store:
                for d in store.iter_documents():
                    report.documents += 1
                    yield d
        else:
            yield from read_documents([p], report=report)


def extract(inputs: Sequence[str | os.PathLike], out: str | os.PathLike, *, extractor: str = "rules",
            model_dir: str | os.PathLike | None = None, co_mentions: bool = True,
            extractor_options: dict[str, Any] | None = None, progress: bool = True) -> dict[str, Any]:
    """Mentions and relations of every document of ``inputs``; writes a ``literature.extract`` folder.

    Output files: ``mentions.parquet`` (:data:`MENTION_COLUMNS`), ``evidence.parquet``
    (:data:`~discovery.literature.relations.EVIDENCE_COLUMNS`), ``problems.tsv``,
    ``summary.json``, ``manifest.json``.
    """
    import logging

    import pandas as pd

    from ..fsutil import atomic_dir
    from ..provenance import Timer, build_manifest, write_manifest
    from .model import LiteratureModel, default_model
    from .relations import co_mentions as _co

    if extractor not in EXTRACTORS:
        raise InputError(f"unknown extractor {extractor!r}", value=extractor, hint=f"one of {sorted(EXTRACTORS)}")
    log = logging.getLogger("discovery.literature")
    timer = Timer()
    with timer("load_model"):
        model = LiteratureModel.load(model_dir) if model_dir else default_model()
    ex = EXTRACTORS[extractor](model, **(extractor_options or {}))
    report = ReadReport()
    mention_rows: list[tuple] = []
    evidence: list[Evidence] = []
    failed: list[Problem] = []
    n = 0
    t_ner = t_rel = 0.0
    t_start = time.perf_counter()
    for doc in iter_inputs(inputs, report):
        n += 1
        t0 = time.perf_counter()
        ms = model.mentions(doc)
        t1 = time.perf_counter()
        try:
            evidence.extend(ex.extract(doc, ms))
        except Exception as err:  # recorded per document; the batch goes on
            failed.append(Problem(doc.source, f"pmid {doc.pmid}", f"{type(err).__name__}: {err}", doc.pmid))
        if co_mentions:
            evidence.extend(_co(doc, ms))
        t2 = time.perf_counter()
        t_ner += t1 - t0
        t_rel += t2 - t1
        mention_rows.extend((doc.pmid, m.start, m.end, m.text, m.type, m.id, m.source) for m in ms)
        if progress and n % 5000 == 0:
            log.info("%d documents, %.0f/s", n, n / (time.perf_counter() - t_start))
    timer.timings["ner"] = t_ner
    timer.timings["relations"] = t_rel
    ex_stats = ex.stats() if hasattr(ex, "stats") else {}
    summary = {**report.summary(), "documents_processed": n, "mentions": len(mention_rows),
               "evidence_rows": len(evidence), "relations_by_predicate": _count(e.predicate for e in evidence),
               "extractor": extractor, "extraction_failures": len(failed), "extractor_stats": ex_stats,
               "ner_docs_per_s": round(n / t_ner, 1) if t_ner else None}
    with atomic_dir(out) as tmp:
        pd.DataFrame(mention_rows, columns=list(MENTION_COLUMNS)).to_parquet(tmp / "mentions.parquet", index=False)
        evidence_frame(evidence).to_parquet(tmp / "evidence.parquet", index=False)
        _write_problems(tmp, report.problems + failed + [Problem(**p) for p in ex_stats.get("problems", [])])
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
        write_manifest(tmp, build_manifest(
            kind="literature.extract", inputs={f"input_{i}": p for i, p in enumerate(inputs)},
            config={"extractor": extractor, "model_dir": str(model_dir) if model_dir else "default (BC5CDR)",
                    "co_mentions": co_mentions, "extractor_options": _public(extractor_options)},
            timings=timer.timings, extra={"summary": summary, "model": model.info}))
    return summary


def _public(opts: dict | None) -> dict:
    return {k: v for k, v in (opts or {}).items() if "key" not in k.lower()}


def _count(it: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for x in it:
        out[x] = out.get(x, 0) + 1
    return out


def evidence_frame(rows: Sequence[Evidence]):
    """Evidence rows as a DataFrame with the table's columns and dtypes (empty-safe)."""
    import pandas as pd

    df = pd.DataFrame([e.__dict__ for e in rows], columns=list(EVIDENCE_COLUMNS))
    for c in ("sentence_start", "sentence_end", "subject_start", "subject_end", "object_start", "object_end"):
        df[c] = df[c].astype("int64")
    df["score"] = df["score"].astype("float64")
    for c in df.columns:
        if c not in ("score",) and not c.endswith(("_start", "_end")):
            df[c] = df[c].astype("string")
    return df


def load_evidence(path: str | os.PathLike):
    """Read an evidence table (a Parquet file, or a ``literature.extract`` folder)."""
    import pandas as pd

    p = Path(path)
    if p.is_dir():
        p = p / "evidence.parquet"
    if not p.is_file():
        raise InputError("no evidence table here", file=str(p), hint="run `discovery literature extract` first")
    df = pd.read_parquet(p)
    missing = [c for c in EVIDENCE_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"evidence table lacks columns {missing}", file=str(p))
    return df


def evidence_to_edges(evidence) -> "Any":
    """Aggregate evidence into knowledge-graph edges (one row per subject, predicate, object).

    Returns a DataFrame with ``source, source_type, target, target_type, relation, n_pmids, pmids
    (";"-joined), max_score, origin`` where ``origin`` is ``"literature"``: the targets module reads these as
    literature edges of its graph.
    """
    import pandas as pd

    df = evidence if isinstance(evidence, pd.DataFrame) else load_evidence(evidence)
    if df.empty:
        return pd.DataFrame(columns=["source", "source_type", "target", "target_type", "relation", "n_pmids",
                                     "pmids", "max_score", "origin"])
    g = df.groupby(["subject_id", "subject_type", "object_id", "object_type", "predicate"], sort=True)
    out = g.agg(pmids=("pmid", lambda s: ";".join(sorted(set(s), key=lambda x: (len(x), x)))),
                max_score=("score", "max"))
    out = out.reset_index().rename(columns={"subject_id": "source", "subject_type": "source_type",
                                            "object_id": "target", "object_type": "target_type",
                                            "predicate": "relation"})
    out["n_pmids"] = out["pmids"].map(lambda x: len(x.split(";")))
    out["origin"] = "literature"
    return out[["source", "source_type", "target", "target_type", "relation", "n_pmids", "pmids", "max_score",
                "origin"]]


def merge(folders: Sequence[str | os.PathLike], out: str | os.PathLike) -> dict[str, Any]:
    """Concatenate ``literature.extract`` folders (shards) into one, with ``edges.parquet``.

    Summaries are summed; problems are concatenated; the manifest lists every shard.
    """
    import pandas as pd

    from ..fsutil import atomic_dir
    from ..provenance import build_manifest, write_manifest

    evid, ments, probs = [], [], []
    total: dict[str, Any] = {}
    for f in folders:
        f = Path(f)
        man = f / "manifest.json"
        if not man.is_file() or json.loads(man.read_text()).get("kind") != "literature.extract":
            raise InputError("not a literature.extract result folder", file=str(f),
                             hint="give folders written by `discovery literature extract`")
        evid.append(load_evidence(f))
        if (f / "mentions.parquet").is_file():
            ments.append(pd.read_parquet(f / "mentions.parquet"))
        if (f / "problems.tsv").is_file():
            probs.append(pd.read_csv(f / "problems.tsv", sep="\t", dtype=str))
        s = json.loads((f / "summary.json").read_text())
        for k, v in s.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool) and k != "ner_docs_per_s":
                total[k] = total.get(k, 0) + v
            elif k == "relations_by_predicate":
                agg = total.setdefault(k, {})
                for kk, vv in v.items():
                    agg[kk] = agg.get(kk, 0) + vv
            elif k == "extractor":
                total[k] = v
    ev = pd.concat(evid, ignore_index=True) if evid else evidence_frame([])
    total["shards"] = len(folders)
    with atomic_dir(out) as tmp:
        ev.to_parquet(tmp / "evidence.parquet", index=False)
        evidence_to_edges(ev).to_parquet(tmp / "edges.parquet", index=False)
        (pd.concat(ments, ignore_index=True) if ments else pd.DataFrame(columns=list(MENTION_COLUMNS))).to_parquet(
            tmp / "mentions.parquet", index=False)
        (pd.concat(probs, ignore_index=True) if probs else pd.DataFrame(columns=["file", "position", "pmid", "reason"])
         ).to_csv(tmp / "problems.tsv", sep="\t", index=False)
        (tmp / "summary.json").write_text(json.dumps(total, indent=2))
        write_manifest(tmp, build_manifest(kind="literature.extract",
                                           inputs={f"shard_{i}": Path(f) / "evidence.parquet"
                                                   for i, f in enumerate(folders)},
                                           config={"merged_shards": [str(f) for f in folders]},
                                           extra={"summary": total}))
    return total
