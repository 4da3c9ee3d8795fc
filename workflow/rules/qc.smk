# Quality-control media per video: a contact sheet of each rep's key frames and a
# time-series plot (hipdrive.qc_media). Include after analyze.smk; config key `qc`:
# media auto|on|off (auto = on for runs under 50 videos), blur_faces true|false.


def qc_media_targets():
    """QC files of every video when QC media are on for this run (else none)."""
    from hipdrive.qc_media import qc_media_enabled

    qc = config.get("qc", {})
    if not qc_media_enabled(qc.get("media", "auto"), len(VIDEO_IDS)):
        return []
    return expand("results/qc/{video_id}.{kind}.png", video_id=VIDEO_IDS, kind=("sheet", "plot"))


rule plot_qc_media:
    input:
        keypoints="results/keypoints/{video_id}.parquet",
        reps="results/reps/{video_id}.parquet",
        video=get_video,
    output:
        sheet="results/qc/{video_id}.sheet.png",
        plot="results/qc/{video_id}.plot.png",
    params:
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
        "hipdrive qc-media {input.keypoints:q} --video {input.video:q} --reps {input.reps:q}"
        " --sample-sheet {params.sheet:q} --video-id {wildcards.video_id:q} --params {params.analysis:q}"
        " {params.blur} --sheet-out {output.sheet:q} --plot-out {output.plot:q} > {log:q} 2>&1"


rule qc_media:
    input:
        qc_media_targets(),
