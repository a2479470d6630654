# Helper Python of the workflow: config validation (the main schema plus one
# schema per capability section), which datasets and seeds, output paths,
# per-step resources and CLI arguments. Rules live in rules/<capability>.smk
# and rules/report.smk; nothing here computes a result.

import os
import shlex

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

#: dataset labels become path components and wildcards
DATASET_RE = r"[A-Za-z0-9][A-Za-z0-9_.-]*"

#: capability sections beside the molprop pipeline: each has config/<name>.schema.yaml
#: (validating config[<name>], with `enabled`) and rules/<name>.smk
CAPABILITIES = ("screening", "targets", "literature", "cohorts")

#: result folders (each with manifest.json) the report reads; each rules file appends its own
REPORT_INPUTS = []

#: file suffixes that make a library/data value a path rather than a registry name
TABLE_SUFFIXES = (".csv", ".tsv", ".smi", ".sdf", ".gz")

#: named conda environment of every rule, used only with `--software-deployment-method conda`:
#: the project's environment.yml creates it (`conda env create -f environment.yml`, then
#: `pip install -e .` inside it); without that flag rules run in the current environment.
CONDA_ENV_NAME = "discovery"

#: resources of one job per step, overridden key by key by config["resources"]
DEFAULT_RESOURCES = {
    "fetch": {"threads": 1, "mem_mb": 1000, "runtime": 10, "gpu": 0},
    "train": {"threads": 1, "mem_mb": 4000, "runtime": 240, "gpu": 0},
    "evaluate": {"threads": 1, "mem_mb": 2000, "runtime": 30, "gpu": 0},
    "predict": {"threads": 1, "mem_mb": 4000, "runtime": 60, "gpu": 0},
    "summarize": {"threads": 1, "mem_mb": 1000, "runtime": 10, "gpu": 0},
    "report": {"threads": 1, "mem_mb": 2000, "runtime": 20, "gpu": 0},
}


def conda_env(wildcards):
    """The rules' conda environment: the named project env under `--sdm conda`, else none.

    The `discovery` package is not a conda package, so a per-rule env file
    cannot build it; the project's own environment (environment.yml) is named
    instead. Returning None without `--sdm conda` keeps Snakemake from asking
    a conda that may not be installed about it.
    """
    from snakemake.settings.types import DeploymentMethod

    if DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method:
        return CONDA_ENV_NAME
    return None


# ------------------------------------------------------------------ config
def _explain(err, prefix=""):
    """Readable lines for one jsonschema error: where, what, and what is allowed.

    ``prefix`` names the config section the validated instance sits in.
    """
    where = ".".join(str(p) for p in [prefix, *err.absolute_path] if p != "") or "(top level)"
    if err.validator == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        given = err.instance if isinstance(err.instance, dict) else {}
        return [
            f"config key {key!r} in {where} is not allowed; allowed keys: {', '.join(allowed)}"
            for key in sorted(set(given) - set(allowed))
        ]
    if err.validator in ("oneOf", "anyOf") and err.context:
        # keep the alternatives that accept this kind of value (drop "is not of type" noise)
        relevant = [e for e in err.context if e.validator != "type" or e.absolute_path != err.absolute_path]
        if relevant:
            return [line for e in relevant for line in _explain(e, prefix)]
        kinds = " or ".join(str(s.get("type") or s.get("$ref", "?").rsplit("/", 1)[-1]) for s in err.validator_value)
        return [f"config {where}: {err.instance!r} is not valid; expected a {kinds}"]
    return [f"config {where}: {err.message}"]


def _schema_errors(config, schema_file, prefix=""):
    """One readable line per schema violation, in config order."""
    import jsonschema
    import yaml

    with open(schema_file) as fh:
        schema = yaml.safe_load(fh)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: [str(p) for p in e.absolute_path])
    return list(dict.fromkeys(line for err in errors for line in _explain(err, prefix)))


def _validate_against(config, schema_file, prefix=""):
    """Validate one (sub)config against a schema file, filling defaults; readable errors."""
    try:
        validate(config, schema_file)
    except WorkflowError as err:
        lines = _schema_errors(config, schema_file, prefix) or [f"{prefix}: {err}" if prefix else str(err)]
        raise WorkflowError("invalid workflow configuration:\n  " + "\n  ".join(lines)) from None


def capability_schema(name, schema_file):
    """Path of config/<name>.schema.yaml beside the main schema (it may not exist yet)."""
    return os.path.join(os.path.dirname(schema_file), f"{name}.schema.yaml")


def enabled(name):
    """Whether a capability section is switched on (``config[name]["enabled"]``)."""
    return bool(config.get(name, {}).get("enabled", False))


def validate_config(config, schema_file):
    """Validate ``config`` against the JSON schemas (filling defaults) and check cross-field rules.

    The main schema covers the molprop pipeline and the report; each capability
    section ``config[name]`` is validated by ``config/<name>.schema.yaml``.
    Raises ``WorkflowError`` naming every bad key with what is allowed, before
    any job runs.
    """
    _validate_against(config, schema_file)
    for name in CAPABILITIES:
        section_schema = capability_schema(name, schema_file)
        if not os.path.exists(section_schema):
            if config.get(name, {}).get("enabled"):
                raise WorkflowError(f"invalid workflow configuration:\n  config {name}: this capability has no "
                                    f"workflow rules yet ({section_schema} is missing)")
            continue
        section = config.setdefault(name, {})
        _validate_against(section, section_schema, prefix=name)
    problems = []
    labels = [entry["name"] for entry in dataset_entries(config)]
    for label in sorted({x for x in labels if labels.count(x) > 1}):
        problems.append(f"config datasets: {label!r} is listed more than once")
    for entry in dataset_entries(config):
        if entry.get("path") and not (entry.get("smiles_col") and entry.get("target")):
            problems.append(
                f"config datasets: {entry['name']!r} has a path, so it needs smiles_col and target too"
            )
    screen = config["library"].get("data")
    if screen is not None and not _is_path(screen):
        if screen.lower() in {x.lower() for x in labels}:
            problems.append(
                f"config library.data: {screen!r} is also a training dataset; score molecules the models "
                "were not trained on (another registry dataset or a file)"
            )
    hp = config.get("hparams", {})
    k = hp.get("graph_only_members", 0)
    if k and k >= config["ensemble"]:
        problems.append(
            f"config hparams.graph_only_members: {k} must be below ensemble ({config['ensemble']}): "
            "at least one member reads the descriptors"
        )
    if k and not hp.get("mol_features"):
        problems.append("config hparams.graph_only_members: needs hparams.mol_features (the other members' descriptors)")
    if problems:
        raise WorkflowError("invalid workflow configuration:\n  " + "\n  ".join(problems))


def _is_path(value):
    """A library/data value is a file path (not a registry name) when it looks like one."""
    return os.path.dirname(value) != "" or value.lower().endswith(TABLE_SUFFIXES)


def dataset_entries(config):
    """Training datasets as dicts with ``name`` and optional ``path``, ``smiles_col``, ``target``."""
    return [{"name": d} if isinstance(d, str) else dict(d) for d in config["datasets"]]


def _registry_info(name):
    """Registry record of a dataset (fails at parse time on an unknown name, with suggestions)."""
    from discovery.data import get
    from discovery.errors import DiscoveryError

    try:
        return get(name)
    except DiscoveryError as err:
        raise WorkflowError(f"config datasets/library: {err}") from None


# ------------------------------------------------------------------ what to run
def plan(config):
    """What the validated config asks for: ``(outdir, datasets, seeds)``.

    ``datasets`` maps each label to ``{"path": local file or None (fetch from
    the registry), "smiles_col": ..., "target": ...}``; missing columns come
    from the registry, so an unknown registry name fails here, at parse time.
    The Snakefile binds the result to OUTDIR, DATASETS and SEEDS, which the
    helpers below and the rules use.
    """
    datasets = {}
    for entry in dataset_entries(config):
        label = entry["name"]
        if entry.get("path"):
            datasets[label] = {"path": entry["path"], "smiles_col": entry["smiles_col"], "target": entry["target"]}
            continue
        info = None
        if not (entry.get("smiles_col") and entry.get("target")):
            info = _registry_info(label)
        datasets[label] = {
            "path": None,
            "smiles_col": entry.get("smiles_col") or info.smiles_column,
            "target": entry.get("target") or info.target_columns[0],
        }
    screen = config["library"].get("data")
    if screen is not None and not _is_path(screen):
        # the same registry dataset under another alias (e.g. delaney = esol) is also training data
        trained = {_registry_info(label).name for label, spec in datasets.items() if spec["path"] is None}
        if _registry_info(screen).name in trained:
            raise WorkflowError(
                f"config library.data: {screen!r} is the registry dataset {_registry_info(screen).name!r}, "
                "which is also a training dataset; score molecules the models were not trained on"
            )
    return os.path.normpath(config["outdir"]), datasets, [int(s) for s in config["seeds"]]


def report_baseline():
    """``--baseline FILE`` for the report, or "" when ``report.baseline`` is null.

    A relative path is looked up from the working directory, then from the
    repository root (where the benchmark writes it); a missing file fails at
    parse time, before any job runs.
    """
    path = config["report"].get("baseline")
    if not path:
        return ""
    repo_root = os.path.dirname(os.path.abspath(workflow.basedir))  # workflows/ sits in the repository root
    for candidate in (path, os.path.join(repo_root, path)):
        if os.path.isfile(candidate):
            return shlex.join(["--baseline", os.path.abspath(candidate)])
    raise WorkflowError(f"invalid workflow configuration:\n  config report.baseline: {path!r} not found "
                        f"(looked in {os.getcwd()} and {repo_root}); set it to null or to the JSON of "
                        "benchmarks/molprop_vs_chemprop.py")


def molprop_dir():
    """Folder of the molprop pipeline's outputs and logs: ``<outdir>/molprop``."""
    return f"{OUTDIR}/molprop"


def dataset_table(wildcards):
    """Input table of a training dataset: a local file, or the fetched registry copy."""
    spec = DATASETS[wildcards.dataset]
    return spec["path"] or f"{MOLPROP}/data/{wildcards.dataset}.csv"


def library_table():
    """Library to score: a local file, a fetched registry copy, or None (none configured)."""
    data = config["library"].get("data")
    if data is None:
        return None
    if _is_path(data):
        return data
    return f"{MOLPROP}/data/{data}.csv"


def library_smiles_col():
    """SMILES column of the library: configured, else the registry's, else `smiles`."""
    col = config["library"].get("smiles_col")
    if col:
        return col
    data = config["library"].get("data")
    if data is not None and not _is_path(data):
        return _registry_info(data).smiles_column or "smiles"
    return "smiles"


def eval_files(wildcards=None):
    """Re-evaluation metrics of every dataset x seed."""
    return expand(f"{MOLPROP}/evaluate/{{dataset}}/seed{{seed}}.json", dataset=list(DATASETS), seed=SEEDS)


def prediction_files(wildcards=None):
    """Library predictions of every dataset x seed (none when no library is configured)."""
    if library_table() is None:
        return []
    return expand(f"{MOLPROP}/predict/{{dataset}}/seed{{seed}}.csv", dataset=list(DATASETS), seed=SEEDS)


def train_dirs(wildcards=None):
    """Result folder (manifest.json, metrics, model) of every dataset x seed training run."""
    return expand(f"{MOLPROP}/train/{{dataset}}/seed{{seed}}", dataset=list(DATASETS), seed=SEEDS)


def all_targets():
    """Final targets: the molprop summary table, every library prediction, and the report."""
    return [f"{MOLPROP}/summary.tsv", *prediction_files(), f"{OUTDIR}/report.html"]


# ------------------------------------------------------------------ resources and arguments
def res(step, key):
    """One resource of a step: config["resources"][step][key], else the default."""
    return config.get("resources", {}).get(step, {}).get(key, DEFAULT_RESOURCES[step][key])


def train_args(wildcards):
    """Command-line options of `discovery molprop train` for one dataset x seed (shell-quoted)."""
    spec = DATASETS[wildcards.dataset]
    args = [
        "--smiles-col", spec["smiles_col"],
        "--target", spec["target"],
        "--model", config["model"],
        "--split", config["split"],
        "--seed", str(wildcards.seed),
        "--ensemble", str(config["ensemble"]),
        "--epochs", str(config["epochs"]),
        "--no-progress",
    ]
    for key, value in sorted(config.get("hparams", {}).items()):
        args += [f"--{key.replace('_', '-')}", str(value)]
    return shlex.join(args)


def target_of(wildcards):
    """Target column of a training dataset."""
    return DATASETS[wildcards.dataset]["target"]


def registry_table_name(name):
    """File name of a registry dataset's main table (what `fetch` copies)."""
    info = _registry_info(name)
    return os.path.basename(info.file().relpath)
