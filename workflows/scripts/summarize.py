"""Concatenate per-run metrics JSON files into one tidy table (plumbing, no statistics).

Called by the workflow's ``summarize`` rule through Snakemake's ``script:``
directive. Every ``metrics.json`` of training (test split) and of the
re-evaluation becomes rows ``dataset, seed, stage, metric, value``; nested
keys are joined with ``.``. Aggregation over seeds (mean, sd) belongs to a
future ``discovery molprop summarize`` command, not to this script.
"""


import csv
import json
import math
import os
import sys
from pathlib import Path
from typing import Any, Iterator


def flatten(obj: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Yield ``(dotted.key, scalar)`` for every leaf of nested dicts; lists become JSON text."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from flatten(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(obj, list):
        yield prefix, json.dumps(obj)
    else:
        yield prefix, obj


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "nan" if math.isnan(value) else repr(value)
    return str(value)


def main(train: list[str], evaluate: list[str], labels: list[str], out: str) -> None:
    if not (len(train) == len(evaluate) == len(labels)):
        raise SystemExit(f"summarize: {len(train)} train, {len(evaluate)} evaluate files, {len(labels)} labels")
    rows = []
    for label, train_file, eval_file in zip(labels, train, evaluate):
        dataset, seed = label.split("\t")
        for stage, path in (("train", train_file), ("evaluate", eval_file)):
            with open(path) as fh:
                data = json.load(fh)
            for key, value in flatten(data):
                rows.append((dataset, seed, stage, key, cell(value), path))
    tmp = Path(f"{out}.partial-{os.getpid()}")
    with open(tmp, "w", newline="") as fh:
        writer = csv.writer(fh, delimiter="\t", lineterminator="\n")
        writer.writerow(("dataset", "seed", "stage", "metric", "value", "source"))
        writer.writerows(rows)
    os.replace(tmp, out)
    print(f"summarize: {len(rows)} rows from {len(labels)} runs -> {out}", file=sys.stderr)


if __name__ == "__main__" and "snakemake" in globals():
    snakemake = globals()["snakemake"]
    with open(snakemake.log[0], "w") as log:
        sys.stderr = log
        main(
            list(snakemake.input.train),
            list(snakemake.input.evaluate),
            list(snakemake.params.labels),
            snakemake.output.summary,
        )
