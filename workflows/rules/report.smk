# The PI report: one self-contained HTML file from every result folder the
# included capabilities registered in REPORT_INPUTS. Included last.


rule report:
    """Self-contained HTML report (summary, one section per capability, methods, versions, provenance)."""
    input:
        results=REPORT_INPUTS,
        summary=rules.summarize.output.summary,
    output:
        html=report(
            f"{OUTDIR}/report.html",
            caption="../report/report.rst",
            category="Report",
        ),
    log:
        f"{OUTDIR}/logs/report.log",
    params:
        title=config["report"]["title"],
        pdf=lambda wc, output: f"--pdf {os.path.splitext(output.html)[0]}.pdf" if config["report"]["pdf"] else "",
        baseline=report_baseline(),
    threads: res("report", "threads")
    conda:
        conda_env
    resources:
        mem_mb=res("report", "mem_mb"),
        runtime=res("report", "runtime"),
    shell:
        "discovery report {input.results:q} -o {output.html:q} --title {params.title:q} {params.pdf} {params.baseline}"
        " > {log} 2>&1"
