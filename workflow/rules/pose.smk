# Pose estimation: one video -> one keypoint Parquet (the expensive stage).
# shard_size > 1 (clusters): one job per shard of videos instead, so a GPU job loads its
# model once (hipdrive.pose.shard: stable hash membership + a content-addressed cache).
# Rows that name another tool's keypoints (manifest column `keypoints`) are imported instead.


if KEYPOINT_IDS:

    rule import_keypoints:
        input:
            unpack(get_import_source),
            video=get_video,
        output:
            "results/keypoints/{video_id}.parquet",
        wildcard_constraints:
            video_id="|".join(re.escape(v) for v in sorted(KEYPOINT_IDS)),
        params:
            source=get_import_options,
            on_bad_video=config["on_bad_video"],
        log:
            "results/logs/import_keypoints/{video_id}.log",
        conda:
            "../../envs/analysis.yaml"
        shell:
            "{HIPDRIVE} import-keypoints {params.source} --video-id {wildcards.video_id:q} --out {output:q}"
            " --on-bad-video {params.on_bad_video} > {log:q} 2>&1"


if SHARDS:
    for _shard, _ids in SHARDS.items():
        _ids = [v for v in _ids if v not in KEYPOINT_IDS]  # the pose shard: its videos only
        if not _ids:
            continue

        rule:
            name:
                f"estimate_poses_{_shard}"
            input:
                videos=[path for v in _ids if (path := get_pose_inputs_of(v)["video"])],
                truth=[get_pose_inputs_of(v).get("truth", []) for v in _ids],
            output:
                expand("results/keypoints/{video_id}.parquet", video_id=_ids),
            params:
                jobs=pose_shard_jobs(_ids),
                backend=config["pose"]["backend"],
                options=pose_options_for(SHARD_LIFTS[_shard]),
                on_bad_video=config["on_bad_video"],
            log:
                f"results/logs/estimate_poses/{_shard}.log",
            benchmark:
                f"results/benchmarks/estimate_poses/{_shard}.tsv"
            threads: 1
            resources:
                **SHARD_RESOURCES,
                gpu=1 if config["pose"]["backend"] == "mmpose" else 0,
            conda:
                "../../envs/pose-gpu.yaml" if config["pose"]["backend"] == "mmpose" else "../../envs/pose-cpu.yaml"
            shell:
                "{POSE_HIPDRIVE} estimate-poses-shard --jobs {params.jobs:q} --backend {params.backend}"
                " --options {params.options:q} --cache-dir results/cache/keypoints"
                " --on-bad-video {params.on_bad_video} > {log:q} 2>&1"


else:  # one job per video (the default; the rule names the docs and tests use)

    if KEYPOINT_IDS:

        ruleorder: import_keypoints > estimate_poses

    rule estimate_poses:
        input:
            unpack(get_pose_inputs),
        output:
            "results/keypoints/{video_id}.parquet",
        params:
            video=get_video_path,
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
            "{POSE_HIPDRIVE} estimate-poses {params.video:q} --video-id {wildcards.video_id:q} --out {output:q}"
            " --backend {params.backend} --options {params.options:q} --on-bad-video {params.on_bad_video}"
            " > {log:q} 2>&1"
