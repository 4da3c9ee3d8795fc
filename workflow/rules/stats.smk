# Mixed models, "always" shares, SPM: from the cached tables only.


rule fit_models:
    input:
        reps="results/tables/reps.parquet",
        curves="results/tables/curves.parquet",
    output:
        models="results/stats/models.csv",
        models_tex="results/stats/models.tex",
        lifter_slopes="results/stats/lifter_slopes.csv",
        always="results/stats/always.csv",
        spm="results/stats/spm.csv",
        spm_clusters="results/stats/spm_clusters.csv",
        qc_summary="results/stats/qc_summary.csv",
        provenance="results/stats/provenance.json",
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
        "hipdrive fit-models --reps {input.reps:q} --curves {input.curves:q} --params {params.stats:q}"
        " --out-dir results/stats > {log:q} 2>&1"
