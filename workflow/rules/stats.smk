# Mixed models, "always" shares, SPM: from the cached tables only.


rule fit_models:
    input:
        reps="results/tables/reps.parquet",
        curves="results/tables/curves.parquet",
    output:
        models=report("results/stats/models.csv", caption="../report/models.rst", category="4. Statistical tables",
                      labels={"table": "Mixed models (CSV)"}),
        models_tex=report("results/stats/models.tex", caption="../report/models.rst", category="4. Statistical tables",
                          labels={"table": "Mixed models (LaTeX, for papers)"}),
        lifter_slopes=report("results/stats/lifter_slopes.csv", caption="../report/lifter_slopes.rst",
                             category="4. Statistical tables", labels={"table": "Per-lifter slopes"}),
        always=report("results/stats/always.csv", caption="../report/always.rst", category="4. Statistical tables",
                      labels={"table": "\"Always\": shares with bootstrap CIs"}),
        spm="results/stats/spm.csv",
        spm_clusters=report("results/stats/spm_clusters.csv", caption="../report/spm_clusters.rst",
                            category="4. Statistical tables", labels={"table": "SPM clusters"}),
        qc_summary=report("results/stats/qc_summary.csv", caption="../report/qc_summary.rst",
                          category="3. Quality control", labels={"table": "Reps per lifter and flags"}),
        provenance=report("results/stats/provenance.json", caption="../report/provenance.rst",
                          category="5. Provenance", labels={"file": "Software versions, parameters, inputs"}),
    params:
        stats=get_stats_params,
    threads: 2
    log:
        "results/logs/fit_models/fit_models.log",
    benchmark:
        "results/benchmarks/fit_models/fit_models.tsv"
    conda:
        "../../envs/analysis.yaml"
    shell:
        "{HIPDRIVE} fit-models --reps {input.reps:q} --curves {input.curves:q} --params {params.stats:q}"
        " --out-dir results/stats > {log:q} 2>&1"


rule write_answer:
    input:
        models="results/stats/models.csv",
        always="results/stats/always.csv",
        excluded=[] if config["from_tables"] else "results/qc/excluded.tsv",
    output:
        page=report("results/report/answer.html", caption="../report/answer.rst", category="1. Answer",
                    labels={"page": "What this study found"}),
        summary="results/report/answer_summary.html",  # the findings alone: the report's landing page
    params:
        config=as_json(config),
        excluded="" if config["from_tables"] else "--excluded results/qc/excluded.tsv",
        truth=simulated_truth_option(),
    log:
        "results/logs/write_answer/write_answer.log",
    conda:
        "../../envs/analysis.yaml"
    shell:
        "{HIPDRIVE} write-answer --stats-dir results/stats {params.excluded} --config {params.config:q}"
        " {params.truth} --out {output.page:q} --summary-out {output.summary:q} > {log:q} 2>&1"
