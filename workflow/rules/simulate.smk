# The demo / simulated study: render a lifter video and its exact ground truth.


rule simulate_video:
    output:
        video=f"{SIMULATED_ROOT}/videos/{{video_id}}.mp4",
        keypoints=f"{SIMULATED_ROOT}/truth/{{video_id}}.keypoints.parquet",
        reps=f"{SIMULATED_ROOT}/truth/{{video_id}}.reps.parquet",
    params:
        sheet=config["samples"],
        truth_dir=lambda wildcards, output: os.path.dirname(output.keypoints),
        sample=get_sample_json,
        seed=config["simulate"]["seed"],
        slope=config["simulate"]["effect_slope_deg_per_10pct"],
        fps=config["simulate"]["fps"],
        n_reps=config["simulate"]["n_reps"],
        size=f"--width {config['simulate']['width']} --height {config['simulate']['height']}",
    log:
        "results/logs/simulate_video/{video_id}.log",
    benchmark:
        "results/benchmarks/simulate_video/{video_id}.tsv"
    conda:
        "../../envs/analysis.yaml"
    shell:
        "{HIPDRIVE} simulate video --sample-sheet {params.sheet:q} --video-id {wildcards.video_id:q}"
        " --seed {params.seed} --effect-slope {params.slope} --fps {params.fps} --reps {params.n_reps} {params.size}"
        " --video {output.video:q} --truth-dir {params.truth_dir:q} > {log:q} 2>&1"
