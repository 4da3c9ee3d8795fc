"""CLI of the quality-control media: ``qc-media``.

Argument parsing only; the drawing happens in :mod:`hipdrive.qc_media`
(matplotlib, OpenCV), imported inside the command so ``hipdrive --help`` stays
instant.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hipdrive.commands import parse_json_object
from hipdrive.errors import InputError


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register the QC-media sub-command."""
    p = subparsers.add_parser(
        "qc-media",
        help="one video -> a contact sheet of each rep's key frames and a time-series plot",
        description="Re-run the per-video analysis on the cached keypoints, then draw (1) a "
        "contact sheet with one row per rep (key frames with the skeleton, the trunk line and "
        "its angle) and (2) a plot of bar-proxy height, velocity and trunk angle with the reps "
        "and sticking events marked. Faces are blurred unless --no-blur-faces.",
    )
    p.add_argument("keypoints", help="keypoint Parquet (results/keypoints/ID.parquet)")
    p.add_argument(
        "--video", help="the video the keypoints came from; without it (imported keypoints) the "
        "contact sheet draws the skeletons on a blank background",
    )  # fmt: skip
    p.add_argument(
        "--reps", required=True, help="the video's per-rep table (results/reps/ID.parquet)"
    )
    p.add_argument("--sample-sheet", required=True, help="the manifest TSV")
    p.add_argument("--video-id", required=True, help="manifest video_id of this video")
    p.add_argument(
        "--params", default="{}", help="analysis parameters (JSON), as given to analyze-video"
    )
    p.add_argument("--sheet-out", required=True, help="output contact sheet (.png or .jpg)")
    p.add_argument("--plot-out", required=True, help="output time-series plot (.png)")
    p.add_argument(
        "--blur-faces",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="blur the head region on the contact sheet (default on)",
    )
    p.set_defaults(func=_qc_media)


def _qc_media(args: argparse.Namespace) -> int:
    import pandas as pd

    from hipdrive.analysis import AnalysisParams
    from hipdrive.contracts.exclusions import exclusion_of
    from hipdrive.contracts.files import read_provenance
    from hipdrive.contracts.keypoints import KeypointFileError
    from hipdrive.contracts.manifest import read_manifest, sample_row
    from hipdrive.qc_media import contact_sheet, excluded_notice, load_analysis, timeseries_plot

    params = AnalysisParams.from_mapping(parse_json_object(args.params, flag="--params"))
    sample = sample_row(read_manifest(args.sample_sheet), args.video_id)
    excluded = exclusion_of(read_provenance(args.reps)) if Path(args.reps).is_file() else None
    if excluded is not None:  # nothing to draw: say so where the sheet and plot would be
        for out in (args.sheet_out, args.plot_out):
            excluded_notice(args.video_id, excluded, out)
        print(
            f"qc-media {args.video_id}: excluded ({excluded['reason']}) -> notices", file=sys.stderr
        )
        return 0
    try:
        analysis, _ = load_analysis(args.keypoints, {**sample, "video_id": args.video_id}, params)
    except (KeypointFileError, FileNotFoundError) as exc:
        raise InputError(f"keypoints {args.keypoints}: {exc}") from exc
    try:
        reps = pd.read_parquet(args.reps)
    except (OSError, ValueError) as exc:
        raise InputError(f"per-rep table {args.reps}: {exc}") from exc
    if len(reps) != len(analysis.reps):  # the sheet draws the table's reps; say it differs
        print(
            f"qc-media {args.video_id}: warning: {args.reps} has {len(reps)} reps but the analysis "
            f"of {args.keypoints} now finds {len(analysis.reps)} (analysis code or --params changed "
            "since the table was made?); drawing the table's reps",
            file=sys.stderr,
        )
    contact_sheet(args.video or None, analysis, reps, args.sheet_out, blur=args.blur_faces)
    timeseries_plot(analysis, reps, args.plot_out)
    print(
        f"qc-media {args.video_id}: {len(reps)} rep(s) -> {args.sheet_out}, {args.plot_out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":  # usable before the sub-command is registered in hipdrive.cli
    parser = argparse.ArgumentParser(prog="python -m hipdrive.commands.qc")
    add_commands(parser.add_subparsers(dest="command", required=True))
    ns = parser.parse_args()
    sys.exit(int(ns.func(ns) or 0))
