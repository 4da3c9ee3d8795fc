"""CLI of the rep-analysis stage: ``analyze-video`` and ``collect-tables``.

Argument parsing only; the work happens in :mod:`hipdrive.analysis.analyze` and
:mod:`hipdrive.tables`, imported inside each command so ``hipdrive --help``
stays instant.
"""

from __future__ import annotations

import argparse
import sys

from hipdrive.commands import add_on_bad_video, parse_json_object, read_jobs
from hipdrive.errors import InputError


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register the analysis stage's sub-commands."""
    p = subparsers.add_parser(
        "analyze-video",
        help="keypoints of one video -> per-rep metrics and time-normalised curves",
        description="Clean the keypoints (score gating, gap filling, Butterworth low-pass, "
        "side choice), compute sagittal kinematics, segment repetitions and write the per-rep "
        "table and the curves of one video. A video without reps writes empty tables.",
    )
    p.add_argument("keypoints", help="keypoint Parquet (results/keypoints/ID.parquet)")
    p.add_argument("--sample-sheet", required=True, help="the manifest TSV (config/samples.tsv)")
    p.add_argument("--video-id", required=True, help="manifest video_id of this video")
    p.add_argument(
        "--params",
        default="{}",
        help="analysis parameters as a JSON object overriding hipdrive.analysis.AnalysisParams, "
        "e.g. '{\"cutoff_hz\": 6}'",
    )
    p.add_argument(
        "--reps-out", required=True, help="output per-rep Parquet (results/reps/ID.parquet)"
    )
    p.add_argument(
        "--curves-out", required=True, help="output curves Parquet (results/curves/ID.parquet)"
    )
    add_on_bad_video(p)
    p.set_defaults(func=_analyze_video)

    r = subparsers.add_parser(
        "analyze-shard",
        help="analyze-video over a shard of videos in one process",
        description="The cluster form of analyze-video: one job for many videos (no interpreter "
        "start-up per video).",
    )
    r.add_argument(
        "--jobs",
        required=True,
        help='JSON list of {"video_id", "keypoints", "reps_out", "curves_out"}, or @FILE holding it',
    )
    r.add_argument("--sample-sheet", required=True, help="the manifest TSV")
    r.add_argument("--params", default="{}", help="analysis parameters (as for analyze-video)")
    add_on_bad_video(r)
    r.set_defaults(func=_analyze_shard)

    q = subparsers.add_parser(
        "collect-tables",
        help="all per-video rep and curve tables -> one reps and one curves table with %%1RM",
        description="Join every per-video reps/curves file to the manifest, compute pct_1rm "
        "(estimating a missing 1RM from the lifter's load-velocity profile) and write the two "
        "aggregate tables atomically. Reads only the small per-video tables.",
    )
    q.add_argument("--sample-sheet", required=True, help="the manifest TSV")
    q.add_argument("--reps-dir", required=True, help="folder of per-video rep tables")
    q.add_argument("--curves-dir", required=True, help="folder of per-video curve tables")
    q.add_argument("--reps-out", required=True, help="output table (results/tables/reps.parquet)")
    q.add_argument(
        "--curves-out", required=True, help="output table (results/tables/curves.parquet)"
    )
    q.add_argument(
        "--excluded-out",
        help="QC table of excluded videos and reps with the reason (results/qc/excluded.tsv); "
        "an HTML copy for the report is written beside it",
    )
    q.set_defaults(func=_collect_tables)


def _analyze_video(args: argparse.Namespace) -> int:
    from hipdrive.analysis import AnalysisParams
    from hipdrive.contracts.manifest import read_manifest

    params = AnalysisParams.from_mapping(parse_json_object(args.params, flag="--params"))
    sheet = read_manifest(args.sample_sheet)
    _analyze_one(
        args.keypoints, args.video_id, sheet, params, args.on_bad_video,
        reps_out=args.reps_out, curves_out=args.curves_out,
    )  # fmt: skip
    return 0


def _analyze_shard(args: argparse.Namespace) -> int:
    from hipdrive.analysis import AnalysisParams
    from hipdrive.contracts.manifest import read_manifest

    params = AnalysisParams.from_mapping(parse_json_object(args.params, flag="--params"))
    sheet = read_manifest(args.sample_sheet)
    jobs = read_jobs(args.jobs, ("video_id", "keypoints", "reps_out", "curves_out"))
    for job in jobs:
        _analyze_one(
            job["keypoints"], job["video_id"], sheet, params, args.on_bad_video,
            reps_out=job["reps_out"], curves_out=job["curves_out"],
        )  # fmt: skip
    print(f"analyze-shard: {len(jobs)} videos analysed", file=sys.stderr)
    return 0


def _analyze_one(
    keypoints: str,
    video_id: str,
    sheet,
    params,
    on_bad_video: str,
    *,
    reps_out: str,
    curves_out: str,
) -> None:
    """One video: keypoints -> reps + curves, or the tables that carry its exclusion record."""
    from hipdrive.analysis import analyze_video
    from hipdrive.contracts.exclusions import exclusion_of, record
    from hipdrive.contracts.keypoints import KeypointFileError, read_keypoints
    from hipdrive.contracts.manifest import sample_row
    from hipdrive.errors import UnusableVideoError

    sample = sample_row(sheet, video_id)
    try:
        table, metadata = read_keypoints(keypoints)
    except (KeypointFileError, FileNotFoundError) as exc:
        raise InputError(f"keypoints {keypoints}: {exc}") from exc
    if metadata.get("video_id") not in (None, video_id):
        raise InputError(
            f"keypoints {keypoints} belong to video {metadata.get('video_id')!r}, not {video_id!r}"
        )
    metadata = {**metadata, "video_id": video_id}
    excluded = exclusion_of(metadata)
    if excluded is None:
        try:
            reps, curves = analyze_video(table, metadata, sample, params)
        except UnusableVideoError as exc:
            if on_bad_video != "exclude":
                raise
            excluded = record("analysis", str(exc))
    elif on_bad_video != "exclude":
        raise UnusableVideoError(
            f"keypoints {keypoints}: video {video_id} was excluded at the "
            f"{excluded['stage']} stage: {excluded['reason']}"
        )
    if excluded is not None:
        _write_excluded_tables(video_id, metadata, excluded, reps_out, curves_out)
        return
    _write_tables(reps, curves, reps_out, curves_out)
    info = reps.attrs.get("hipdrive", {})
    if reps.empty:
        print(
            f"analyze-video {video_id}: no repetitions found (bar-proxy travel never exceeded "
            f"{params.min_rep_displacement_bh} body heights); wrote empty tables",
            file=sys.stderr,
        )
    else:
        print(
            f"analyze-video {video_id}: {len(reps)} reps ({int(reps['failed'].sum())} failed, "
            f"{int((~reps['quality_ok']).sum())} flagged), facing {info.get('facing')}, side "
            f"{info.get('side_used')}, cut-off {info.get('cutoff_hz', float('nan')):.1f} Hz "
            f"-> {reps_out}",
            file=sys.stderr,
        )
        if info.get("camera_side_note"):
            print(f"warning: {video_id}: {info['camera_side_note']}", file=sys.stderr)


def _write_tables(reps, curves, reps_out: str, curves_out: str) -> None:
    from hipdrive.contracts.curves import write_curves
    from hipdrive.contracts.reps import write_reps

    write_reps(reps, reps_out)
    write_curves(curves, curves_out, reps.attrs.get("hipdrive"))


def _write_excluded_tables(
    video_id: str, metadata: dict, excluded: dict, reps_out: str, curves_out: str
) -> None:
    """Zero-row reps and curves carrying the exclusion record (:mod:`~hipdrive.contracts.exclusions`)."""
    from hipdrive.contracts.curves import CURVE_SCHEMA
    from hipdrive.contracts.reps import REP_SCHEMA

    reps = REP_SCHEMA.empty_table().to_pandas()
    reps.attrs["hipdrive"] = {
        "video_id": video_id,
        "backend": metadata.get("backend"),
        "video_sha256": metadata.get("video_sha256"),
        "excluded": excluded,
    }
    _write_tables(reps, CURVE_SCHEMA.empty_table().to_pandas(), reps_out, curves_out)
    print(
        f"analyze-video {video_id}: EXCLUDED at the {excluded['stage']} stage: "
        f"{excluded['reason']}; wrote empty tables with the record",
        file=sys.stderr,
    )


def _collect_tables(args: argparse.Namespace) -> int:
    import pyarrow.parquet as pq

    from hipdrive.contracts.manifest import read_manifest
    from hipdrive.tables import collect_tables

    sheet = read_manifest(args.sample_sheet)
    collect_tables(
        sheet,
        reps_dir=args.reps_dir,
        curves_dir=args.curves_dir,
        reps_out=args.reps_out,
        curves_out=args.curves_out,
        excluded_out=args.excluded_out,
    )
    reps = pq.read_table(args.reps_out, columns=["one_rm_estimated", "pct_1rm"])
    n_est = int(sum(reps.column("one_rm_estimated").to_pylist()))
    n_nan = reps.column("pct_1rm").null_count + int(
        sum(1 for v in reps.column("pct_1rm").to_pylist() if v != v)
    )
    print(
        f"collect-tables: {len(sheet)} videos, {reps.num_rows} reps ({n_est} with an estimated 1RM, "
        f"{n_nan} without %1RM) -> {args.reps_out}; "
        f"{pq.read_metadata(args.curves_out).num_rows} curve rows -> {args.curves_out}",
        file=sys.stderr,
    )
    if args.excluded_out:
        from hipdrive.contracts.exclusions import (
            CAMERA_SIDE_STAGE,
            LOST_STAGE,
            NOT_A_REP_STAGE,
            NOTE_STAGES,
            TRUNCATED_STAGE,
            VIDEO_STAGES,
            read_excluded,
        )

        excluded = read_excluded(args.excluded_out)
        whole = excluded[excluded["stage"].isin(VIDEO_STAGES)]
        n_reps = int(excluded["rep"].notna().sum())
        short = excluded[excluded["stage"].isin(NOTE_STAGES)]
        print(
            f"collect-tables: {len(whole)} video(s) excluded, "
            f"{int((excluded['stage'] == TRUNCATED_STAGE).sum())} truncated, "
            f"{int((excluded['stage'] == CAMERA_SIDE_STAGE).sum())} with camera_side corrected, "
            f"{int((excluded['stage'] == NOT_A_REP_STAGE).sum())} walk(s) not counted as reps, "
            f"{n_reps} rep(s) kept out of the models, {int((excluded['stage'] == LOST_STAGE).sum())} "
            f"stretch(es) with the lifter lost outside every rep -> {args.excluded_out}",
            file=sys.stderr,
        )
        import pandas as pd

        for row in pd.concat([whole, short]).head(20).itertuples():
            print(f"  excluded {row.video_id} ({row.stage}): {row.reason}", file=sys.stderr)
        if len(whole) > 20:
            print(f"  ... and {len(whole) - 20} more in {args.excluded_out}", file=sys.stderr)
    return 0
