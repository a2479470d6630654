# Literature mining (outputs under <outdir>/literature): the offline model, then per input file (shard)
# ingest -> extract, merged into one evidence table with literature edges for the knowledge graph, cited
# summaries of chosen entities, and the BC5CDR evaluation. Each rule is one `discovery literature` call;
# shards and arguments come from discovery.literature._workflow.

from discovery.literature import _workflow as lit_wf

LIT = f"{OUTDIR}/literature"
LIT_SHARDS = lit_wf.shards(config["literature"])
LIT_ENTITIES = lit_wf.entities(config["literature"])


wildcard_constraints:
    shard=r"[A-Za-z0-9_.-]+",
    entity=r"[A-Za-z0-9_.-]+",


rule literature_model:
    """Dictionary NER + relation weights trained on BC5CDR train/dev (from the cache when built before)."""
    output:
        model=f"{LIT}/model/model.json",
    log:
        f"{LIT}/logs/model.log",
    params:
        out=lambda wc, output: os.path.dirname(output.model),
    threads: lit_wf.resource(config["literature"], "model", "threads")
    conda:
        conda_env
    resources:
        mem_mb=lit_wf.resource(config["literature"], "model", "mem_mb"),
        runtime=lit_wf.resource(config["literature"], "model", "runtime"),
    shell:
        "discovery literature build-model --out {params.out:q} > {log} 2>&1"


rule literature_ingest:
    """One input file (a PubMed baseline file, MEDLINE or PubTator) into its own DuckDB corpus shard."""
    input:
        lambda wc: LIT_SHARDS[wc.shard],
    output:
        db=f"{LIT}/corpus/{{shard}}.duckdb",
        manifest=f"{LIT}/ingest/{{shard}}/manifest.json",
    log:
        f"{LIT}/logs/ingest/{{shard}}.log",
    params:
        out=lambda wc, output: os.path.dirname(output.manifest),
    threads: lit_wf.resource(config["literature"], "ingest", "threads")
    conda:
        conda_env
    resources:
        mem_mb=lit_wf.resource(config["literature"], "ingest", "mem_mb"),
        runtime=lit_wf.resource(config["literature"], "ingest", "runtime"),
    shell:
        "rm -f {output.db:q}; discovery literature ingest {input:q} --db {output.db:q} --out {params.out:q} > {log} 2>&1"


rule literature_extract:
    """Mentions, relations and co-mentions with evidence sentences of one shard."""
    input:
        db=f"{LIT}/corpus/{{shard}}.duckdb",
        model=rules.literature_model.output.model,
    output:
        evidence=f"{LIT}/extract/{{shard}}/evidence.parquet",
        manifest=f"{LIT}/extract/{{shard}}/manifest.json",
    log:
        f"{LIT}/logs/extract/{{shard}}.log",
    params:
        out=lambda wc, output: os.path.dirname(output.manifest),
        model=lambda wc, input: os.path.dirname(input.model),
        args=lit_wf.llm_args(config["literature"]),
    threads: lit_wf.resource(config["literature"], "extract", "threads")
    conda:
        conda_env
    resources:
        mem_mb=lit_wf.resource(config["literature"], "extract", "mem_mb"),
        runtime=lit_wf.resource(config["literature"], "extract", "runtime"),
    shell:
        "discovery literature extract {input.db:q} --model-dir {params.model:q} {params.args} --out {params.out:q}"
        " > {log} 2>&1"


rule literature_merge:
    """All shards' evidence in one table, plus edges.parquet: literature edges for the targets graph."""
    input:
        expand(f"{LIT}/extract/{{shard}}/manifest.json", shard=list(LIT_SHARDS)),
    output:
        evidence=f"{LIT}/evidence/evidence.parquet",
        edges=f"{LIT}/evidence/edges.parquet",
        manifest=f"{LIT}/evidence/manifest.json",
    log:
        f"{LIT}/logs/merge.log",
    params:
        dirs=lambda wc, input: " ".join(shlex.quote(os.path.dirname(p)) for p in input),
        out=lambda wc, output: os.path.dirname(output.manifest),
    threads: lit_wf.resource(config["literature"], "merge", "threads")
    conda:
        conda_env
    resources:
        mem_mb=lit_wf.resource(config["literature"], "merge", "mem_mb"),
        runtime=lit_wf.resource(config["literature"], "merge", "runtime"),
    shell:
        "discovery literature merge {params.dirs} --out {params.out:q} > {log} 2>&1"


rule literature_summarize:
    """Short cited summary (bullets with PMIDs) of one entity."""
    input:
        rules.literature_merge.output.evidence,
    output:
        manifest=f"{LIT}/summary/{{entity}}/manifest.json",
        md=f"{LIT}/summary/{{entity}}/summary.md",
    log:
        f"{LIT}/logs/summary/{{entity}}.log",
    params:
        entity=lambda wc: LIT_ENTITIES[wc.entity],
        out=lambda wc, output: os.path.dirname(output.manifest),
    threads: lit_wf.resource(config["literature"], "summarize", "threads")
    conda:
        conda_env
    resources:
        mem_mb=lit_wf.resource(config["literature"], "summarize", "mem_mb"),
        runtime=lit_wf.resource(config["literature"], "summarize", "runtime"),
    shell:
        "discovery literature summarize --evidence {input:q} --entity {params.entity:q} --out {params.out:q}"
        " > {log} 2>&1"


rule literature_evaluate:
    """BC5CDR evaluation of the model: NER P/R/F1, document-level ids, CID F1, throughput."""
    input:
        model=rules.literature_model.output.model,
    output:
        manifest=f"{LIT}/evaluate/manifest.json",
        metrics=f"{LIT}/evaluate/metrics.json",
    log:
        f"{LIT}/logs/evaluate.log",
    params:
        model=lambda wc, input: os.path.dirname(input.model),
        out=lambda wc, output: os.path.dirname(output.manifest),
        args=lit_wf.evaluate_args(config["literature"]),
    threads: lit_wf.resource(config["literature"], "evaluate", "threads")
    conda:
        conda_env
    resources:
        mem_mb=lit_wf.resource(config["literature"], "evaluate", "mem_mb"),
        runtime=lit_wf.resource(config["literature"], "evaluate", "runtime"),
    shell:
        "discovery literature evaluate --model-dir {params.model:q} {params.args} --out {params.out:q} > {log} 2>&1"


REPORT_INPUTS.extend(lit_wf.report_inputs(config["literature"], LIT))
