# Pose estimation: one video -> one keypoint Parquet (the expensive stage).


rule estimate_poses:
    input:
        unpack(get_pose_inputs),
    output:
        "results/keypoints/{video_id}.parquet",
    params:
        backend=config["pose"]["backend"],
        options=get_pose_options,
        on_bad_video=config["on_bad_video"],
    log:
        "results/logs/estimate_poses/{video_id}.log",
    benchmark:
        "results/benchmarks/estimate_poses/{video_id}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        gpu=1 if config["pose"]["backend"] == "mmpose" else 0,  # SLURM plugin -> --gpus=1
    conda:
        "../../envs/pose-gpu.yaml" if config["pose"]["backend"] == "mmpose" else "../../envs/pose-cpu.yaml"
    shell:
        "hipdrive estimate-poses {input.video:q} --video-id {wildcards.video_id:q} --out {output:q}"
        " --backend {params.backend} --options {params.options:q} --on-bad-video {params.on_bad_video}"
        " > {log:q} 2>&1"
