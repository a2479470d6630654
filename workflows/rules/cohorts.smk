# Trial-cohort screening (outputs under <outdir>/cohorts): a synthetic OMOP CDM, one screen per entry of
# config["cohorts"]["screens"], and optionally the parser evaluation. Each rule is one `discovery cohorts`
# call; argument building lives in discovery.cohorts._workflow.

from discovery.cohorts import _workflow as cohorts_wf

COHORTS = f"{OUTDIR}/cohorts"


rule cohorts_synth:
    """Synthetic OMOP CDM (Parquet), deterministic per seed."""
    output:
        manifest=f"{COHORTS}/synth/manifest.json",
    log:
        f"{COHORTS}/logs/synth.log",
    params:
        out=lambda wc, output: os.path.dirname(output.manifest),
        persons=config["cohorts"]["synth"].get("persons", 10000),
        seed=config["cohorts"]["synth"].get("seed", 0),
    threads: cohorts_wf.resource(config["cohorts"], "synth", "threads")
    conda:
        conda_env
    resources:
        mem_mb=cohorts_wf.resource(config["cohorts"], "synth", "mem_mb"),
        runtime=cohorts_wf.resource(config["cohorts"], "synth", "runtime"),
    shell:
        "discovery cohorts synth --persons {params.persons} --seed {params.seed} --out {params.out:q} > {log} 2>&1"


rule cohorts_screen:
    """Screen one CDM against one trial: evidence, eligible cohort, funnel, near misses."""
    input:
        lambda wc: cohorts_wf.screen_inputs(config["cohorts"], wc.name, COHORTS),
    output:
        manifest=f"{COHORTS}/screen/{{name}}/manifest.json",
        funnel=f"{COHORTS}/screen/{{name}}/funnel.csv",
        evidence=f"{COHORTS}/screen/{{name}}/evidence.parquet",
    log:
        f"{COHORTS}/logs/screen/{{name}}.log",
    params:
        out=lambda wc, output: os.path.dirname(output.manifest),
        args=lambda wc: cohorts_wf.screen_args(config["cohorts"], wc.name, COHORTS),
    threads: cohorts_wf.resource(config["cohorts"], "screen", "threads")
    conda:
        conda_env
    resources:
        mem_mb=cohorts_wf.resource(config["cohorts"], "screen", "mem_mb"),
        runtime=cohorts_wf.resource(config["cohorts"], "screen", "runtime"),
    shell:
        "DISCOVERY_DUCKDB_THREADS={threads} discovery cohorts screen {params.args} --out {params.out:q} > {log} 2>&1"


rule cohorts_evaluate_parser:
    """Rule-based parser vs the 64 gold numeric criteria; coverage on the 1,000 criteria-lct texts."""
    output:
        manifest=f"{COHORTS}/parser_eval/manifest.json",
        evaluation=f"{COHORTS}/parser_eval/evaluation.json",
    log:
        f"{COHORTS}/logs/parser_eval.log",
    params:
        out=lambda wc, output: os.path.dirname(output.manifest),
    threads: cohorts_wf.resource(config["cohorts"], "evaluate", "threads")
    conda:
        conda_env
    resources:
        mem_mb=cohorts_wf.resource(config["cohorts"], "evaluate", "mem_mb"),
        runtime=cohorts_wf.resource(config["cohorts"], "evaluate", "runtime"),
    shell:
        "discovery cohorts evaluate-parser --out {params.out:q} > {log} 2>&1"


REPORT_INPUTS.extend(cohorts_wf.report_inputs(config["cohorts"], COHORTS))
