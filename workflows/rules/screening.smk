# Similarity screening and active learning (outputs under <outdir>/screening): index the library once, then
# search, cluster, pick and select from it. Each rule is one `discovery screen` call; argument building lives
# in discovery.screening._workflow.

from discovery.screening import _workflow as screen_wf

SCREEN = f"{OUTDIR}/screening"
SCFG = config["screening"]


rule screening_index:
    """Fingerprint the library into a memory-mapped index (packed uint64, sorted by popcount)."""
    input:
        library=screen_wf.file_input(SCFG["library"]),
    output:
        index=directory(f"{SCREEN}/index"),
    log:
        f"{SCREEN}/logs/index.log",
    params:
        library=lambda wc, input: input.library or SCFG["library"],
        fp=screen_wf.fp_args(SCFG),
    threads: screen_wf.resource(SCFG, "index", "threads")
    conda:
        conda_env
    resources:
        mem_mb=screen_wf.resource(SCFG, "index", "mem_mb"),
        runtime=screen_wf.resource(SCFG, "index", "runtime"),
    shell:
        "discovery screen index --data {params.library:q} {params.fp} --jobs {threads} --no-progress"
        " --out {output.index:q} > {log} 2>&1"


rule screening_search:
    """Exact Tanimoto search of the queries against the indexed library."""
    input:
        queries=screen_wf.file_input(SCFG["search"]["queries"]),
        index=rules.screening_index.output.index,
    output:
        hits=f"{SCREEN}/search/hits.csv",
        manifest=f"{SCREEN}/search/manifest.json",
    log:
        f"{SCREEN}/logs/search.log",
    params:
        queries=lambda wc, input: input.queries or SCFG["search"]["queries"],
        mode=screen_wf.search_args(SCFG),
        out=lambda wc, output: os.path.dirname(output.manifest),
    threads: screen_wf.resource(SCFG, "search", "threads")
    conda:
        conda_env
    resources:
        mem_mb=screen_wf.resource(SCFG, "search", "mem_mb"),
        runtime=screen_wf.resource(SCFG, "search", "runtime"),
        gpu=screen_wf.resource(SCFG, "search", "gpu"),
    shell:
        "discovery screen search --library {input.index:q} --queries {params.queries:q} {params.mode}"
        " --no-progress --out {params.out:q} > {log} 2>&1"


rule screening_cluster:
    """Taylor-Butina clusters of the library."""
    input:
        index=rules.screening_index.output.index,
    output:
        clusters=f"{SCREEN}/cluster/clusters.csv",
        manifest=f"{SCREEN}/cluster/manifest.json",
    log:
        f"{SCREEN}/logs/cluster.log",
    params:
        cutoff=SCFG["cluster"].get("cutoff", 0.4),
        out=lambda wc, output: os.path.dirname(output.manifest),
    threads: screen_wf.resource(SCFG, "cluster", "threads")
    conda:
        conda_env
    resources:
        mem_mb=screen_wf.resource(SCFG, "cluster", "mem_mb"),
        runtime=screen_wf.resource(SCFG, "cluster", "runtime"),
    shell:
        "discovery screen cluster --data {input.index:q} --cutoff {params.cutoff} --out {params.out:q} > {log} 2>&1"


rule screening_pick:
    """MaxMin diversity picks from the library (seeded)."""
    input:
        index=rules.screening_index.output.index,
    output:
        picks=f"{SCREEN}/pick/picks.csv",
        manifest=f"{SCREEN}/pick/manifest.json",
    log:
        f"{SCREEN}/logs/pick.log",
    params:
        n=SCFG["pick"].get("n", 96),
        seed=SCFG["pick"].get("seed", 0),
        out=lambda wc, output: os.path.dirname(output.manifest),
    threads: screen_wf.resource(SCFG, "pick", "threads")
    conda:
        conda_env
    resources:
        mem_mb=screen_wf.resource(SCFG, "pick", "mem_mb"),
        runtime=screen_wf.resource(SCFG, "pick", "runtime"),
    shell:
        "discovery screen pick --data {input.index:q} --n {params.n} --seed {params.seed}"
        " --out {params.out:q} > {log} 2>&1"


rule screening_select:
    """GP on the measured molecules, then the next batch from the library (scores and reasons)."""
    input:
        train=screen_wf.file_input(SCFG["select"]["train"]),
        index=rules.screening_index.output.index,
    output:
        batch=f"{SCREEN}/select/batch.csv",
        manifest=f"{SCREEN}/select/manifest.json",
    log:
        f"{SCREEN}/logs/select.log",
    params:
        train=lambda wc, input: input.train or SCFG["select"]["train"],
        args=screen_wf.select_args(SCFG),
        out=lambda wc, output: os.path.dirname(output.manifest),
    threads: screen_wf.resource(SCFG, "select", "threads")
    conda:
        conda_env
    resources:
        mem_mb=screen_wf.resource(SCFG, "select", "mem_mb"),
        runtime=screen_wf.resource(SCFG, "select", "runtime"),
        gpu=screen_wf.resource(SCFG, "select", "gpu"),
    shell:
        "discovery screen select --train {params.train:q} --library {input.index:q} {params.args}"
        " --out {params.out:q} > {log} 2>&1"


# the report reads the index and each enabled step's result folder
REPORT_INPUTS.append(rules.screening_index.output.index)
REPORT_INPUTS.extend(f"{SCREEN}/{step}/manifest.json" for step in screen_wf.enabled_steps(SCFG))
