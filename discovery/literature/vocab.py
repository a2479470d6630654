"""Vocabularies for dictionary NER: MeSH, CTD MEDIC, DrugBank open vocabulary, HGNC.

Each loader returns :class:`Term` records (surface form, entity type, id with
namespace prefix, source). Files come from the data registry
(:func:`discovery.data.fetch_file` by mirror-relative path: cache -> mirror ->
download), or from explicit paths.

=====================  ==========================================  =====================
source                 what becomes a term                         type, id
=====================  ==========================================  =====================
MeSH descriptors       label + entry terms of tree D (chemicals)   Chemical, ``MESH:D..``
                       and trees C, F03 (diseases)                 Disease, ``MESH:D..``
CTD MEDIC              disease name + synonyms                     Disease, ``MESH:D/C..``
DrugBank open vocab.   common name + synonyms                      Chemical, ``DRUGBANK:DB..``
HGNC                   approved symbol, aliases, previous          Gene, ``HGNC:n``
                       symbols, approved name
=====================  ==========================================  =====================
"""

from __future__ import annotations

import csv
import gzip
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..errors import InputError

VOCAB_FILES = {
    "mesh": "literature/vocab/mesh_id_label_mappings.tsv",
    "ctd": "literature/vocab/CTD_diseases.tsv.gz",
    "drugbank": "literature/vocab/drugbank_vocabulary.csv",
    "hgnc": "literature/vocab/hgnc_entries.tsv",
}

BC5CDR_FILES = {
    "train": "literature/bc5cdr/CDR_TrainingSet.PubTator.txt",
    "dev": "literature/bc5cdr/CDR_DevelopmentSet.PubTator.txt",
    "test": "literature/bc5cdr/CDR_TestSet.PubTator.txt",
}


@dataclass(frozen=True)
class Term:
    """One dictionary entry: ``text`` means entity ``id`` of ``type``."""

    text: str
    type: str
    id: str
    source: str
    #: MeSH tree-number prefixes (``"D27|D02"``) when the source has them, else ""
    trees: str = ""


def data_file(relpath: str) -> Path:
    """Local verified path of a registered mirror file (cache -> mirror -> download)."""
    from ..data.fetcher import fetch_file
    from ..data.registry import REGISTRY

    for _info, f in REGISTRY.files():
        if f.relpath == relpath:
            return Path(fetch_file(f))
    raise InputError(f"{relpath!r} is not a registered data file",
                     hint="register it in discovery/data/specs/literature.py")


def _text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def _mesh_type(trees: str) -> str | None:
    tt = [t for t in trees.split("|") if t]
    if any(t.startswith("C") or t.startswith("F03") for t in tt):
        return "Disease"
    if any(t.startswith("D") for t in tt):
        return "Chemical"
    return None


def load_mesh(path: str | os.PathLike | None = None) -> Iterator[Term]:
    """MeSH descriptors (id, label, entry terms, tree numbers) of the chemical and disease trees."""
    p = Path(path) if path else data_file(VOCAB_FILES["mesh"])
    with _text(p) as fh:
        for n, row in enumerate(csv.reader(fh, delimiter="\t"), start=1):
            if len(row) < 4:
                raise InputError("expected 4 tab-separated columns (id, label, entry terms, tree numbers)",
                                 file=str(p), row=n, value=row)
            typ = _mesh_type(row[3])
            if typ is None:
                continue
            mid = f"MESH:{row[0]}"
            trees = "|".join(sorted({t[:3] for t in row[3].split("|") if t}))
            yield Term(row[1], typ, mid, "mesh", trees)
            for syn in row[2].split("|"):
                if syn:
                    yield Term(syn, typ, mid, "mesh", trees)


def load_ctd_diseases(path: str | os.PathLike | None = None) -> Iterator[Term]:
    """CTD MEDIC disease vocabulary (name + synonyms; MeSH and OMIM ids)."""
    p = Path(path) if path else data_file(VOCAB_FILES["ctd"])
    with _text(p) as fh:
        for n, row in enumerate(csv.reader(fh, delimiter="\t"), start=1):
            if not row or row[0].startswith("#"):
                continue
            if len(row) < 8:
                raise InputError("expected 9 tab-separated CTD columns", file=str(p), row=n, value=row[:2])
            did = row[1]
            if not did.startswith("MESH:"):
                continue
            yield Term(row[0], "Disease", did, "ctd")
            for syn in row[7].split("|"):
                if syn:
                    yield Term(syn, "Disease", did, "ctd")


def load_drugbank(path: str | os.PathLike | None = None) -> Iterator[Term]:
    """DrugBank open vocabulary (common name + synonyms; ``;``-separated, two header lines)."""
    p = Path(path) if path else data_file(VOCAB_FILES["drugbank"])
    with _text(p) as fh:
        reader = csv.reader(fh, delimiter=";")
        for n, row in enumerate(reader, start=1):
            if n <= 2 and (not row or not row[0].startswith("DB")):
                continue
            if len(row) < 6:
                raise InputError("expected 7 ';'-separated DrugBank columns", file=str(p), row=n, value=row[:2])
            did = f"DRUGBANK:{row[0]}"
            yield Term(row[2], "Chemical", did, "drugbank")
            for syn in row[5].split(" | "):
                if syn.strip():
                    yield Term(syn.strip(), "Chemical", did, "drugbank")


def load_hgnc(path: str | os.PathLike | None = None) -> Iterator[Term]:
    """Approved HGNC genes: symbol, alias and previous symbols, approved name."""
    p = Path(path) if path else data_file(VOCAB_FILES["hgnc"])
    with _text(p) as fh:
        reader = csv.DictReader(fh, delimiter="\t")
        need = {"HGNC ID", "Approved symbol", "Approved name", "Status", "Alias symbols", "Previous symbols"}
        if not need <= set(reader.fieldnames or ()):
            raise InputError(f"HGNC header lacks {sorted(need - set(reader.fieldnames or ()))}", file=str(p), row=1)
        for row in reader:
            if row["Status"] != "Approved":
                continue
            hid = row["HGNC ID"]
            yield Term(row["Approved symbol"], "Gene", hid, "hgnc-symbol")
            for col in ("Alias symbols", "Previous symbols"):
                for s in (row[col] or "").split(","):
                    if s.strip():
                        yield Term(s.strip(), "Gene", hid, "hgnc-alias")
            if row["Approved name"]:
                yield Term(row["Approved name"], "Gene", hid, "hgnc-name")


LOADERS = {"mesh": load_mesh, "ctd": load_ctd_diseases, "drugbank": load_drugbank, "hgnc": load_hgnc}


def load_vocabularies(names: tuple[str, ...] = ("mesh", "ctd", "drugbank", "hgnc"),
                      paths: dict[str, str | os.PathLike] | None = None) -> list[Term]:
    """Terms of the named vocabularies, in the order given (earlier wins on conflicts)."""
    out: list[Term] = []
    for name in names:
        if name not in LOADERS:
            raise InputError(f"unknown vocabulary {name!r}", value=name, hint=f"one of {sorted(LOADERS)}")
        out.extend(LOADERS[name]((paths or {}).get(name)))
    return out


def load_mesh_trees(path: str | os.PathLike | None = None, prefixes: tuple[str, ...] = ("C", "F03")) -> dict[str, list[str]]:
    """``MESH:D...`` -> tree numbers, for descriptors with a tree number under ``prefixes`` (diseases)."""
    p = Path(path) if path else data_file(VOCAB_FILES["mesh"])
    out: dict[str, list[str]] = {}
    with _text(p) as fh:
        for row in csv.reader(fh, delimiter="\t"):
            if len(row) >= 4:
                trees = [t for t in row[3].split("|") if t.startswith(prefixes)]
                if trees:
                    out[f"MESH:{row[0]}"] = trees
    return out
