"""Result-folder runners behind the CLI, the workflow rules and the notebook.

* :func:`evaluate_models` -> folder of kind ``targets.evaluate``: ``metrics.json``
  (``summary[relation][model][metric] = {mean, sd, n}``, ``runs`` per seed), ``split.json``, ``manifest.json``.
* :func:`rank_to_folder` -> folder of kind ``targets.rank``: ``ranking.tsv``, ``ranking.json``, ``manifest.json``.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..provenance import Timer, build_manifest, write_manifest
from .evaluate import evaluate_task, mean_sd, task_for
from .kg import KnowledgeGraph, abbreviation, load_kg, write_problems
from .models import get_model
from .splits import make_link_split

log = logging.getLogger(__name__)

METRICS = ("mrr", "hits@1", "hits@3", "hits@10", "auroc", "auprc")


def _inputs(kg: KnowledgeGraph) -> dict[str, str]:
    out = {}
    for p in kg.inputs:
        name = Path(p).name
        out[name if name not in out else p] = p
    return out


def evaluate_models(
    kg: KnowledgeGraph | str,
    *,
    relations: Sequence[str] = ("DaG", "CtD"),
    split: str = "random",
    models: Sequence[str] = ("degree", "pathcount"),
    seeds: Sequence[int] = (0, 1, 2),
    hparams: Mapping[str, Mapping[str, Any]] | None = None,
    sizes: Sequence[float] = (0.8, 0.1, 0.1),
    out: str | os.PathLike | None = None,
    nodes: str | None = None,
    on_error: str = "report",
) -> dict[str, Any]:
    """Train and evaluate each model on each seed's split; one training covers all relations.

    Returns
    -------
    dict
        ``{"summary": {relation: {model: {metric: {mean, sd, n}}}}, "runs": [...], "config": {...}}``
    """
    timer = Timer()
    with timer("load"):
        graph = load_kg(kg, nodes=nodes, on_error=on_error) if isinstance(kg, str) else kg
    runs = []
    for seed in seeds:
        with timer("split"):
            sp = make_link_split(graph, relations, kind=split, sizes=sizes, seed=seed)
        tasks = [task_for(et) for et in sp.target_types]
        for name in models:
            t0 = time.perf_counter()
            m = get_model(name, **dict((hparams or {}).get(name, {}))).fit(sp, tasks, seed=seed)
            train_s = time.perf_counter() - t0
            timer.timings[f"train_{name}"] = timer.timings.get(f"train_{name}", 0.0) + train_s
            for task in tasks:
                res = evaluate_task(m, sp, task)
                runs.append({"model": name, "relation": abbreviation(task.edge_type), "seed": seed,
                             "train_s": train_s, **{k: res[k] for k in res}})
                log.info("%s %s seed %d: MRR %.4f AUROC %.4f", name, task.label, seed, res["mrr"], res["auroc"])
    summary: dict[str, dict[str, Any]] = {}
    for rel in dict.fromkeys(r["relation"] for r in runs):
        for name in models:
            rr = [r for r in runs if r["relation"] == rel and r["model"] == name]
            summary.setdefault(rel, {})[name] = mean_sd(rr, list(METRICS) + ["train_s"])
    result = {
        "summary": summary, "runs": runs,
        "config": {"relations": list(relations), "split": split, "models": list(models), "seeds": list(seeds),
                   "sizes": list(sizes), "hparams": {k: dict(v) for k, v in (hparams or {}).items()}},
        "protocol": {
            "ranking": "filtered (train+val+test positives of the query removed), all candidates of the answer "
                       "type, ties count half (realistic rank); query = disease",
            "auroc": "per test disease, its test edges vs all its non-linked candidates (no sampling), pooled",
        },
        "graph": graph.summary(),
    }
    if out is not None:
        from ..fsutil import atomic_dir

        with atomic_dir(out) as tmp:
            (tmp / "metrics.json").write_text(json.dumps(result, indent=1, default=float))
            (tmp / "split.json").write_text(json.dumps(sp.summary(), indent=1))
            if graph.problems:
                write_problems(graph, tmp / "problems.tsv")
            write_manifest(tmp, build_manifest(kind="targets.evaluate", inputs=_inputs(graph), config=result["config"],
                                               seed=int(seeds[0]) if seeds else None, timings=timer.timings))
    return result


def rank_to_folder(
    kg: KnowledgeGraph | str,
    disease: str,
    *,
    question: str = "rank",
    model: str = "pathcount",
    top: int = 50,
    hide_known: bool = False,
    weights: Mapping[str, float] | None = None,
    evidence: str | None = None,
    curated: bool = True,
    seed: int = 0,
    out: str | os.PathLike | None = None,
    nodes: str | None = None,
    on_error: str = "report",
):
    """Rank genes (``question="rank"``) or compounds (``"repurpose"``) for a disease; write a result folder.

    Returns
    -------
    RankResult
    """
    from .rank import rank_candidates

    timer = Timer()
    with timer("load"):
        graph = load_kg(kg, nodes=nodes, on_error=on_error) if isinstance(kg, str) else kg
    relation = "DaG" if question in ("rank", "targets") else "CtD"
    dag = ind = None
    inputs = _inputs(graph)
    if curated and "Disease" in graph.node_ids:
        from ..data.fetcher import fetch

        try:
            if relation == "DaG":
                dag = str(fetch("hetionet-dag-sources")[0])
                inputs["DaG-association.tsv"] = dag
            else:
                ind = str(fetch("pharmacotherapydb")[0])
                inputs["indications.tsv"] = ind
        except Exception as err:  # noqa: BLE001 - a missing optional source must not stop ranking
            log.warning("curated source table unavailable (%s); ranking without it", err)
    if evidence:
        inputs[Path(evidence).name] = evidence
    with timer("rank"):
        res = rank_candidates(graph, disease, relation=relation, model=model, top=top, hide_known=hide_known,
                              seed=seed, weights=weights, dag_table=dag, indications=ind, triples=evidence)
    if out is not None:
        from ..fsutil import atomic_dir

        with atomic_dir(out) as tmp:
            res.to_frame().to_csv(tmp / "ranking.tsv", sep="\t", index=False)
            (tmp / "ranking.json").write_text(json.dumps(res.to_dict(), indent=1))
            if graph.problems:
                write_problems(graph, tmp / "problems.tsv")
            cfg = {"question": question, "relation": relation, "disease": disease, "model": model, "top": top,
                   "hide_known": hide_known, "weights": dict(res.weights), "kg": kg if isinstance(kg, str) else "in-memory"}
            write_manifest(tmp, build_manifest(kind="targets.rank", inputs=inputs, config=cfg, seed=seed,
                                               timings=timer.timings))
    return res
