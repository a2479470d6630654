# Rules of the molecular property pipeline (outputs under <outdir>/molprop). Each rule is one `discovery` CLI call (or, for
# `summarize`, a plumbing script that concatenates JSON files into a table).
# Paths, arguments and resources come from common.smk.


rule fetch:
    """Fetch a registry dataset (cache -> mirror -> download, sha256-checked) and copy its main table."""
    output:
        table=f"{MOLPROP}/data/{{dataset}}.csv",
    log:
        f"{MOLPROP}/logs/fetch/{{dataset}}.log",
    params:
        table_name=lambda wc: registry_table_name(wc.dataset),
    threads: res("fetch", "threads")
    conda:
        conda_env
    resources:
        mem_mb=res("fetch", "mem_mb"),
        runtime=res("fetch", "runtime"),
    shell:
        r"""
        set -euo pipefail
        paths=$(discovery data fetch {wildcards.dataset:q} 2> {log})
        src=""
        while IFS= read -r p; do
            if [ "$(basename "$p")" = {params.table_name:q} ]; then src=$p; fi
        done <<< "$paths"
        test -n "$src" || {{ echo "fetch: {params.table_name} was not among the fetched files" >> {log}; exit 1; }}
        echo "fetched $src" >> {log}
        case "$src" in
            *.gz) gzip -dc "$src" > {output.table} ;;
            *) cp "$src" {output.table} ;;
        esac
        """


rule train:
    """Train an ensemble on one dataset with one seed (split and initialisation follow the seed)."""
    input:
        table=dataset_table,
    output:
        metrics=f"{MOLPROP}/train/{{dataset}}/seed{{seed}}/metrics.json",
        test_predictions=f"{MOLPROP}/train/{{dataset}}/seed{{seed}}/test_predictions.csv",
        splits=f"{MOLPROP}/train/{{dataset}}/seed{{seed}}/splits.json",
        invalid_rows=f"{MOLPROP}/train/{{dataset}}/seed{{seed}}/invalid_rows.csv",
        manifest=f"{MOLPROP}/train/{{dataset}}/seed{{seed}}/manifest.json",
        model=directory(f"{MOLPROP}/train/{{dataset}}/seed{{seed}}/model"),
    log:
        f"{MOLPROP}/logs/train/{{dataset}}/seed{{seed}}.log",
    params:
        run_dir=lambda wc, output: os.path.dirname(output.metrics),
        args=train_args,
    threads: res("train", "threads")
    conda:
        conda_env
    resources:
        mem_mb=res("train", "mem_mb"),
        runtime=res("train", "runtime"),
        gpu=res("train", "gpu"),
    shell:
        "discovery molprop train --data {input.table:q} {params.args} --threads {threads}"
        " --out {params.run_dir:q} > {log} 2>&1"


rule evaluate:
    """Re-score the saved model bundle on its held-out test molecules (checks the bundle reproduces training's metrics)."""
    input:
        model=rules.train.output.model,
        test_predictions=rules.train.output.test_predictions,
    output:
        metrics=f"{MOLPROP}/evaluate/{{dataset}}/seed{{seed}}.json",
    log:
        f"{MOLPROP}/logs/evaluate/{{dataset}}/seed{{seed}}.log",
    params:
        # test_predictions.csv holds smiles, row, <target>_true, <target>_pred, <target>_std
        label=lambda wc: f"{target_of(wc)}_true",
    threads: res("evaluate", "threads")
    conda:
        conda_env
    resources:
        mem_mb=res("evaluate", "mem_mb"),
        runtime=res("evaluate", "runtime"),
        gpu=res("evaluate", "gpu"),
    shell:
        "discovery molprop evaluate --model {input.model:q} --data {input.test_predictions:q}"
        " --smiles-col smiles --target {params.label:q} --out {output.metrics:q} > {log} 2>&1"


rule predict:
    """Score the library with one trained ensemble (mean, uncertainty, applicability domain)."""
    input:
        model=rules.train.output.model,
        table=library_table() or [],
    output:
        predictions=f"{MOLPROP}/predict/{{dataset}}/seed{{seed}}.csv",
        # rows of the library that could not be read, with reasons (always written)
        invalid_rows=f"{MOLPROP}/predict/{{dataset}}/seed{{seed}}.invalid.csv",
    log:
        f"{MOLPROP}/logs/predict/{{dataset}}/seed{{seed}}.log",
    params:
        smiles_col=library_smiles_col(),
    threads: res("predict", "threads")
    conda:
        conda_env
    resources:
        mem_mb=res("predict", "mem_mb"),
        runtime=res("predict", "runtime"),
        gpu=res("predict", "gpu"),
    shell:
        "discovery molprop predict --model {input.model:q} --data {input.table:q}"
        " --smiles-col {params.smiles_col:q} --no-progress --out {output.predictions:q} > {log} 2>&1"


rule summarize:
    """One table of every dataset x seed's metrics (training's test split and the re-evaluation)."""
    input:
        train=expand(rules.train.output.metrics, dataset=list(DATASETS), seed=SEEDS),
        evaluate=eval_files(),
    output:
        summary=report(
            f"{MOLPROP}/summary.tsv",
            caption="../report/summary.rst",
            category="Molecular property prediction",
        ),
    log:
        f"{MOLPROP}/logs/summarize.log",
    params:
        labels=expand("{dataset}\t{seed}", dataset=list(DATASETS), seed=SEEDS),
    threads: res("summarize", "threads")
    conda:
        conda_env
    resources:
        mem_mb=res("summarize", "mem_mb"),
        runtime=res("summarize", "runtime"),
    script:
        "../scripts/summarize.py"


# the report reads every training run's result folder (manifest.json, metrics, predictions)
REPORT_INPUTS.extend(expand(rules.train.output.manifest, dataset=list(DATASETS), seed=SEEDS))
