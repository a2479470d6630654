"""``discovery literature``: ingest, extract, evaluate, summarize, merge, build-model, edges.

Examples
--------
::

    discovery literature ingest pubmed24n0001.xml.gz more.xml --db corpus.duckdb --out runs/lit/ingest
    discovery literature extract corpus.duckdb --out runs/lit/extract                 # offline rules
    discovery literature extract corpus.duckdb --out runs/lit/llm --extractor llm \\
        --llm-url http://127.0.0.1:8080/v1 --llm-dialect llamacpp
    discovery literature evaluate --split test --out runs/lit/eval                    # BC5CDR
    discovery literature summarize --evidence runs/lit/extract --entity HGNC:1100 --out runs/lit/brca1
    discovery literature merge runs/lit/extract-* --out runs/lit/evidence   # shards -> one table + edges
    discovery literature edges --evidence runs/lit/extract --out lit-edges.parquet

Library imports happen inside the handlers so ``discovery --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys


def _llm_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("LLM endpoint (default from DISCOVERY_LLM_* variables)")
    g.add_argument("--llm-url", default=None, help="OpenAI-compatible base URL, e.g. http://127.0.0.1:8080/v1")
    g.add_argument("--llm-model", default=None, help="model name the server knows")
    g.add_argument("--llm-dialect", default=None, choices=["openai", "llamacpp", "ollama"],
                   help="structured-output dialect (default openai)")
    g.add_argument("--llm-concurrency", type=int, default=None, help="parallel requests (default 4)")
    g.add_argument("--llm-timeout", type=float, default=None, help="seconds per request (default 60)")
    g.add_argument("--local-host", action="append", default=None, metavar="HOST",
                   help="treat HOST (name, *.suffix or CIDR) as a local endpoint; repeatable")
    g.add_argument("--allow-remote", action="store_true",
                   help="allow private text to go to a remote endpoint (off by default)")


def _client(args: argparse.Namespace):
    from ..llm import ChatClient, LLMConfig

    opts = {"base_url": args.llm_url, "model": args.llm_model, "dialect": args.llm_dialect,
            "concurrency": args.llm_concurrency, "timeout_s": args.llm_timeout}
    if args.local_host:
        opts["local_hosts"] = tuple(args.local_host)
    if args.allow_remote:
        opts["allow_remote"] = True
    client = ChatClient(LLMConfig.from_env(**opts))
    print(client.policy_line(), file=sys.stderr)
    return client


def register(parser: argparse.ArgumentParser) -> None:
    """Add the literature actions."""
    sub = parser.add_subparsers(dest="action", metavar="ACTION")

    p = sub.add_parser("ingest", help="read PubMed XML / MEDLINE / PubTator files into a corpus database",
                       description="Stream the files (PubMed XML, .xml.gz, MEDLINE text, PubTator; format detected) "
                       "into a DuckDB corpus with idempotent upserts by PMID. Malformed files are reported with "
                       "file and position and the other files are still read.")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--db", required=True, help="DuckDB corpus file (created if missing)")
    p.add_argument("--parquet", default=None, help="also export the documents table to this Parquet file")
    p.add_argument("--out", default=None, help="result folder (summary.json, problems.tsv, manifest.json)")
    p.add_argument("--on-error", choices=["report", "raise"], default="report")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("fetch", help="search and fetch PubMed records live (NCBI E-utilities) into a corpus database",
                       description="ESearch for --query (up to --retmax PMIDs) and/or the given --pmids, EFetch "
                       "their PubMed XML and upsert the records into the DuckDB corpus, at NCBI's rate limit "
                       "(3 requests/s, 10 with an API key). NCBI requires a contact email.")
    p.add_argument("--db", required=True, help="DuckDB corpus file (created if missing)")
    p.add_argument("--query", default=None, help="PubMed query, e.g. 'famotidine AND delirium'")
    p.add_argument("--pmids", default="", help="comma-separated PMIDs to fetch as well")
    p.add_argument("--retmax", type=int, default=100, help="most PMIDs taken from the search (default 100)")
    p.add_argument("--email", default=None, help="contact email sent to NCBI (default: $NCBI_EMAIL)")
    p.add_argument("--api-key", default=None, help="NCBI API key (default: $NCBI_API_KEY)")
    p.add_argument("--base-url", default=None, help="E-utilities root (default NCBI's; a local mirror or test server)")
    p.add_argument("--out", default=None, help="result folder (summary.json, pmids.txt, problems.tsv, manifest.json)")
    p.set_defaults(func=cmd_fetch)

    p = sub.add_parser("extract", help="entities and relations with evidence sentences -> evidence.parquet",
                       description="Dictionary NER, then CID relations (rules or an LLM) and gene co-mentions, "
                       "each with a verbatim evidence sentence. Inputs: literature files or .duckdb corpora.")
    p.add_argument("inputs", nargs="+", metavar="INPUT")
    p.add_argument("--out", required=True, help="result folder")
    p.add_argument("--extractor", default="rules", help="relation extractor: rules (offline) or llm")
    p.add_argument("--model-dir", default=None, help="literature model folder (default: BC5CDR-trained, cached)")
    p.add_argument("--no-co-mentions", action="store_true", help="skip gene-disease / chemical-gene co-mentions")
    _llm_args(p)
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("evaluate", help="BC5CDR evaluation: NER P/R/F1, document ids, CID F1, throughput")
    p.add_argument("--split", choices=["train", "dev", "test"], default="test")
    p.add_argument("--limit", type=int, default=None, help="first N documents only")
    p.add_argument("--out", default=None, help="result folder (metrics.json, manifest.json)")
    p.add_argument("--extractor", default="rules", help="rules or llm")
    p.add_argument("--model-dir", default=None)
    _llm_args(p)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("summarize", help="short cited summary of the evidence about one entity")
    p.add_argument("--evidence", required=True, help="evidence.parquet or an extract result folder")
    p.add_argument("--entity", required=True, help="prefixed id, e.g. HGNC:1100 or MESH:D003693")
    p.add_argument("--out", default=None, help="result folder (summary.md, summary.json, manifest.json)")
    p.add_argument("--max-bullets", type=int, default=8)
    p.add_argument("--use-llm", action="store_true", help="write the bullets with the configured LLM")
    _llm_args(p)
    p.set_defaults(func=cmd_summarize)

    p = sub.add_parser("merge", help="merge extract folders (shards) into one evidence folder with edges.parquet")
    p.add_argument("folders", nargs="+", metavar="FOLDER")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_merge)

    p = sub.add_parser("build-model", help="build the offline model (dictionary + relation weights) from BC5CDR")
    p.add_argument("--out", required=True, help="model folder")
    p.set_defaults(func=cmd_build_model)

    p = sub.add_parser("edges", help="aggregate evidence into literature edges for the knowledge graph")
    p.add_argument("--evidence", required=True)
    p.add_argument("--out", required=True, help="Parquet file of edges")
    p.set_defaults(func=cmd_edges)


def cmd_ingest(args: argparse.Namespace) -> int:
    from ..literature.pipeline import ingest

    s = ingest(args.paths, args.db, out=args.out, parquet=args.parquet, on_error=args.on_error)
    for p in s.pop("problems"):
        print(f"skipped: {p['file']} ({p['position']}): {p['reason']}", file=sys.stderr)
    print(json.dumps(s, indent=2))
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    from ..literature.pipeline import fetch_pubmed

    pmids = [p.strip() for p in args.pmids.split(",") if p.strip()]
    s = fetch_pubmed(args.db, query=args.query, pmids=pmids, email=args.email, api_key=args.api_key,
                     retmax=args.retmax, base_url=args.base_url, out=args.out)
    for p in s.pop("problems"):
        print(f"skipped: {p['file']} ({p['position']}): {p['reason']}", file=sys.stderr)
    print(json.dumps(s, indent=2))
    return 0


def cmd_extract(args: argparse.Namespace) -> int:
    from ..literature.pipeline import extract

    opts = {}
    if args.extractor == "llm":
        from ..literature.model import LiteratureModel, default_model

        model = LiteratureModel.load(args.model_dir) if args.model_dir else default_model()
        opts = {"client": _client(args), "ner": model.ner}
    s = extract(args.inputs, args.out, extractor=args.extractor, model_dir=args.model_dir,
                co_mentions=not args.no_co_mentions, extractor_options=opts)
    s.get("extractor_stats", {}).pop("problems", None)
    print(json.dumps(s, indent=2, default=str))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from ..fsutil import atomic_dir
    from ..literature.evaluate import evaluate_bc5cdr
    from ..literature.model import LiteratureModel, default_model
    from ..provenance import Timer, build_manifest, write_manifest

    timer = Timer()
    with timer("load_model"):
        model = LiteratureModel.load(args.model_dir) if args.model_dir else default_model()
    ex = None
    if args.extractor == "llm":
        from ..literature.llm_extract import LLMRelationExtractor

        ex = LLMRelationExtractor(client=_client(args), ner=model.ner)
    elif args.extractor != "rules":
        from ..errors import InputError

        raise InputError(f"unknown extractor {args.extractor!r}", value=args.extractor, hint="rules or llm")
    with timer("evaluate"):
        m = evaluate_bc5cdr(model, args.split, args.limit, relation_extractor=ex)
    if ex is not None:
        m["llm"] = {k: v for k, v in ex.stats().items() if k != "problems"}
    ner, cid = m["ner"]["mention"], m["cid"]
    print(f"BC5CDR {args.split} ({m['n_docs']} docs)")
    for t in ("Chemical", "Disease"):
        print(f"  NER {t:9s} P={ner[t]['precision']:.3f} R={ner[t]['recall']:.3f} F1={ner[t]['f1']:.3f}   "
              f"doc-id F1={m['ner']['doc_id'][t]['f1']:.3f}")
    print(f"  CID ({m['extractor']}) P={cid['precision']:.3f} R={cid['recall']:.3f} F1={cid['f1']:.3f}")
    print(f"  throughput: NER {m['throughput']['ner_abstracts_per_s']:.0f} abstracts/s, "
          f"NER+CID {m['throughput']['ner_plus_cid_abstracts_per_s']:.0f} abstracts/s (1 core)")
    if args.out:
        with atomic_dir(args.out) as tmp:
            (tmp / "metrics.json").write_text(json.dumps(m, indent=2))
            write_manifest(tmp, build_manifest(kind="literature.evaluate",
                                               config={"split": args.split, "limit": args.limit,
                                                       "extractor": args.extractor,
                                                       "model_dir": args.model_dir or "default (BC5CDR)"},
                                               timings=timer.timings, extra={"metrics": m, "model": model.info}))
    return 0


def cmd_summarize(args: argparse.Namespace) -> int:
    from ..literature.summarize import summarize_entity, write_summary

    llm = _client(args) if args.use_llm else None
    s = summarize_entity(args.evidence, args.entity, max_bullets=args.max_bullets, llm=llm)
    if args.out:
        write_summary(s, args.out)
    print(s.markdown())
    return 0


def cmd_merge(args: argparse.Namespace) -> int:
    from ..literature.pipeline import merge

    print(json.dumps(merge(args.folders, args.out), indent=2))
    return 0


def cmd_build_model(args: argparse.Namespace) -> int:
    from ..literature.model import default_model

    m = default_model()  # built from BC5CDR train/dev once, then read from the cache
    m.save(args.out)
    print(json.dumps({k: v for k, v in m.info.items() if k != "ner_stats"}, indent=2))
    return 0


def cmd_edges(args: argparse.Namespace) -> int:
    from ..fsutil import atomic_path
    from ..literature.pipeline import evidence_to_edges

    edges = evidence_to_edges(args.evidence)
    with atomic_path(args.out) as tmp:
        edges.to_parquet(tmp, index=False)
    print(f"{len(edges)} edges -> {args.out}")
    return 0
