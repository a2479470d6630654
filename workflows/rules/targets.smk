# Target discovery and drug repurposing on a knowledge graph (outputs under <outdir>/targets): the graph
# summary, link-prediction evaluation per split (models x seeds), ranked genes and drugs with evidence per
# disease, and optionally the DAVIS drug-target affinity comparison. Each rule is one `discovery targets`
# call; arguments come from discovery.targets._workflow.

from discovery.targets import _workflow as tgt_wf

TGT = f"{OUTDIR}/targets"
TCFG = config["targets"]
TGT_DISEASES = tgt_wf.diseases(TCFG)


wildcard_constraints:
    split=r"random|disease",
    disease=r"[A-Za-z0-9_.-]+",
    question=r"rank|repurpose",


rule targets_summary:
    """Read the knowledge graph; counts per node and edge type, skipped records."""
    output:
        summary=f"{TGT}/summary/summary.json",
        manifest=f"{TGT}/summary/manifest.json",
    log:
        f"{TGT}/logs/summary.log",
    params:
        kg=TCFG.get("kg", "hetionet-16"),
        out=lambda wc, output: os.path.dirname(output.manifest),
    threads: tgt_wf.resource(TCFG, "summary", "threads")
    conda:
        conda_env
    resources:
        mem_mb=tgt_wf.resource(TCFG, "summary", "mem_mb"),
        runtime=tgt_wf.resource(TCFG, "summary", "runtime"),
    shell:
        "discovery targets summary --kg {params.kg:q} --out {params.out:q} > {log} 2>&1"


rule targets_evaluate:
    """Random or disease-held-out split; every model x seed; filtered MRR/Hits@k and AUROC/AUPRC."""
    input:
        rules.targets_summary.output.manifest,
    output:
        metrics=f"{TGT}/evaluate/{{split}}/metrics.json",
        manifest=f"{TGT}/evaluate/{{split}}/manifest.json",
    log:
        f"{TGT}/logs/evaluate_{{split}}.log",
    params:
        args=tgt_wf.evaluate_args(TCFG),
        out=lambda wc, output: os.path.dirname(output.manifest),
    threads: tgt_wf.resource(TCFG, "evaluate", "threads")
    conda:
        conda_env
    resources:
        mem_mb=tgt_wf.resource(TCFG, "evaluate", "mem_mb"),
        runtime=tgt_wf.resource(TCFG, "evaluate", "runtime"),
    shell:
        "discovery targets evaluate {params.args} --split {wildcards.split} --threads {threads}"
        " --out {params.out:q} > {log} 2>&1"


rule targets_rank:
    """Ranked genes (rank) or compounds (repurpose) for one disease, with paths and per-source evidence."""
    input:
        rules.targets_summary.output.manifest,
    output:
        ranking=f"{TGT}/{{question}}/{{disease}}/ranking.json",
        manifest=f"{TGT}/{{question}}/{{disease}}/manifest.json",
    log:
        f"{TGT}/logs/{{question}}_{{disease}}.log",
    params:
        disease=lambda wc: TGT_DISEASES[wc.disease],
        args=tgt_wf.rank_args(TCFG),
        out=lambda wc, output: os.path.dirname(output.manifest),
    threads: tgt_wf.resource(TCFG, "rank", "threads")
    conda:
        conda_env
    resources:
        mem_mb=tgt_wf.resource(TCFG, "rank", "mem_mb"),
        runtime=tgt_wf.resource(TCFG, "rank", "runtime"),
    shell:
        "discovery targets {wildcards.question} --disease {params.disease:q} {params.args}"
        " --out {params.out:q} > {log} 2>&1"


rule targets_dta:
    """DAVIS drug-target interactions, unseen-protein split: D-MPNN + protein encoder vs gradient boosting."""
    output:
        metrics=f"{TGT}/dta/metrics.json",
        manifest=f"{TGT}/dta/manifest.json",
    log:
        f"{TGT}/logs/dta.log",
    params:
        args=tgt_wf.dta_args(TCFG),
        out=lambda wc, output: os.path.dirname(output.manifest),
    threads: tgt_wf.resource(TCFG, "dta", "threads")
    conda:
        conda_env
    resources:
        mem_mb=tgt_wf.resource(TCFG, "dta", "mem_mb"),
        runtime=tgt_wf.resource(TCFG, "dta", "runtime"),
    shell:
        "discovery targets dta {params.args} --out {params.out:q} > {log} 2>&1"


REPORT_INPUTS.extend(tgt_wf.report_inputs(TCFG, TGT))
