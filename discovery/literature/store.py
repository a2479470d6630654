"""Corpus store: documents in DuckDB (one file), exportable to Parquet.

Upserts are idempotent: a document is keyed by PMID and re-ingesting a file
replaces its rows, so the count after two identical ingests equals the count
after one. Deleted citations of PubMed update files are removed.

Examples
--------
>>> with CorpusStore("corpus.duckdb") as store:           # doctest: +SKIP
...     store.upsert(read_documents(["pubmed24n0001.xml.gz"]))
...     store.count()
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Iterator

from ..errors import InputError
from .documents import Document

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    pmid VARCHAR PRIMARY KEY,
    title VARCHAR,
    abstract VARCHAR,
    year INTEGER,
    journal VARCHAR,
    mesh_terms VARCHAR[],
    publication_types VARCHAR[],
    source VARCHAR
)
"""

COLUMNS = ("pmid", "title", "abstract", "year", "journal", "mesh_terms", "publication_types", "source")


class CorpusStore:
    """A DuckDB database of documents.

    Parameters
    ----------
    path : path-like
        Database file (created if missing); ``":memory:"`` for a throw-away store.
    read_only : bool
    """

    def __init__(self, path: str | os.PathLike, read_only: bool = False) -> None:
        import duckdb

        self.path = str(path)
        if self.path != ":memory:":
            if read_only and not Path(self.path).exists():
                raise InputError("corpus database does not exist", file=self.path,
                                 hint="create it with `discovery literature ingest`")
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(self.path, read_only=read_only)
        except duckdb.Error as err:
            raise InputError(f"cannot open corpus database: {err}", file=self.path) from err
        if not read_only:
            self.con.execute(SCHEMA)

    def __enter__(self) -> "CorpusStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    def upsert(self, docs: Iterable[Document], batch: int = 5000) -> int:
        """Insert or replace documents (by PMID); returns how many rows were written."""
        import pyarrow as pa

        n = 0
        rows: list[dict] = []

        def flush() -> None:
            if not rows:
                return
            # the last record of a PMID within one batch wins, as it would across batches
            dedup = {r["pmid"]: r for r in rows}
            table = pa.Table.from_pylist(list(dedup.values()), schema=pa.schema([
                ("pmid", pa.string()), ("title", pa.string()), ("abstract", pa.string()), ("year", pa.int32()),
                ("journal", pa.string()), ("mesh_terms", pa.list_(pa.string())),
                ("publication_types", pa.list_(pa.string())), ("source", pa.string())]))
            self.con.register("_batch", table)
            self.con.execute("INSERT OR REPLACE INTO documents SELECT * FROM _batch")
            self.con.unregister("_batch")
            rows.clear()

        for d in docs:
            rows.append(d.record())
            n += 1
            if len(rows) >= batch:
                flush()
        flush()
        return n

    def delete(self, pmids: Iterable[str]) -> int:
        ids = list(pmids)
        if not ids:
            return 0
        before = self.count()
        self.con.execute("DELETE FROM documents WHERE pmid IN (SELECT unnest(?))", [ids])
        return before - self.count()

    def count(self) -> int:
        return int(self.con.execute("SELECT count(*) FROM documents").fetchall()[0][0])

    def get(self, pmid: str) -> Document | None:
        rows = self.con.execute(f"SELECT {', '.join(COLUMNS)} FROM documents WHERE pmid = ?", [str(pmid)]).fetchall()
        row = rows[0] if rows else None
        return Document(**dict(zip(COLUMNS, row))) if row else None

    def iter_documents(self, batch: int = 10_000) -> Iterator[Document]:
        """All documents, ordered by PMID (as integers where possible)."""
        cur = self.con.cursor()
        cur.execute(f"SELECT {', '.join(COLUMNS)} FROM documents ORDER BY TRY_CAST(pmid AS BIGINT), pmid")
        while True:
            rows = cur.fetchmany(batch)
            if not rows:
                break
            for row in rows:
                yield Document(**dict(zip(COLUMNS, row)))

    def to_parquet(self, path: str | os.PathLike) -> Path:
        """Export the documents table to a Parquet file (written atomically)."""
        from ..fsutil import atomic_path

        p = Path(path)
        with atomic_path(p) as tmp:
            self.con.execute(f"COPY (SELECT * FROM documents ORDER BY pmid) TO '{tmp}' (FORMAT PARQUET)")
        return p
