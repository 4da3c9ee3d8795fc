# Figures for the report, from the cached tables and model outputs only.


rule plot_figures:
    input:
        reps="results/tables/reps.parquet",
        curves="results/tables/curves.parquet",
        models="results/stats/models.csv",
        lifter_slopes="results/stats/lifter_slopes.csv",
        always="results/stats/always.csv",
        spm="results/stats/spm.csv",
    output:
        **{
            name: report(
                f"results/figures/{name}.png",
                caption=f"../report/{name}.rst",
                category="2. Figures",
                labels={"figure": FIGURES[name].title},
            )
            for name in FIGURE_NAMES
        },
        pdfs=expand("results/figures/{name}.pdf", name=FIGURE_NAMES),
        captions=expand("results/figures/{name}.counts.rst", name=FIGURE_NAMES),  # included by the captions
        counts="results/figures/figure_counts.json",
    params:
        heavy_pct_1rm=config["stats"]["heavy_pct_1rm"],  # fit_models gets it in get_stats_params
    threads: 2
    log:
        "results/logs/plot_figures/plot_figures.log",
    benchmark:
        "results/benchmarks/plot_figures/plot_figures.tsv"
    conda:
        "../../envs/analysis.yaml"
    shell:
        "{HIPDRIVE} plot-figures --reps {input.reps:q} --curves {input.curves:q} --stats-dir results/stats"
        " --out-dir results/figures --heavy-pct-1rm {params.heavy_pct_1rm} --workers {threads}"
        " > {log:q} 2>&1"
