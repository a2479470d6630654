"""The offline literature model: dictionary NER + scored CID rules, built from the mirror.

:func:`build_model` compiles the vocabularies, fits the dictionary on annotated
PubTator documents and the relation weights end to end (on the NER's own
predictions), and tunes the relation threshold on a held-out set.
:func:`default_model` builds the BC5CDR-trained model once and caches it under
``$DISCOVERY_CACHE/literature/`` keyed by the vocabulary and corpus hashes and
the code version.

Protocol used for the reported BC5CDR numbers (no test data touched):

1. NER fitted on train; relation weights fitted on train (predicted mentions);
   threshold tuned on dev (predicted mentions).
2. Final NER refitted on train + dev; the known-pair prior taken from train + dev.
3. Evaluated once on test.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from ..errors import ModelFormatError
from .documents import Document, Mention
from .ner import DictionaryNER, NERConfig
from .relations import CIDRuleExtractor, Evidence, co_mentions

MODEL_VERSION = "lit-1"


@dataclass
class LiteratureModel:
    """NER + relation extractor (+ how it was built)."""

    ner: DictionaryNER
    cid: CIDRuleExtractor
    info: dict = field(default_factory=dict)

    def mentions(self, doc: Document) -> list[Mention]:
        return self.ner.annotate(doc)

    def extract(self, doc: Document, mentions: Sequence[Mention] | None = None,
                co_mention_pairs: bool = True) -> list[Evidence]:
        """CID relations and gene co-mentions of one document, with evidence sentences."""
        from .sentences import split_sentences

        ms = self.ner.annotate(doc) if mentions is None else mentions
        spans = split_sentences(doc.text, len(doc.title) if doc.abstract else None)
        out = self.cid.extract(doc, ms, spans)
        if co_mention_pairs:
            out.extend(co_mentions(doc, ms, spans=spans))
        return out

    def save(self, folder: str | os.PathLike) -> Path:
        from ..fsutil import atomic_dir

        folder = Path(folder)
        with atomic_dir(folder) as tmp:
            self.ner.save(tmp / "ner.json.gz")
            (tmp / "cid.json").write_text(json.dumps(self.cid.to_dict()))
            (tmp / "model.json").write_text(json.dumps({"model_version": MODEL_VERSION, **self.info}, indent=2))
        return folder

    @classmethod
    def load(cls, folder: str | os.PathLike) -> "LiteratureModel":
        folder = Path(folder)
        meta_path = folder / "model.json"
        if not meta_path.is_file():
            raise ModelFormatError("not a literature model folder (no model.json)", file=str(folder),
                                   hint="build one with `discovery literature build-model`")
        info = json.loads(meta_path.read_text())
        if info.get("model_version") != MODEL_VERSION:
            raise ModelFormatError(f"model version {info.get('model_version')} (this code reads {MODEL_VERSION})",
                                   file=str(folder), hint="rebuild with `discovery literature build-model`")
        ner = DictionaryNER.load(folder / "ner.json.gz")
        cid = CIDRuleExtractor.from_dict(json.loads((folder / "cid.json").read_text()))
        return cls(ner, cid, info)


def build_model(train: Sequence[Document], dev: Sequence[Document] | None = None, *,
                config: NERConfig | None = None,
                vocabularies: tuple[str, ...] = ("mesh", "ctd", "drugbank", "hgnc")) -> LiteratureModel:
    """Build the offline model from annotated documents (see the module docstring for the protocol)."""
    import logging

    from .vocab import load_mesh_trees, load_vocabularies

    log = logging.getLogger("discovery.literature")
    t0 = time.perf_counter()
    log.info("building the literature model: loading vocabularies %s", ", ".join(vocabularies))
    terms = load_vocabularies(vocabularies)
    log.info("%d terms; fitting the dictionary on %d annotated documents", len(terms), len(train))
    ner = DictionaryNER.from_terms(terms, config).fit(train)
    train_m = [ner.annotate(d) for d in train]
    cid = CIDRuleExtractor(trees=load_mesh_trees() if "mesh" in vocabularies else None).fit(train, train_m)
    info: dict = {"vocabularies": list(vocabularies), "n_train": len(train), "n_dev": len(dev or [])}
    log.info("relation weights fitted (%.0fs)", time.perf_counter() - t0)
    if dev:
        dev_m = [ner.annotate(d) for d in dev]
        info["threshold_tuned_on_dev"] = cid.tune_threshold(dev, dev_m)
        # final dictionary and prior from train + dev
        ner = DictionaryNER.from_terms(terms, config).fit(list(train) + list(dev))
        pairs = set()
        for d in list(train) + list(dev):
            pairs |= {(r.subject.split("|")[0], r.object.split("|")[0]) for r in d.relations if r.type == "CID"}
        cid.known_pairs = pairs
    info["ner_stats"] = ner.stats
    info["cid_weights"] = cid.weights
    info["cid_threshold"] = cid.threshold
    info["build_seconds"] = round(time.perf_counter() - t0, 1)
    return LiteratureModel(ner, cid, info)


def _bc5cdr(split: str) -> list[Document]:
    from .io import read_pubtator
    from .vocab import BC5CDR_FILES, data_file

    return list(read_pubtator(data_file(BC5CDR_FILES[split])))


def default_model_key() -> str:
    """Cache key: code version + sha256 of every input file + the package source of the model code."""
    from ..data.registry import REGISTRY
    from .vocab import BC5CDR_FILES, VOCAB_FILES

    want = set(VOCAB_FILES.values()) | {BC5CDR_FILES["train"], BC5CDR_FILES["dev"]}
    h = hashlib.sha256(MODEL_VERSION.encode())
    for _info, f in REGISTRY.files():
        if f.relpath in want:
            h.update(f.sha256.encode())
    here = Path(__file__).resolve().parent
    for name in ("ner.py", "relations.py", "model.py", "abbreviations.py", "vocab.py", "sentences.py"):
        h.update((here / name).read_bytes())
    return h.hexdigest()[:16]


def default_model(cache: bool = True) -> LiteratureModel:
    """The BC5CDR-trained offline model (train + dev), built once and cached."""
    from ..config import get_settings

    folder = get_settings().cache_dir / "literature" / f"model-{default_model_key()}"
    if cache and (folder / "model.json").is_file():
        return LiteratureModel.load(folder)
    import logging

    logging.getLogger("discovery.literature").warning(
        "building the BC5CDR-trained literature model once (about 30 s); cached in %s", folder)
    model = build_model(_bc5cdr("train"), _bc5cdr("dev"))
    model.info["trained_on"] = "BC5CDR train (NER, relation weights) + dev (threshold; final dictionary and prior)"
    if cache:
        model.save(folder)
    return model
