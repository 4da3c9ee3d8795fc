# Keypoints -> reps and curves per video (or per shard, see pose.smk), then all videos
# into two tables.


if SHARDS:
    for _shard, _ids in SHARDS.items():

        rule:
            name:
                f"analyze_{_shard}"
            input:
                expand("results/keypoints/{video_id}.parquet", video_id=_ids),
            output:
                reps=expand("results/reps/{video_id}.parquet", video_id=_ids),
                curves=expand("results/curves/{video_id}.parquet", video_id=_ids),
            params:
                jobs=analyze_shard_jobs(_ids),
                samples=[get_sample_json_of(v) for v in _ids],  # an edited row re-runs its shard
                sheet=config["samples"],
                analysis=as_json(config["analysis"]),
                on_bad_video=config["on_bad_video"],
            log:
                f"results/logs/analyze_video/{_shard}.log",
            benchmark:
                f"results/benchmarks/analyze_video/{_shard}.tsv"
            conda:
                "../../envs/analysis.yaml"
            shell:
                "{HIPDRIVE} analyze-shard --jobs {params.jobs:q} --sample-sheet {params.sheet:q}"
                " --params {params.analysis:q} --on-bad-video {params.on_bad_video} > {log:q} 2>&1"


else:  # one job per video (the default; the rule names the docs and tests use)

    rule analyze_video:
        input:
            "results/keypoints/{video_id}.parquet",
        output:
            reps="results/reps/{video_id}.parquet",
            curves="results/curves/{video_id}.parquet",
        params:
            sheet=config["samples"],
            sample=get_sample_json,
            analysis=as_json(config["analysis"]),
            on_bad_video=config["on_bad_video"],
        log:
            "results/logs/analyze_video/{video_id}.log",
        benchmark:
            "results/benchmarks/analyze_video/{video_id}.tsv"
        conda:
            "../../envs/analysis.yaml"
        shell:
            "{HIPDRIVE} analyze-video {input:q} --sample-sheet {params.sheet:q} --video-id {wildcards.video_id:q}"
            " --params {params.analysis:q} --reps-out {output.reps:q} --curves-out {output.curves:q}"
            " --on-bad-video {params.on_bad_video} > {log:q} 2>&1"



rule collect_tables:
    input:
        sheet=config["samples"],
        reps=expand("results/reps/{video_id}.parquet", video_id=VIDEO_IDS),
        curves=expand("results/curves/{video_id}.parquet", video_id=VIDEO_IDS),
    output:
        reps="results/tables/reps.parquet",
        curves="results/tables/curves.parquet",
        excluded="results/qc/excluded.tsv",
        excluded_html=report(
            "results/qc/excluded.html",
            caption="../report/excluded.rst",
            category="3. Quality control",
            labels={"table": "Excluded videos and reps"},
        ),
    log:
        "results/logs/collect_tables/collect_tables.log",
    benchmark:
        "results/benchmarks/collect_tables/collect_tables.tsv"
    conda:
        "../../envs/analysis.yaml"
    shell:
        "{HIPDRIVE} collect-tables --sample-sheet {input.sheet:q} --reps-dir results/reps --curves-dir results/curves"
        " --reps-out {output.reps:q} --curves-out {output.curves:q} --excluded-out {output.excluded:q}"
        " > {log:q} 2>&1"
