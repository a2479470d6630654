"""``discovery cohorts``: load an OMOP CDM, parse eligibility text, screen patients, synthesise CDMs.

Examples
--------
::

    discovery cohorts load synthea27nj
    discovery cohorts parse --nct-file trials/clinical_trials.csv --nct NCT04346355
    discovery cohorts parse --text criteria.txt --cdm gibleed --out runs/parsed
    discovery cohorts screen --cdm mimic-iv-demo-omop --criteria trial.yaml --out runs/screen
    discovery cohorts screen --cdm runs/synth --text criteria.txt --out runs/screen --small-cell 0
    discovery cohorts synth --persons 1000000 --seed 0 --out runs/synth
    discovery cohorts evaluate-parser --out runs/parser-eval

Outputs carry person_id only; aggregate counts below ``--small-cell`` (default
5) are written as "<5". duckdb and pandas are imported inside the handlers.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(parser: argparse.ArgumentParser) -> None:
    """Add ``load``, ``parse``, ``screen``, ``synth`` and ``evaluate-parser`` to the ``cohorts`` group."""
    sub = parser.add_subparsers(dest="action", metavar="ACTION")

    p = sub.add_parser("load", help="load and validate an OMOP CDM; print tables, version, warnings",
                       description="Load an OMOP CDM (folder of CSV/Parquet, zip, DuckDB file or registered name) into "
                       "DuckDB, validate required tables and columns, and print a summary.")
    p.add_argument("cdm", help="CDM folder, .zip, .duckdb file, or dataset name (synthea27nj, mimic-iv-demo-omop, gibleed)")
    p.add_argument("--db", help="persist the loaded tables into this DuckDB file")
    p.add_argument("--schema", help="schema of the CDM tables in an existing DuckDB file")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=_load)

    p = sub.add_parser("parse", help="parse eligibility text into structured criteria (with source spans)",
                       description="Split an eligibility block into inclusion/exclusion items and structure age, sex, "
                       "lab thresholds, diagnoses and drugs; unparsed items are listed for manual review.")
    _text_args(p, required=True)
    p.add_argument("--cdm", help="match diagnoses/drugs against this CDM's vocabulary (names and synonyms)")
    p.add_argument("--parser", default="rules", help="parser to use (registered: rules, llm)")
    p.add_argument("--out", help="write criteria.yaml, parsed_criteria.json and manifest.json to this folder")
    p.add_argument("--format", choices=("yaml", "json"), default="yaml", help="printed format (default yaml)")
    p.set_defaults(func=_parse)

    p = sub.add_parser("screen", help="screen a CDM against trial criteria; write evidence, funnel, near misses",
                       description="Screen every person of an OMOP CDM against trial criteria (YAML/JSON, or parsed from "
                       "text) and write a result folder: eligible.csv, evidence.parquet, funnel.csv, rule_counts.csv, "
                       "near_misses.csv, criteria.yaml, summary.json, manifest.json.")
    p.add_argument("--cdm", required=True, help="CDM folder, .zip, .duckdb file or dataset name")
    p.add_argument("--criteria", help="criteria file (.yaml/.yml/.json, or an OHDSI Circe cohort .json)")
    _text_args(p, required=False)
    p.add_argument("--out", required=True, help="result folder (written atomically)")
    p.add_argument("--disable", action="append", default=[], metavar="RULE", help="switch a rule off (repeatable)")
    p.add_argument("--small-cell", type=int, default=5,
                   help="aggregate counts 1..N-1 are written as '<N' (default 5; 0 shows every count)")
    p.add_argument("--allow-unknown-concepts", action="store_true",
                   help="warn instead of failing on concept ids unknown to vocabulary and data")
    p.add_argument("--memory-limit", help="DuckDB memory_limit, e.g. 4GB")
    p.add_argument("--threads", type=int, help="DuckDB threads")
    p.add_argument("--schema", help="schema of the CDM tables in an existing DuckDB file")
    p.add_argument("--vocab-cdm", help="match parsed diagnoses/drugs against this CDM's vocabulary instead of --cdm's "
                   "(standard concept ids are shared across OMOP CDMs; e.g. synthea27nj for the MIMIC demo)")
    p.set_defaults(func=_screen)

    p = sub.add_parser("synth", help="write a synthetic OMOP CDM (Parquet), deterministic per seed",
                       description="Synthesise an OMOP-shaped CDM 5.4 (persons, observation periods, visits, conditions, "
                       "drugs, measurements with vocabulary units) as one Parquet file per table.")
    p.add_argument("--persons", type=int, default=10000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True)
    p.set_defaults(func=_synth)

    p = sub.add_parser("evaluate-parser", help="parser vs the 64 gold numeric criteria; coverage on criteria-lct",
                       description="Precision/recall of the rule-based parser on the Clinical-Trial-Parser gold and "
                       "parse coverage on the 1,000 Leaf Clinical Trials texts (from the data registry).")
    p.add_argument("--vocab-cdm", help="CDM whose vocabulary is used for the coverage run (e.g. synthea27nj)")
    p.add_argument("--out", help="write evaluation.json and manifest.json to this folder")
    p.set_defaults(func=_evaluate)


def _text_args(p: argparse.ArgumentParser, required: bool) -> None:
    p.add_argument("--text", help="file with eligibility criteria text")
    p.add_argument("--nct-file", help="CSV with nct_id and eligibility_criteria columns (e.g. trials/clinical_trials.csv)")
    p.add_argument("--nct", help="NCT id to take from --nct-file")


def _read_text(args: argparse.Namespace) -> tuple[str, str | None, dict[str, str]]:
    from discovery.errors import InputError

    if args.text:
        path = Path(args.text)
        if not path.is_file():
            raise InputError("eligibility text file not found", file=str(path))
        return path.read_text(encoding="utf-8", errors="replace"), path.stem, {"text": str(path)}
    if args.nct_file or args.nct:
        if not (args.nct_file and args.nct):
            raise InputError("--nct-file and --nct go together")
        from discovery.cohorts.parser import read_nct_file

        text, _row = read_nct_file(_data_path(args.nct_file), args.nct)
        return text, args.nct, {"nct_file": _data_path(args.nct_file)}
    raise InputError("give --text FILE or --nct-file CSV --nct ID")


def _data_path(p: str) -> str:
    """A path as given, or relative to the data mirror's ``cohorts/`` (``trials/clinical_trials.csv``)."""
    if Path(p).exists():
        return p
    from discovery.config import get_settings

    s = get_settings()
    if s.data_mirror is not None:
        for cand in (s.data_mirror / p, s.data_mirror / "cohorts" / p):
            if cand.exists():
                return str(cand)
    return p


def _load(args: argparse.Namespace) -> int:
    from discovery.cohorts import load_cdm

    cdm = load_cdm(args.cdm, database=args.db, schema=args.schema)
    s = cdm.summary()
    if args.json:
        print(json.dumps(s, indent=2))
    else:
        print(f"OMOP CDM {s['cdm_version']} from {s['source']}")
        for t, n in s["tables"].items():
            print(f"  {t:<24} {n:>12,}")
        print(f"descendants via: {cdm.vocab.hierarchy_source}")
        for w in s["warnings"]:
            print(f"warning: {w}", file=sys.stderr)
        if args.db:
            print(f"tables stored in {args.db}")
    cdm.close()
    return 0


#: parser name -> "module:function(text, vocab=..., trial_id=...) -> ParsedEligibility"
PARSERS = {"rules": "discovery.cohorts.parser:parse_eligibility", "llm": "discovery.cohorts.llm_parser:parse_eligibility_llm"}


def _get_parser(name: str):
    import importlib

    from discovery.errors import InputError

    if name not in PARSERS:
        raise InputError("unknown parser", value=name, hint=f"choose one of: {', '.join(PARSERS)}")
    mod, _, fn = PARSERS[name].partition(":")
    try:
        return getattr(importlib.import_module(mod), fn)
    except ImportError as exc:
        raise InputError(f"parser '{name}' is not available: {exc}") from None


def _parse(args: argparse.Namespace) -> int:
    from discovery.cohorts.parser import to_trial_criteria

    text, trial_id, inputs = _read_text(args)
    vocab = None
    if args.cdm:
        from discovery.cohorts import load_cdm

        vocab = load_cdm(args.cdm).vocab
    parsed = _get_parser(args.parser)(text, vocab=vocab, trial_id=trial_id)
    crit = to_trial_criteria(parsed, name=trial_id)
    print(crit.to_yaml() if args.format == "yaml" else crit.to_json())
    print(f"# {sum(i.parsed for i in parsed.items)}/{len(parsed.items)} items structured; "
          f"{len(crit.needs_review)} need manual review", file=sys.stderr)
    if args.out:
        from discovery.fsutil import atomic_dir
        from discovery.provenance import build_manifest, write_manifest

        with atomic_dir(args.out) as tmp:
            (tmp / "criteria.yaml").write_text(crit.to_yaml(), encoding="utf-8")
            (tmp / "parsed_criteria.json").write_text(json.dumps(parsed.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8")
            write_manifest(tmp, build_manifest(kind="cohorts.parse", inputs=inputs,
                                               config={"parser": args.parser, "trial_id": trial_id, "cdm": args.cdm},
                                               extra={"metrics": {"items": len(parsed.items), "coverage": parsed.coverage,
                                                                  "needs_review": len(crit.needs_review)}}))
    return 0


def _screen(args: argparse.Namespace) -> int:
    from discovery.cohorts import load_cdm, load_criteria, screen, write_screen
    from discovery.cohorts.output import suppress
    from discovery.errors import InputError

    cdm = load_cdm(args.cdm, schema=args.schema, memory_limit=args.memory_limit, threads=args.threads)
    parsed = None
    inputs: dict[str, str] = {}
    if args.criteria:
        crit = load_criteria(args.criteria)
        inputs["criteria"] = args.criteria
    elif args.text or args.nct_file:
        from discovery.cohorts.parser import parse_eligibility, to_trial_criteria

        text, trial_id, inputs = _read_text(args)
        vocab = load_cdm(args.vocab_cdm).vocab if args.vocab_cdm else cdm.vocab
        parsed = parse_eligibility(text, vocab=vocab, trial_id=trial_id)
        crit = to_trial_criteria(parsed, name=trial_id)
    else:
        raise InputError("give --criteria FILE, or --text FILE / --nct-file CSV --nct ID")
    if Path(str(args.cdm)).exists() and Path(args.cdm).is_file():
        inputs["cdm"] = str(args.cdm)
    res = screen(cdm, crit, strict_concepts=not args.allow_unknown_concepts)
    if args.disable:
        res = res.with_rules(disable=args.disable)
    out = write_screen(res, args.out, small_cell=args.small_cell, inputs=inputs, parsed=parsed,
                       config={"cdm": str(args.cdm), "disabled": args.disable})
    f = res.funnel()
    print(f"{crit.name}: {suppress(res.n_eligible, args.small_cell)} eligible of {suppress(res.n_initial, args.small_cell)} "
          f"(OMOP CDM {cdm.version}, {cdm.source})")
    for r in f.itertuples():
        flag = "" if r.enabled else "  [off]"
        print(f"  {r.step:>2}. {r.rule[:60]:<60} {suppress(r.remaining, args.small_cell):>10}{flag}")
    for w in res.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(f"wrote {out}")
    return 0


def _synth(args: argparse.Namespace) -> int:
    from discovery.cohorts import synthesize_cdm

    info = synthesize_cdm(args.out, persons=args.persons, seed=args.seed)
    print(f"wrote {args.out}: {info['persons']:,} persons, {info['events']:,} events in {info['seconds']}s")
    for t, n in info["tables"].items():
        print(f"  {t:<24} {n:>12,}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from discovery.cohorts.evaluate import HELDOUT_GOLD, evaluate_numeric, parse_coverage
    from discovery.data import registry
    from discovery.data.fetcher import fetch

    gold = {p.name: p for p in fetch(registry.get("trial-criteria-gold"))}
    lct = fetch(registry.get("criteria-lct"))
    root = Path(lct[0]).parents[1]
    num = evaluate_numeric(gold["clinical_trials.csv"], gold["cfg_parsed_clinical_trials.tsv"])
    held = evaluate_numeric(root, HELDOUT_GOLD)
    vocab = None
    if args.vocab_cdm:
        from discovery.cohorts import load_cdm

        vocab = load_cdm(args.vocab_cdm).vocab
    cov = parse_coverage(root, vocab=vocab)
    print("numeric criteria vs gold (Clinical-Trial-Parser, 64 criteria):")
    for k in ("n_gold", "n_predicted", "n_matched", "variable_precision", "variable_recall", "variable_f1",
              "bounds_accuracy", "unit_accuracy", "inclusivity_accuracy", "all_correct_recall"):
        print(f"  {k:<22} {num[k]}")
    print(f"numeric criteria vs held-out gold ({held['n_trials']} criteria-lct texts, {held['n_gold']} criteria):")
    for k in ("n_predicted", "n_matched", "variable_precision", "variable_recall", "variable_f1",
              "bounds_accuracy", "unit_accuracy", "inclusivity_accuracy", "all_correct_recall"):
        print(f"  {k:<22} {held[k]}")
    print("coverage on criteria-lct (1,000 texts):")
    for k in ("n_texts", "n_items", "n_items_structured", "item_coverage", "section_split_rate", "needs_review_items"):
        print(f"  {k:<22} {cov[k]}")
    if args.out:
        from discovery.fsutil import atomic_dir
        from discovery.provenance import build_manifest, write_manifest

        with atomic_dir(args.out) as tmp:
            (tmp / "evaluation.json").write_text(json.dumps({"numeric": num, "numeric_heldout": held, "coverage": cov},
                                                            indent=2), encoding="utf-8")
            write_manifest(tmp, build_manifest(kind="cohorts.parser_eval", config={"vocab_cdm": args.vocab_cdm},
                                               extra={"metrics": {k: v for k, v in num.items() if isinstance(v, float)}
                                                      | {"item_coverage": cov["item_coverage"]}}))
    return 0
