"""DuckDB corpus store: idempotent upserts, deletes, Parquet export."""

from __future__ import annotations

import pandas as pd
import pytest

from discovery.errors import InputError
from discovery.literature.documents import Document
from discovery.literature.store import CorpusStore


def test_upsert_is_idempotent_and_replaces(tmp_path):
    db = tmp_path / "c.duckdb"
    docs = [Document(pmid=str(i), title=f"T{i}", abstract="A", year=2000 + i, mesh_terms=["D1|X"]) for i in range(5)]
    with CorpusStore(db) as s:
        assert s.upsert(docs) == 5
        s.upsert(docs)
        assert s.count() == 5
        s.upsert([Document(pmid="3", title="new title")])
        assert s.count() == 5 and s.get("3").title == "new title" and s.get("3").year is None
        assert s.delete(["1", "2", "404"]) == 2
        assert [d.pmid for d in s.iter_documents()] == ["0", "3", "4"]
        out = s.to_parquet(tmp_path / "docs.parquet")
    df = pd.read_parquet(out)
    assert list(df.columns) == ["pmid", "title", "abstract", "year", "journal", "mesh_terms", "publication_types",
                                "source"]
    assert list(df.loc[df.pmid == "0", "mesh_terms"].iloc[0]) == ["D1|X"]
    with CorpusStore(db) as s:  # persisted
        assert s.count() == 3


def test_read_only_missing_database_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        CorpusStore(tmp_path / "nope.duckdb", read_only=True)
