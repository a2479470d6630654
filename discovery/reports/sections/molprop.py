"""Report section for ``molprop.train`` result folders.

Result folder layout read here (written by ``discovery molprop train --out``)::

    metrics.json          task_type, target_cols, n_train/n_val/n_test/n_invalid,
                          test/val: {target: {rmse, mae, r2 | roc_auc, pr_auc, ...}},
                          members: {test: [per-member tables], summary: {test: {target: {metric: {mean, sd}}}}},
                          uncertainty: {method, test: {target: {miscalibration_area_before/after,
                                        coverage90_before/after, ...}}, calibration_scale: {target: s}}
    test_predictions.csv  smiles, row, <t>_true, <t>_pred, <t>_std
    splits.json           train/val/test with SMILES
    invalid_rows.csv      rejected input rows
    manifest.json         kind, config, seed, inputs with sha256, versions, git commit
    model/bundle.json     model name, hyperparameters, calibration

Every value is looked up defensively (several key spellings); a value that
is not found is shown as "not reported" and never estimated. Folders that
differ only by seed are grouped; numbers are mean ± sd over seeds.
"""

from __future__ import annotations

import logging
import math
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from ..html import NOT_REPORTED, esc, figure, fmt_mean_sd, fmt_num, mean_sd, table
from ..references import dataset_references, ref
from ..registry import Reference, ReportOptions, Section, SummaryItem
from ..results import ResultFolder
from .generic import flatten_numbers

log = logging.getLogger(__name__)

# ----------------------------------------------------------------------------- metric names

#: canonical metric -> accepted spellings (compared after lower-casing and turning -, space into _)
METRIC_ALIASES: dict[str, tuple[str, ...]] = {
    "rmse": ("rmse",),
    "mae": ("mae",),
    "r2": ("r2", "r^2", "r_squared", "rsquared"),
    "roc_auc": ("roc_auc", "rocauc", "auroc", "auc_roc", "roc"),
    "pr_auc": ("pr_auc", "prauc", "auprc", "average_precision", "auc_pr"),
    "ece": ("ece", "expected_calibration_error"),
}
METRIC_LABELS = {"rmse": "RMSE", "mae": "MAE", "r2": "R²", "roc_auc": "ROC-AUC", "pr_auc": "PR-AUC", "ece": "ECE"}
HIGHER_IS_BETTER = {"rmse": False, "mae": False, "r2": True, "roc_auc": True, "pr_auc": True, "ece": False}
REGRESSION = ("rmse", "mae", "r2")
CLASSIFICATION = ("roc_auc", "pr_auc")
_MEMBER_TOKENS = ("member", "members", "per_member", "member_summary")
_SPLIT_TOKENS = {"train", "val", "valid", "validation", "test"}
_EXCLUDE_TOKENS = {"baseline", "baseline_train_mean", "uncertainty", "calibration", "timings_s", "fit"}

#: Test molecules checked for the "outside domain" count (a seeded sample above this).
AD_SAMPLE = 1000

MODEL_NAMES = {"dmpnn": "D-MPNN", "d-mpnn": "D-MPNN", "mpnn": "MPNN", "gin": "GIN", "attentivefp": "AttentiveFP"}
MODEL_REFS = {"dmpnn": "dmpnn", "d-mpnn": "dmpnn", "gin": "gin", "attentivefp": "attentivefp"}


def _norm(key: str) -> str:
    return re.sub(r"[\s\-]+", "_", str(key).strip().lower())


def _is_test(tok: str) -> bool:
    return tok == "test" or tok.startswith("test_") or tok.endswith("_test")


def _is_other_split(tok: str) -> bool:
    return tok in {"train", "val", "valid", "validation"} or tok.startswith(("val_", "train_")) or tok.endswith(("_val", "_train"))


# ----------------------------------------------------------------------------- one run


class MolpropRun:
    """Defensive view of one ``molprop.train`` result folder.

    Parameters
    ----------
    result : ResultFolder
    """

    def __init__(self, result: ResultFolder) -> None:
        self.r = result
        raw = result.json("metrics.json")
        self.metrics: dict[str, Any] = raw if isinstance(raw, dict) else {}
        b = result.json("model/bundle.json")
        self.bundle: dict[str, Any] = b if isinstance(b, dict) else {}
        self._flat = [(tuple(_norm(k) for k in p), v) for p, v in flatten_numbers(self.metrics)]

    # ---- identity
    @property
    def seed(self) -> int | None:
        return self.r.seed

    @cached_property
    def targets(self) -> list[str]:
        """Target columns: metrics.json ``target_cols``, else config/bundle, else ``*_pred`` columns."""
        for src in (self.metrics, self.r.config, self.bundle):
            for key in ("target_cols", "targets", "target_columns", "target"):
                v = src.get(key) if isinstance(src, dict) else None
                if isinstance(v, str) and v:
                    return [v]
                if isinstance(v, list) and v and all(isinstance(x, str) for x in v):
                    return list(v)
        df = self.r.frame("test_predictions.csv")
        if df is not None:
            return [c[: -len("_pred")] for c in df.columns if str(c).endswith("_pred")]
        return []

    @property
    def task(self) -> str | None:
        for src in (self.metrics, self.r.config, self.bundle):
            for key in ("task_type", "task"):
                v = src.get(key) if isinstance(src, dict) else None
                if v in ("regression", "classification"):
                    return v
        if any(p[-1] in METRIC_ALIASES["roc_auc"] for p, _ in self._flat):
            return "classification"
        if any(p[-1] in METRIC_ALIASES["rmse"] for p, _ in self._flat):
            return "regression"
        return None

    def _cfg(self, *keys: str) -> Any:
        for src in (self.r.config, self.bundle):
            for k in keys:
                if isinstance(src, dict) and src.get(k) not in (None, ""):
                    return src[k]
        return None

    @property
    def model(self) -> str | None:
        v = self._cfg("model", "model_name", "architecture")
        if isinstance(v, dict):
            v = v.get("name")
        return None if v is None else str(v)

    @property
    def mol_features(self) -> str | None:
        """Molecule-level descriptor set joined to the graph vector (None: graphs only)."""
        hp = self.r.config.get("hparams") if isinstance(self.r.config, dict) else None
        v = hp.get("mol_features") if isinstance(hp, dict) else None
        return None if v in (None, "") else str(v)

    @property
    def graph_only_members(self) -> int:
        """Members of a mixed ensemble that learned from the graph alone (0: none)."""
        v = self.r.config.get("graph_only_members") if isinstance(self.r.config, dict) else None
        try:
            return int(v or 0)
        except (TypeError, ValueError):
            return 0

    @property
    def ensemble(self) -> int | None:
        v = self._cfg("ensemble", "ensemble_size", "n_members")
        try:
            return None if v is None else int(v)
        except (TypeError, ValueError):
            return None

    @property
    def split(self) -> str | None:
        v = self._cfg("split", "split_type")
        if isinstance(v, dict):
            v = v.get("kind")
        return None if v is None else str(v)

    @property
    def dataset(self) -> str:
        td = self.bundle.get("training_data")
        if isinstance(td, dict) and td.get("dataset"):
            return str(td["dataset"])
        # a registry file trained from a copy (as the workflow does): name it by its sha256
        from ..references import registered_name_for_sha256

        data = (self.r.manifest.get("inputs") or {}).get("data")
        sha = data.get("sha256") if isinstance(data, dict) else None
        return registered_name_for_sha256(sha or self.r.manifest.get("training_data_sha256")) or self.r.dataset

    # ---- metrics
    def _candidates(self, target: str, metric: str, *, members: bool) -> list[tuple[tuple[str, ...], float]]:
        aliases = METRIC_ALIASES[metric]
        t = _norm(target)
        others = {_norm(x) for x in self.targets} - {t}
        out = []
        for path, v in self._flat:
            body = path
            if members:
                if not any(tok in _MEMBER_TOKENS or tok.startswith("member") for tok in path):
                    continue
            else:
                if path[-1] not in aliases:
                    continue
                if any(tok in _MEMBER_TOKENS or tok.startswith("member") for tok in path):
                    continue
                body = path[:-1]
            # (a target may itself be called e.g. "val_score": its own token is never a split or section name)
            if any(tok in _EXCLUDE_TOKENS or _is_other_split(tok) for tok in path if tok != t):
                continue
            has_t = t in body
            if not has_t and (others & set(body) or len(self.targets) > 1):
                continue
            out.append((path, v))
        return out

    def test_metric(self, target: str, metric: str) -> float | None:
        """Test-set metric of the ensemble (or single model) for ``target``; None when not reported.

        The shortest key path holding ``metric`` under a ``test`` key and the
        target's name wins (paths under members, validation, training,
        baselines and uncertainty are skipped); with one target the target key
        may be absent.
        """
        cands = self._candidates(target, metric, members=False)
        tested = [c for c in cands if any(_is_test(tok) for tok in c[0])]
        pool = tested or [c for c in cands if not any(tok in _SPLIT_TOKENS for tok in c[0])]
        if not pool:
            return None
        t = _norm(target)
        named = [c for c in pool if t in c[0][:-1]]
        pool = named or [c for c in pool if "mean" not in c[0][:-1]] or pool
        pool.sort(key=lambda c: (len(c[0]), "ensemble" not in c[0]))
        return pool[0][1]

    def member_metric(self, target: str, metric: str) -> tuple[float | None, float | None, int | None]:
        """Mean and sd of ``metric`` over ensemble members on the test set.

        Reads ``members.summary.test.<t>.<metric>.{mean, sd}`` (or the same
        under other member keys); failing that, computes mean and sd (ddof=1)
        from per-member test tables ``members.test[i].<t>.<metric>``.

        Returns
        -------
        mean, sd, n_members
            ``None`` where not reported (``n_members`` None when unknown).
        """
        aliases = METRIC_ALIASES[metric]
        t = _norm(target)
        cands = self._candidates(target, metric, members=True)
        cands = [c for c in cands if any(_is_test(tok) for tok in c[0])]
        # paths naming the target win; without them (single target) skip the mean-over-targets rows
        named = [c for c in cands if t in c[0]]
        cands = named or [c for c in cands if "mean" not in c[0][:-1]]
        mean = sd = None
        for path, v in sorted(cands, key=lambda c: len(c[0])):
            if len(path) >= 2 and path[-2] in aliases:
                if path[-1] == "mean" and mean is None:
                    mean = v
                elif path[-1] in ("sd", "std") and sd is None:
                    sd = v
        listed = [v for p, v in cands if p[-1] in aliases and any(tok.isdigit() for tok in p)]
        n = len(listed) or None
        if mean is None and listed:
            mean, sd, _ = mean_sd(listed)
            if len(listed) == 1:
                sd = 0.0
        if n is None:
            n = self.ensemble
        return mean, sd, n

    def calibration(self, target: str, what: str, when: str) -> float | None:
        """Test-set uncertainty calibration metric.

        Parameters
        ----------
        target : str
        what : {"miscalibration_area", "coverage90"}
        when : {"before", "after"}
            Before or after the variance calibration fitted on validation data.
        """
        t = _norm(target)
        want = ("miscal",) if what == "miscalibration_area" else ("coverage90", "coverage_90", "cov90", "coverage")
        other = "after" if when == "before" else "before"
        best = None
        for path, v in self._flat:
            last = path[-1]
            if not any(last.startswith(w) for w in want):
                continue
            if what == "coverage90" and "90" not in last and "90" not in "".join(path):
                continue
            if when not in last and when not in path:
                if not ((when == "before" and ("raw" in last or "uncal" in last))
                        or (when == "after" and last.endswith("calibrated") and "uncal" not in last)):
                    continue
            if other in last:
                continue
            if any(_is_other_split(tok) for tok in path if tok != t):
                continue
            if t not in path and len(self.targets) > 1:
                continue
            score = (0 if any(_is_test(tok) for tok in path) else 1, len(path))
            if best is None or score < best[0]:
                best = (score, v)
        return None if best is None else best[1]

    def count(self, name: str) -> int | None:
        """``n_train``, ``n_val``, ``n_test`` or ``n_invalid``: from metrics.json, else splits.json/invalid_rows.csv."""
        for path, v in sorted(self._flat, key=lambda c: len(c[0])):
            if path[-1] == name and float(v).is_integer():
                return int(v)
        if name == "n_invalid":
            rows = self.r.csv_rows("invalid_rows.csv")
            return None if rows is None else len(rows)
        part = name[2:]
        s = self.r.json("splits.json")
        if isinstance(s, dict):
            for key in (part, f"{part}_idx", f"{part}_indices"):
                if isinstance(s.get(key), list):
                    return len(s[key])
                if isinstance(s.get(key), dict):
                    for k2 in ("indices", "idx", "smiles"):
                        if isinstance(s[key].get(k2), list):
                            return len(s[key][k2])
        return None

    def calibration_scale(self, target: str) -> float | None:
        unc = self.metrics.get("uncertainty")
        if isinstance(unc, dict) and isinstance(unc.get("calibration_scale"), dict):
            v = unc["calibration_scale"].get(target)
            if isinstance(v, (int, float)) and math.isfinite(v) and v > 0:
                return float(v)
        cal = self.bundle.get("calibration")
        if isinstance(cal, dict) and isinstance(cal.get("scale"), list):
            tg = self.targets
            if target in tg and len(cal["scale"]) == len(tg):
                v = cal["scale"][tg.index(target)]
                if isinstance(v, (int, float)) and v > 0:
                    return float(v)
        return None

    @property
    def uncertainty_method(self) -> str | None:
        unc = self.metrics.get("uncertainty")
        if isinstance(unc, dict) and isinstance(unc.get("method"), str):
            return unc["method"]
        return None

    # ---- files
    def predictions(self, target: str) -> dict[str, np.ndarray] | None:
        """Test-set arrays for ``target``: ``smiles``, ``true``, ``pred``, and ``std`` when saved.

        Column names tried: ``<t>_true``/``<t>_pred``/``<t>_std`` (also
        ``true_<t>``, ``<t>`` for the other of true/pred, ``<t>_sd``,
        ``<t>_uncertainty``). Returns None when the file or columns are missing.
        """
        df = self.r.frame("test_predictions.csv")
        if df is None or df.empty:
            return None
        cols = {str(c): c for c in df.columns}

        def pick(*names: str) -> Any:
            for n in names:
                if n in cols:
                    return cols[n]
            return None

        t = target
        true_c = pick(f"{t}_true", f"true_{t}", f"{t}_target", f"{t}_label", f"{t}_y")
        pred_c = pick(f"{t}_pred", f"pred_{t}", f"{t}_prediction", f"{t}_mean")
        if true_c is None and pred_c is not None:
            true_c = pick(t)
        elif pred_c is None and true_c is not None:
            pred_c = pick(t)
        if len(self.targets) <= 1:
            true_c = true_c if true_c is not None else pick("true", "y_true")
            pred_c = pred_c if pred_c is not None else pick("pred", "y_pred", "prediction")
        if true_c is None or pred_c is None:
            return None
        std_c = pick(f"{t}_std", f"{t}_sd", f"std_{t}", f"{t}_uncertainty", *(("std", "sd") if len(self.targets) <= 1 else ()))
        smi_c = pick("smiles", str(self.r.config.get("smiles_col") or "smiles"),
                     *[c for c in cols if "smiles" in c.lower()])
        import pandas as pd

        out = {
            "true": pd.to_numeric(df[true_c], errors="coerce").to_numpy(float),
            "pred": pd.to_numeric(df[pred_c], errors="coerce").to_numpy(float),
            "std": None if std_c is None else pd.to_numeric(df[std_c], errors="coerce").to_numpy(float),
            "smiles": None if smi_c is None else df[smi_c].astype(str).to_numpy(),
        }
        return out

    def train_smiles(self) -> list[str] | None:
        """Training-set SMILES from ``splits.json`` (several layouts understood), or None."""
        s = self.r.json("splits.json")
        if isinstance(s, list) and s and isinstance(s[0], dict):
            s = s[0]
        if not isinstance(s, dict):
            return None
        for key in ("train_smiles",):
            if isinstance(s.get(key), list):
                return [str(x) for x in s[key]]
        if isinstance(s.get("smiles"), dict) and isinstance(s["smiles"].get("train"), list):
            return [str(x) for x in s["smiles"]["train"]]
        tr = s.get("train")
        if isinstance(tr, dict):
            for k in ("smiles", "SMILES"):
                if isinstance(tr.get(k), list):
                    return [str(x) for x in tr[k]]
        if isinstance(tr, list) and tr:
            if all(isinstance(x, str) for x in tr):
                return list(tr)
            if all(isinstance(x, dict) and "smiles" in x for x in tr):
                return [str(x["smiles"]) for x in tr]
            if all(isinstance(x, int) for x in tr) and isinstance(s.get("smiles"), list):
                allsmi = s["smiles"]
                if all(0 <= i < len(allsmi) for i in tr):
                    return [str(allsmi[i]) for i in tr]
        return None

    def invalid_rows(self) -> list[dict[str, str]] | None:
        return self.r.csv_rows("invalid_rows.csv")


# ----------------------------------------------------------------------------- groups


@dataclass
class Group:
    """Runs on the same data with the same configuration except the seed."""

    dataset: str
    canonical: str | None
    runs: list[MolpropRun]
    facts: dict[str, str]
    references: list[Reference]

    @property
    def display_dataset(self) -> str:
        name = self.canonical or self.dataset
        return {"esol": "ESOL", "freesolv": "FreeSolv", "lipophilicity": "Lipophilicity", "bbbp": "BBBP",
                "bace": "BACE", "clintox": "ClinTox", "sider": "SIDER", "tox21": "Tox21", "hiv": "HIV"}.get(name, name)

    @property
    def first(self) -> MolpropRun:
        return self.runs[0]

    @property
    def targets(self) -> list[str]:
        return self.first.targets

    @property
    def task(self) -> str | None:
        return self.first.task

    @property
    def seeds(self) -> list[int | None]:
        return [r.seed for r in self.runs]

    @property
    def model_text(self) -> str:
        m = self.first.model
        name = MODEL_NAMES.get((m or "").lower(), m or "model not recorded")
        e = self.first.ensemble
        return f"{name} ensemble of {e}" if e and e > 1 else name

    @property
    def anchor(self) -> str:
        return "molprop-" + re.sub(r"[^a-z0-9]+", "-", f"{self.dataset}-{self.first.r.model_key}".lower()).strip("-")

    def seeds_text(self) -> str:
        s = [x for x in self.seeds if x is not None]
        n = len(self.runs)
        return f"{n} seed{'s' if n != 1 else ''}" + (f" ({', '.join(map(str, s))})" if s else "")


def group_runs(results: Sequence[ResultFolder]) -> list[Group]:
    """Group ``molprop.train`` folders by dataset and configuration (seed excluded), sorted by seed."""
    buckets: dict[tuple[str, str], list[MolpropRun]] = defaultdict(list)
    for r in results:
        run = MolpropRun(r)
        buckets[(run.dataset, r.model_key)].append(run)
    groups = []
    for (ds, _), runs in sorted(buckets.items()):
        runs.sort(key=lambda x: (x.seed is None, x.seed if x.seed is not None else 0, str(x.r.path)))
        canonical, refs, facts = dataset_references(ds)
        groups.append(Group(ds, canonical, runs, facts, refs))
    return groups


# ----------------------------------------------------------------------------- baseline (Chemprop)

_BENCH_KEYS = {"lipophilicity": ("lipo", "lipophilicity"), "esol": ("esol", "delaney")}
_BENCH_LABELS = {"chemprop": "Chemprop v2", "default": "ours, benchmark default config", "tuned": "ours, benchmark tuned config"}


def load_baseline(path: Path | None) -> dict[str, Any] | None:
    """Parsed baseline JSON (``benchmarks/results/molprop_vs_chemprop.json``), or None when absent/unreadable."""
    if path is None:
        return None
    import json

    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def baseline_rows(baseline: dict[str, Any] | None, group: Group) -> list[tuple[str, str, list[float], str]]:
    """Rows of the benchmark for this group's dataset: (label, metric, per-seed values, note).

    Reads ``summary.datasets.<key>.configs.<config>.metric_values`` (falling
    back to ``runs`` records), for the Chemprop configuration first.
    """
    if not baseline:
        return []
    keys = {group.dataset.lower(), (group.canonical or "").lower(), *_BENCH_KEYS.get(group.canonical or "", ())}
    keys.discard("")
    out = []
    summ = baseline.get("summary", {}).get("datasets", {}) if isinstance(baseline.get("summary"), dict) else {}
    meta = baseline.get("meta") if isinstance(baseline.get("meta"), dict) else {}
    note = []
    if meta.get("epochs") is not None:
        note.append(f"{meta['epochs']} epochs")
    if meta.get("date"):
        note.append(f"run {str(meta['date'])[:10]}")
    note_text = ", ".join(note)
    for k, entry in summ.items():
        if str(k).lower() not in keys or not isinstance(entry, dict):
            continue
        metric = str(entry.get("metric", ""))
        cfgs = entry.get("configs", {}) if isinstance(entry.get("configs"), dict) else {}
        for cfg in sorted(cfgs, key=lambda c: (c != "chemprop", c)):
            c = cfgs[cfg]
            vals = c.get("metric_values") if isinstance(c, dict) else None
            if not isinstance(vals, list):
                vals = [x for x in (c.get("metric_mean"),) if isinstance(x, (int, float))] if isinstance(c, dict) else []
            vals = [float(v) for v in vals if isinstance(v, (int, float)) and math.isfinite(v)]
            out.append((_BENCH_LABELS.get(cfg, cfg), metric, vals, note_text))
    if not out and isinstance(baseline.get("runs"), list):
        per: dict[tuple[str, str], list[float]] = defaultdict(list)
        for rec in baseline["runs"]:
            if isinstance(rec, dict) and str(rec.get("dataset", "")).lower() in keys and rec.get("error") is None:
                if isinstance(rec.get("metric"), (int, float)):
                    per[(str(rec.get("config")), str(rec.get("metric_name")))].append(float(rec["metric"]))
        for (cfg, metric), vals in sorted(per.items(), key=lambda kv: (kv[0][0] != "chemprop", kv[0])):
            out.append((_BENCH_LABELS.get(cfg, cfg), metric, vals, note_text))
    return out


# ----------------------------------------------------------------------------- html pieces


def fmt_count(values: Iterable[int | None]) -> str:
    """Counts over seeds: the number when all agree, else ``min–max``; ``not reported`` when none is."""
    vals = [int(v) for v in values if v is not None]
    if not vals:
        return NOT_REPORTED
    lo, hi = min(vals), max(vals)
    return str(lo) if lo == hi else f"{lo}–{hi}"


def agg(values: Sequence[float | None]) -> str:
    """mean ± sd over seeds; ``(n=k of m)`` appended when only k of the m runs report the value."""
    text = fmt_mean_sd(values)
    k = sum(v is not None and isinstance(v, (int, float)) and math.isfinite(v) for v in values)
    if text != NOT_REPORTED and 0 < k < len(values):
        text += f" (n={k} of {len(values)})"
    return text


def _metrics_table(groups: Sequence[Group], baseline: dict[str, Any] | None) -> tuple[str, bool]:
    """Test metrics per group and target (mean ± sd over seeds), with baseline rows."""
    parts = []
    any_baseline = False
    for task, metrics in (("regression", REGRESSION), ("classification", CLASSIFICATION)):
        gs = [g for g in groups if (g.task or "regression") == task]
        if not gs:
            continue
        header = ["dataset", "target", "model", "seeds", "n test"] + [f"{METRIC_LABELS[m]} {'↑' if HIGHER_IS_BETTER[m] else '↓'}" for m in metrics]
        rows, classes = [], []
        for g in gs:
            for t in g.targets:
                n_test = fmt_count([r.count("n_test") for r in g.runs])
                cells = [esc(g.display_dataset), esc(t), esc(g.model_text), esc(len(g.runs)), esc(n_test)]
                for m in metrics:
                    v = agg([r.test_metric(t, m) for r in g.runs])
                    cells.append(esc(v) if v != NOT_REPORTED else NOT_REPORTED)
                rows.append(cells)
                classes.append("")
            for label, metric, vals, note in baseline_rows(baseline, g):
                any_baseline = True
                cells = [esc(g.display_dataset), esc(", ".join(g.targets)),
                         esc(label) + (f' <span class="muted">({esc(note)})</span>' if note else ""),
                         esc(len(vals)), ""]
                for m in metrics:
                    if metric and metric in METRIC_ALIASES.get(m, (m,)) and vals:
                        cells.append(esc(fmt_mean_sd(vals)))
                    else:
                        cells.append("—")
                rows.append(cells)
                classes.append("baseline")
        html = table(header, rows, raw=True, numeric_from=3, row_classes=classes,
                     caption=f"{task.capitalize()}: test-set metrics, mean ± sd over seeds "
                             "(↓ lower is better, ↑ higher is better).")
        parts.append(html)
    return "".join(parts), any_baseline


def _members_table(groups: Sequence[Group]) -> str:
    rows = []
    for g in groups:
        sizes = {r.ensemble for r in g.runs}
        if sizes <= {None, 1}:
            continue  # single models: nothing to compare
        for t in g.targets:
            for m in (("roc_auc",) if g.task == "classification" else ("rmse",)):
                ens = agg([r.test_metric(t, m) for r in g.runs])
                mems = [r.member_metric(t, m) for r in g.runs]
                mean_txt = agg([x[0] for x in mems])
                sd_txt = agg([x[1] for x in mems])
                n_mem = {x[2] for x in mems if x[2] is not None}
                rows.append([g.display_dataset, t, METRIC_LABELS[m], ens, mean_txt, sd_txt,
                             ", ".join(map(str, sorted(n_mem))) or NOT_REPORTED])
    if not rows:
        return ""
    return table(["dataset", "target", "metric", "ensemble", "single member (mean)", "spread between members (sd)", "members"],
                 rows, numeric_from=3,
                 caption="Ensemble vs its members on the test set. Member mean and sd are computed within each run, "
                         "then summarised as mean ± sd over seeds.")


def _calibration_table(groups: Sequence[Group]) -> str:
    rows, without = [], []
    for g in groups:
        if g.task == "classification":
            continue
        if {r.uncertainty_method for r in g.runs} <= {"none"}:
            without.append(g)
            continue
        for t in g.targets:
            vals = {}
            for what in ("miscalibration_area", "coverage90"):
                for when in ("before", "after"):
                    vals[(what, when)] = agg([r.calibration(t, what, when) for r in g.runs])
            scale = agg([r.calibration_scale(t) for r in g.runs])
            methods = sorted({r.uncertainty_method for r in g.runs if r.uncertainty_method})
            rows.append([g.display_dataset, t, ", ".join(methods) or NOT_REPORTED,
                         vals[("miscalibration_area", "before")], vals[("miscalibration_area", "after")],
                         vals[("coverage90", "before")], vals[("coverage90", "after")], scale])
    verdicts = []
    for g in groups:
        if g.task == "classification" or any(g is w for w in without):
            continue
        for t in g.targets:
            m, _, _ = mean_sd([r.calibration(t, "coverage90", "after") for r in g.runs])
            if m is not None:
                verdicts.append(f"{esc(g.display_dataset)} {esc(t)}: {esc(coverage_verdict(m))}")
    note = ""
    if verdicts:
        note += ('<p class="note">Reading the 90% coverage after calibration (rule: below 0.80 = over-confident, '
                 "above 0.97 = under-confident, else close to nominal): " + "; ".join(verdicts) + ".</p>")
    if without:
        note = ('<p class="note">No uncertainty estimate for ' + ", ".join(esc(g.display_dataset) for g in without)
                + " (single model without MC dropout; train with <code>--ensemble N</code> or "
                  "<code>--mc-dropout T</code> to get one).</p>")
    if not rows:
        return note
    return table(["dataset", "target", "uncertainty", "miscal. area before", "miscal. area after",
                  "90% coverage before", "90% coverage after", "std scale"], rows, numeric_from=3,
                 caption="Test-set calibration of the predicted standard deviations before and after the variance "
                         "scaling fitted on the validation set (mean ± sd over seeds). Miscalibration area: 0 is "
                         "perfect, 0.5 the worst; 90% coverage: ideal 0.90.") + note


def _run_label(r: MolpropRun) -> str:
    return f"seed {r.seed}" if r.seed is not None else r.r.label


def coverage_verdict(coverage90: float) -> str:
    """Plain-language reading of an observed 90% interval coverage (the rule is printed with it)."""
    if coverage90 < 0.80:
        return f"over-confident, intervals too narrow ({coverage90:.2f} observed vs 0.90)"
    if coverage90 > 0.97:
        return f"under-confident, intervals too wide ({coverage90:.2f} observed vs 0.90)"
    return f"close to nominal ({coverage90:.2f} observed vs 0.90)"


def _figures(g: Group, options: ReportOptions) -> tuple[str, int]:
    from ..plots import calibration_svg, coverage_curve, parity_svg, reliability_svg, roc_svg

    parts, n = [], 0
    targets = g.targets[: max(options.max_plot_targets, 0)]
    if len(targets) < len(g.targets):
        parts.append(f'<p class="note">Figures for the first {len(targets)} of {len(g.targets)} targets; '
                     "every target is in the tables above.</p>")
    for t in targets:
        data = [(r, r.predictions(t)) for r in g.runs]
        data = [(r, d) for r, d in data if d is not None]
        if not data:
            parts.append(f'<p class="na">No test predictions for {esc(t)} (test_predictions.csv missing or '
                         "without its columns): no plots.</p>")
            continue
        figs = []
        if g.task == "classification":
            figs.append(figure(roc_svg([(_run_label(r), d["true"], d["pred"]) for r, d in data]),
                               f"ROC curve, {g.display_dataset} {t}, test set, one curve per seed."))
            figs.append(figure(reliability_svg([(_run_label(r), d["true"], d["pred"]) for r, d in data]),
                               f"Reliability of predicted probabilities, {g.display_dataset} {t}, test set "
                               "(10 equal-width bins; the diagonal is perfect calibration)."))
        else:
            has_std = any(d["std"] is not None and np.isfinite(d["std"]).any() for _, d in data)
            figs.append(figure(
                parity_svg([(_run_label(r), d["true"], d["pred"], d["std"]) for r, d in data],
                           xlabel=f"measured {t}", ylabel=f"predicted {t}"),
                f"Predicted vs measured {t}, {g.display_dataset} test set"
                + (", error bars ± 1 predicted sd (as saved, i.e. after calibration)" if has_std else ", no uncertainty saved")
                + "; one colour per seed."))
            if has_std:
                series = []
                for r, d in data:
                    if d["std"] is None:
                        continue
                    e, o = coverage_curve(d["true"], d["pred"], d["std"])
                    series.append((_run_label(r), e, o, "-"))
                    s = r.calibration_scale(t)
                    if s is not None and abs(s - 1.0) > 1e-9:
                        e0, o0 = coverage_curve(d["true"], d["pred"], d["std"] / s)
                        series.append((f"{_run_label(r)} (before calibration)", e0, o0, "--"))
                figs.append(figure(calibration_svg(series),
                                   f"Calibration of the uncertainty, {g.display_dataset} {t}, test set: observed "
                                   "fraction of measured values inside the central Gaussian interval pred ± z·sd "
                                   "vs its confidence level. Solid: calibrated sd as saved; dashed: before the "
                                   "variance scaling (saved sd ÷ scale). Below the diagonal = over-confident."))
        n += len(figs)
        parts.append('<div class="figs">' + "".join(figs) + "</div>")
    return "".join(parts), n


def _top_molecules(g: Group, options: ReportOptions) -> str:
    from ..molecules import TrainingSetIndex, mol_svg

    run = g.first
    if not g.targets:
        return ""
    t = g.targets[0]
    d = run.predictions(t)
    if d is None or d["smiles"] is None:
        return '<p class="na">No test predictions with SMILES: no molecules drawn.</p>'
    order = [i for i in np.argsort(-np.nan_to_num(d["pred"], nan=-np.inf), kind="stable") if np.isfinite(d["pred"][i])]
    top = order[: options.top_n]
    train = run.train_smiles()
    n_out_all, sample_note = None, ""
    if train:
        log.info("applicability domain: fingerprints of %d training molecules (%s)", len(train), g.display_dataset)
        index = TrainingSetIndex(train)
        sims = index.max_similarity([d["smiles"][i] for i in top])
        everyone = np.arange(len(d["smiles"]))
        if len(everyone) > AD_SAMPLE:
            everyone = np.sort(np.random.default_rng(0).choice(everyone, AD_SAMPLE, replace=False))
            sample_note = f" (a random sample of {AD_SAMPLE} of the {len(d['smiles'])} test molecules, seed 0)"
        all_sims = index.max_similarity([d["smiles"][i] for i in everyone])
        ok = np.isfinite(all_sims)
        n_out_all = (int((all_sims[ok] < options.ad_threshold).sum()), int(ok.sum()))
    else:
        sims = np.full(len(top), np.nan)
    cards = []
    what = "probability" if g.task == "classification" else "predicted"
    for rank, (i, sim) in enumerate(zip(top, sims), 1):
        svg = mol_svg(str(d["smiles"][i])) or '<p class="na">RDKit cannot draw this SMILES</p>'
        std = d["std"][i] if d["std"] is not None else None
        measured = f"measured {fmt_num(d['true'][i])}" if np.isfinite(d["true"][i]) else "no measured value"
        pred_txt = fmt_num(d["pred"][i]) + (f" ± {fmt_num(std)}" if std is not None and np.isfinite(std) else "")
        if np.isfinite(sim):
            inside = sim >= options.ad_threshold
            flag = (f'<span class="flag {"in" if inside else "out"}">{"inside domain" if inside else "outside domain"}</span>'
                    f' <span class="muted">similarity {fmt_num(sim, 2)}</span>')
        else:
            flag = '<span class="muted">domain: not available (no training SMILES)</span>'
        cards.append(
            f'<div class="mol-card">{svg}<div class="muted">#{rank} · {esc(what)} {esc(t)}</div>'
            f'<div class="val">{esc(pred_txt)}</div>'
            f'<div class="muted">{esc(measured)}</div><div class="ad">{flag}</div>'
            f'<div class="smi">{esc(d["smiles"][i])}</div></div>'
        )
    rule = (f'<p class="rule"><b>Applicability domain.</b> A molecule is flagged <b>outside domain</b> when its '
            f"maximum Tanimoto similarity to the {len(train) if train else 0} training-set molecules (Morgan "
            f"fingerprints, radius 2, 2048 bits) is below {options.ad_threshold:g}; its prediction is then an "
            "extrapolation, less trustworthy than its sd (if any) suggests.")
    if n_out_all is not None:
        rule += f" In this test set{sample_note}: {n_out_all[0]} of {n_out_all[1]} molecules outside domain."
    rule += "</p>"
    head = (f"<h4>Top {len(top)} test molecules by predicted {esc(t)} "
            f"({esc('seed ' + str(run.seed) if run.seed is not None else run.r.label)})</h4>")
    return head + rule + '<div class="mols">' + "".join(cards) + "</div>"


def _invalid(g: Group) -> str:
    rows = []
    for r in g.runs:
        n = r.count("n_invalid")
        rows.append((r, n, r.invalid_rows()))
    ns = {n for _, n, _ in rows}
    first = rows[0]
    n_txt = NOT_REPORTED if None in ns else (str(first[1]) if len(ns) == 1 else ", ".join(str(n) for _, n, _ in rows))
    out = [f"<h4>Invalid input rows</h4><p>{esc(n_txt)} input row{'s' if n_txt != '1' else ''} rejected "
           "(skipped and listed in <code>invalid_rows.csv</code>, never silently dropped)"
           + (" in each run." if len(ns) == 1 and len(rows) > 1 else ".") + "</p>"]
    inv = first[2]
    if inv:
        cols = list(inv[0].keys())
        out.append(table(cols, [[row.get(c, "") for c in cols] for row in inv[:8]], numeric_from=99,
                         caption=f"First {min(8, len(inv))} of {len(inv)} rejected rows "
                                 "(row = line number in the input file, header = 1)."))
    return "".join(out)


def _config_line(g: Group) -> str:
    cfg = g.first.r.config
    bits = []
    for key, label in (("split", "split"), ("sizes", "sizes"), ("epochs", "epochs"), ("ensemble", "ensemble"),
                       ("batch_size", "batch"), ("mc_dropout", "MC-dropout samples")):
        if key in cfg and cfg[key] not in (None, "", 0, False):
            bits.append(f"{label} {cfg[key]}")
    hp = cfg.get("hparams") if isinstance(cfg.get("hparams"), dict) else {}
    for key in ("hidden", "depth", "dropout", "aggregation", "mol_features"):
        if key in hp and hp[key] is not None:
            bits.append(f"{key} {hp[key]}")
    return "; ".join(str(b) for b in bits)


def _group_html(g: Group, options: ReportOptions) -> tuple[str, int]:
    n = [r.count(k) for k in ("n_train", "n_val", "n_test") for r in g.runs[:1]]
    sizes = ", ".join(f"{lab} {fmt_num(v) if v is not None else NOT_REPORTED}" for lab, v in zip(("train", "val", "test"), n))
    desc = g.facts.get("description") or ""
    head = (f'<h3 id="{esc(g.anchor)}">{esc(g.display_dataset)} · {esc(", ".join(g.targets))} · '
            f"{esc(g.model_text)} · {esc(g.seeds_text())}</h3>"
            + (f"<p>{esc(desc)}</p>" if desc else "")
            + f'<p class="note">Configuration: {esc(_config_line(g)) or NOT_REPORTED}. '
              f"Molecules ({esc('seed ' + str(g.first.seed)) if g.first.seed is not None else 'first run'}): {esc(sizes)}.</p>")
    figs, nfig = _figures(g, options)
    return head + figs + _top_molecules(g, options) + _invalid(g), nfig


# ----------------------------------------------------------------------------- the section


def build_section(results: Sequence[ResultFolder], options: ReportOptions) -> Section:
    """Section for ``molprop.train`` folders: metrics, calibration, figures, molecules, invalid rows."""
    groups = group_runs(results)
    baseline = load_baseline(options.baseline)
    metrics_html, any_baseline = _metrics_table(groups, baseline)
    parts = [
        "<p>Molecular property prediction with graph neural networks. Each row summarises runs that differ "
        "only in their random seed (which sets the split for seeded splitters and the model initialisation); "
        "numbers are on the held-out test set.</p>",
        "<h3>Test-set metrics</h3>", metrics_html,
    ]
    if options.baseline is not None:
        if baseline is None:
            parts.append(f'<p class="note warn">Baseline file {esc(options.baseline)} could not be read: no Chemprop comparison.</p>')
        elif not any_baseline:
            parts.append('<p class="note">The baseline file has no entry for these datasets: no Chemprop comparison.</p>')
        else:
            parts.append('<p class="note">Benchmark rows (shaded) come from <code>benchmarks/molprop_vs_chemprop.py</code>: '
                         "both tools trained on the same scaffold splits and scored by the same code [@chemprop]; "
                         "their seeds and epochs may differ from the runs above.</p>")
    else:
        parts.append('<p class="note">No Chemprop baseline given (<code>--baseline benchmarks/results/molprop_vs_chemprop.json</code> adds one).</p>')
    mem = _members_table(groups)
    if mem:
        parts += ["<h3>Ensemble and members</h3>", mem]
    cal = _calibration_table(groups)
    if cal:
        parts += ["<h3>Uncertainty calibration</h3>", cal]
    n_figs = 0
    for g in groups:
        html, nf = _group_html(g, options)
        parts.append(html)
        n_figs += nf

    # summary headlines
    summary = []
    for g in groups:
        primary = "roc_auc" if g.task == "classification" else "rmse"
        # many targets (e.g. Tox21): one headline, the mean over targets that metrics.json records
        headline_targets = g.targets if len(g.targets) <= 3 else ["mean"]
        for t in headline_targets:
            vals = [r.test_metric(t, primary) for r in g.runs]
            detail = [f"test set, {g.first.split or 'split not recorded'} split, {g.seeds_text()}"]
            if g.task != "classification":
                cov = agg([r.calibration(t, "coverage90", "after") for r in g.runs])
                if cov != NOT_REPORTED:
                    detail.append(f"90% interval coverage {cov} (ideal 0.90)")
            for label, metric, bvals, _ in baseline_rows(baseline, g):
                if label == _BENCH_LABELS["chemprop"] and metric in METRIC_ALIASES[primary] and bvals:
                    detail.append(f"Chemprop v2 benchmark: {fmt_mean_sd(bvals)}")
            shown = t if t != "mean" else f"mean over {len(g.targets)} targets"
            summary.append(SummaryItem(
                what=f"{g.display_dataset} · {shown} · {g.model_text}",
                headline=f"{METRIC_LABELS[primary]} {agg(vals)}",
                detail="; ".join(detail),
            ))

    # methods
    refs: list[Reference] = [ref("dmpnn"), ref("chemprop"), ref("pyg"), ref("pytorch"), ref("lightning"), ref("rdkit"), ref("ecfp")]
    models = sorted({(g.first.model or "").lower() for g in groups} - {""})
    model_cites = sorted({MODEL_REFS[m] for m in models if m in MODEL_REFS})
    for k in model_cites:
        if k not in {r.key for r in refs}:
            refs.append(ref(k))
    splits = sorted({g.first.split for g in groups if g.first.split})
    if "scaffold" in splits:
        refs.append(ref("scaffold"))
    unc = sorted({r.uncertainty_method for g in groups for r in g.runs if r.uncertainty_method})
    if "ensemble" in unc:
        refs.append(ref("ensembles"))
    if "mc_dropout" in unc:
        refs.append(ref("mcdropout"))
    refs.append(ref("uq-benchmark"))
    descriptor_sets = sorted({r.mol_features for g in groups for r in g.runs if r.mol_features})
    if descriptor_sets:
        refs += [ref("crippen"), ref("tpsa"), ref("labute-vsa"), ref("kier-hall")]
    mixed = any(r.graph_only_members for g in groups for r in g.runs)
    if mixed:
        refs += [ref("stacking"), ref("ensemble-selection")]
    data_cites = []
    for g in groups:
        for dr in g.references:
            refs.append(dr)
            data_cites.append(dr.key)
    model_txt = ", ".join(MODEL_NAMES.get(m, m) for m in models) or "graph neural network"
    dmpnn_cite = " [@dmpnn; @chemprop]" if "dmpnn" in models or not models else ""
    extra_cites = "".join(f" [@{k}]" for k in model_cites if k != "dmpnn")
    ds_txt = "; ".join(
        f"{g.display_dataset} ({esc(g.facts.get('license') or 'license not recorded')})"
        + (" [" + "; ".join(f"@{r.key}" for r in g.references) + "]" if g.references else " (citation not in the dataset registry)")
        for g in groups
    )
    methods = (
        f"<b>Property prediction.</b> Models ({esc(model_txt)}{dmpnn_cite}{extra_cites}) were trained with "
        "<code>discovery molprop train</code>, built on PyTorch [@pytorch], PyTorch Geometric [@pyg] and "
        "Lightning [@lightning], with molecules parsed and featurised by RDKit [@rdkit]. Data: "
        f"{ds_txt}. Invalid SMILES were skipped and listed per run. "
        + (f"Splits: {esc(', '.join(splits))}" + (" (Bemis–Murcko scaffolds [@scaffold])" if "scaffold" in splits else "") + ". " if splits else "")
        + ("Uncertainty: " + esc(", ".join(unc)) + (" (deep ensembles [@ensembles])" if "ensemble" in unc else "")
           + (" (Monte-Carlo dropout [@mcdropout])" if "mc_dropout" in unc else "")
           + "; the predicted standard deviation was rescaled by one factor per target fitted on the validation set "
             "(Gaussian negative log-likelihood), and calibration is reported as miscalibration area and 90% interval "
             "coverage [@uq-benchmark]. " if unc else "")
        + (f"Runs configured with mol_features {esc(', '.join(descriptor_sets))} also received 64 RDKit molecule "
           "descriptors, standardized on the training split and joined to the learned graph vector before the "
           "output network, as in the D-MPNN paper [@dmpnn]: Crippen logP and molar refractivity [@crippen], "
           "topological polar surface area [@tpsa], Labute's surface area and VSA descriptors [@labute-vsa], "
           "Kier-Hall connectivity and shape indices [@kier-hall], and counts (H-bond donors and acceptors, "
           "rotatable bonds, rings, heteroatoms). " if descriptor_sets else "")
        + ("In mixed ensembles some members learned from the graph alone; the prediction is a weighted mean of "
           "the descriptor members' and the graph-only members' means, the weight chosen from 0, 0.1, ..., 1 by "
           "the validation metric (stacking on held-out data [@stacking; @ensemble-selection]). " if mixed else "")
        + "Regression is scored by RMSE, MAE and R², classification by ROC-AUC and PR-AUC, on the held-out test set. "
        f"Applicability domain: maximum Tanimoto similarity of Morgan fingerprints (radius 2, 2048 bits) [@ecfp] to "
        f"the training set, flagged outside domain below {options.ad_threshold:g}."
        + (" The Chemprop v2 [@chemprop] baseline was run by <code>benchmarks/molprop_vs_chemprop.py</code> on the "
           "same splits." if any_baseline else "")
    )
    return Section(id="molprop", title="Property prediction", html="".join(parts), summary=summary,
                   methods=methods, references=refs, n_figures=n_figs)
