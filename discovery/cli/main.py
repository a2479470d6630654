"""Entry point of the ``discovery`` command.

Subcommand groups are registered by name in :data:`COMMANDS`; each module
defines ``register(subparsers)`` and keeps heavy imports inside its handlers
so that ``discovery --help`` answers fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from .. import __version__
from ..errors import DiscoveryError

#: group name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "data": ("discovery.cli.data", "dataset registry: list, fetch, verify, info"),
    "molprop": ("discovery.cli.molprop", "molecular property prediction: train, predict, evaluate"),
    "literature": ("discovery.cli.literature", "literature mining: ingest, extract (rules or LLM), evaluate, summarize"),
    "screen": ("discovery.cli.screen", "similarity screening: index, search, cluster, pick, select (active learning)"),
    "targets": ("discovery.cli.targets", "knowledge-graph target discovery, drug repurposing, proteins"),
    "report": ("discovery.cli.report", "self-contained HTML (and PDF) report from result folders"),
    "cohorts": ("discovery.cli.cohorts", "trial-cohort screening over OMOP CDM data: load, parse, screen, synth"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="discovery",
        description="Drug-discovery research environment: property prediction, screening, targets, cohorts, literature.",
    )
    parser.add_argument("--version", action="version", version=f"discovery {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="group", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        group = sub.add_parser(name, help=help_text, description=help_text)
        importlib.import_module(module).register(group)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=[logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)],
        format="%(levelname)s %(name)s: %(message)s",
    )
    func = getattr(args, "func", None)
    if func is None:
        # a group without an action: show that group's help
        parser.parse_args([*(argv if argv is not None else sys.argv[1:]), "--help"])
        return 2
    try:
        return int(func(args) or 0)
    except DiscoveryError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
