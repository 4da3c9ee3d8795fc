# Quality-control media per video: a contact sheet of each rep's key frames and a
# time-series plot (hipdrive.qc_media). Include after analyze.smk; config key `qc`:
# media auto|on|off (auto = on for runs under 50 videos), blur_faces true|false.


rule plot_qc_media:
    input:
        keypoints="results/keypoints/{video_id}.parquet",
        reps="results/reps/{video_id}.parquet",
        video=get_video,
    output:
        sheet=report("results/qc/{video_id}.sheet.png", caption="../report/qc_media.rst",
                     category="3. Quality control", subcategory="Per video",
                     labels={"video": "{video_id}", "view": "key frames per rep"}),
        plot=report("results/qc/{video_id}.plot.png", caption="../report/qc_media.rst",
                    category="3. Quality control", subcategory="Per video",
                    labels={"video": "{video_id}", "view": "bar height, velocity, trunk angle"}),
    params:
        video=get_video_option,  # none for imported keypoints without a video: skeletons only
        sheet=config["samples"],
        analysis=as_json(config["analysis"]),
        blur="--blur-faces" if config.get("qc", {}).get("blur_faces", True) else "--no-blur-faces",
    log:
        "results/logs/plot_qc_media/{video_id}.log",
    benchmark:
        "results/benchmarks/plot_qc_media/{video_id}.tsv"
    conda:
        "../../envs/analysis.yaml"
    shell:
        "{HIPDRIVE} qc-media {input.keypoints:q} {params.video} --reps {input.reps:q}"
        " --sample-sheet {params.sheet:q} --video-id {wildcards.video_id:q} --params {params.analysis:q}"
        " {params.blur} --sheet-out {output.sheet:q} --plot-out {output.plot:q} > {log:q} 2>&1"


rule qc_media:
    input:
        qc_media_targets(),
