"""CLI of the pose stage: ``estimate-poses`` and ``import-keypoints``.

Argument parsing only; the work happens in :mod:`hipdrive.pose`, imported
inside each command so ``hipdrive --help`` never loads a pose library.
"""

from __future__ import annotations

import argparse
import sys

from hipdrive.commands import add_on_bad_video, parse_json_object, read_jobs

BACKEND_CHOICES = ("mediapipe", "mmpose", "synthetic")


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register the pose stage's sub-commands."""
    p = subparsers.add_parser(
        "estimate-poses",
        help="run a pose backend over a video and write its keypoint Parquet",
        description="Decode VIDEO (PyAV: container timestamps, rotation applied), run the pose "
        "backend on every frame, keep the lifter as track 0 and write the keypoint file "
        "atomically. Progress lines go to stderr.",
    )
    p.add_argument("video", help="the video file")
    p.add_argument(
        "--video-id", required=True, help="id recorded in the metadata (manifest video_id)"
    )
    p.add_argument(
        "--out", required=True, help="output Parquet path (results/keypoints/ID.parquet)"
    )
    p.add_argument(
        "--backend",
        choices=BACKEND_CHOICES,
        default="mediapipe",
        help="pose backend (default mediapipe)",
    )
    p.add_argument(
        "--options",
        default="{}",
        help="backend options as a JSON object, e.g. '{\"model_complexity\": 1}'; synthetic: "
        '\'{"truth_dir": ..., "noise_px": 2, "seed": 1}\'; mmpose: \'{"config": ..., '
        '"checkpoint": ..., "device": "cuda"}\'; all: prefetch, keep_others, decode_timeout_s',
    )
    add_on_bad_video(p)
    p.set_defaults(func=_estimate_poses)

    r = subparsers.add_parser(
        "estimate-poses-shard",
        help="run a pose backend over a shard of videos, loading the model once",
        description="The cluster form of estimate-poses: one job, many videos, one model load. "
        "Finished videos are kept in a content-addressed cache, so a re-run shard (a video was "
        "added, or the job was killed) runs the model only on new or changed videos.",
    )
    r.add_argument(
        "--jobs",
        required=True,
        help='JSON list of {"video": path, "video_id": id, "out": keypoint path}, or @FILE '
        "holding it",
    )
    r.add_argument("--backend", choices=BACKEND_CHOICES, default="mediapipe")
    r.add_argument("--options", default="{}", help="backend options (as for estimate-poses)")
    r.add_argument(
        "--cache-dir", required=True, help="the pose cache folder (results/cache/keypoints)"
    )
    add_on_bad_video(r)
    r.set_defaults(func=_estimate_poses_shard)

    q = subparsers.add_parser(
        "import-keypoints",
        help="convert keypoints made by another tool into the hipdrive keypoint Parquet",
        description="Re-analyse without re-running pose, one file (SRC) or a whole study "
        "(--manifest: every row with a keypoints column). Formats: OpenPose JSON folders "
        "(BODY_25/COCO-18), MMPose prediction JSON, a COCO-17 CSV (a frame column, "
        "<name>_x, <name>_y), DeepLabCut's CSV, and movement's netCDF (ds.to_netcdf: SLEAP, "
        "LightningPose, Anipose and DeepLabCut .h5 through movement).",
    )
    q.add_argument("src", nargs="?", help="the file or folder to import (one video)")
    q.add_argument(
        "--format", dest="fmt", metavar="FORMAT", help="source format: openpose, mmpose-json, "
        "coco17-csv, dlc-csv or movement-netcdf",
    )  # fmt: skip
    q.add_argument("--video-id", help="id recorded in the metadata")
    q.add_argument("--out", help="output Parquet path")
    q.add_argument("--video", help="the source video, to take timestamps, size and sha256 from")
    q.add_argument("--fps", type=float, help="frame rate for timestamps when no --video is given")
    q.add_argument(
        "--manifest", help="import every row of this manifest that names a keypoints file "
        "(its keypoints_format, and its video or fps)",
    )  # fmt: skip
    q.add_argument("--data-root", default=".", help="folder the manifest's paths are relative to")
    q.add_argument(
        "--out-dir", default="results/keypoints", help="with --manifest: where ID.parquet go"
    )
    add_on_bad_video(q)
    q.set_defaults(func=_import_keypoints)


def _estimate_poses(args: argparse.Namespace) -> int:
    from hipdrive.pose.driver import estimate_or_exclude

    meta = estimate_or_exclude(
        args.video, args.out, video_id=args.video_id, backend=args.backend,
        options=parse_json_object(args.options, flag="--options"), on_bad_video=args.on_bad_video,
    )  # fmt: skip
    if "excluded" in meta:
        print(f"estimate-poses {args.video_id}: EXCLUDED: {meta['excluded']['reason']} -> record "
              f"in {args.out}", file=sys.stderr)  # fmt: skip
    else:
        print(
            f"estimate-poses {args.video_id}: {meta['n_frames']} frames, "
            f"{meta.get('n_frames_lost', 0)} without the lifter, backend {meta['backend']} -> {args.out}",
            file=sys.stderr,
        )
    return 0


def _estimate_poses_shard(args: argparse.Namespace) -> int:
    from hipdrive.pose.shard import estimate_poses_shard

    jobs = read_jobs(args.jobs, ("video", "video_id", "out"))
    counts = estimate_poses_shard(
        jobs,
        backend=args.backend,
        options=parse_json_object(args.options, flag="--options"),
        cache_dir=args.cache_dir,
        on_bad_video=args.on_bad_video,
    )
    print(
        f"estimate-poses-shard: {len(jobs)} videos: {counts['estimated']} estimated, "
        f"{counts['cached']} from the cache, {counts['excluded']} excluded",
        file=sys.stderr,
    )
    return 0


def _import_keypoints(args: argparse.Namespace) -> int:
    from hipdrive.errors import InputError
    from hipdrive.pose.importers import import_or_exclude, import_study

    if args.manifest:
        if args.src or args.out or args.video:
            raise InputError("import-keypoints: give either --manifest or SRC, not both")
        done = import_study(args.manifest, args.out_dir, data_root=args.data_root,
                            on_bad_video=args.on_bad_video)  # fmt: skip
        for line in done["failed"]:
            print(f"error: {line}", file=sys.stderr)
        print(
            f"import-keypoints: {len(done['imported'])} imported, {len(done['excluded'])} "
            f"excluded, {len(done['failed'])} failed -> {args.out_dir}",
            file=sys.stderr,
        )
        return 2 if done["failed"] else 0
    missing = [flag for flag, value in (("SRC", args.src), ("--format", args.fmt),
               ("--video-id", args.video_id), ("--out", args.out)) if not value]  # fmt: skip
    if missing:
        raise InputError(f"import-keypoints: give {', '.join(missing)} (or --manifest for a study)")
    meta = import_or_exclude(
        args.src, args.out, on_bad_video=args.on_bad_video, fmt=args.fmt,
        video_id=args.video_id, video=args.video, fps=args.fps,
    )  # fmt: skip
    if "excluded" in meta:
        print(f"import-keypoints {args.video_id}: EXCLUDED: {meta['excluded']['reason']} -> "
              f"record in {args.out}", file=sys.stderr)  # fmt: skip
    else:
        print(f"import-keypoints {args.video_id}: {meta['n_frames']} frames from {args.fmt} -> "
              f"{args.out}", file=sys.stderr)  # fmt: skip
    return 0
