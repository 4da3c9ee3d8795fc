"""``hipdrive simulate``: synthetic lifters with exact ground truth.

Sub-commands: ``video`` (one manifest row), ``study`` (a whole simulated study),
``check-detection`` (render clips and score the bundled MediaPipe model against
the truth, per phase). Heavy imports happen inside the commands.
"""

from __future__ import annotations

import argparse


def _loads(text: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"--loads must be comma-separated numbers, got {text!r}"
        ) from exc


def _render_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("rendering")
    g.add_argument("--orientation", choices=("portrait", "landscape"), default="portrait")
    g.add_argument(
        "--width", type=int, help="frame width in pixels (default 540 portrait / 960 landscape)"
    )
    g.add_argument("--height", type=int, help="frame height in pixels")
    g.add_argument("--shake-px", type=float, default=0.0, help="RMS camera shake in pixels")
    g.add_argument("--noise-sd", type=float, default=None, help="pixel noise SD (0..255 scale)")
    g.add_argument("--motion-blur", action=argparse.BooleanOptionalAction, default=None)
    g.add_argument("--spotter", action=argparse.BooleanOptionalAction, default=None,
                   help="a second person walking behind the lifter")  # fmt: skip
    g.add_argument("--rotation", type=int, choices=(0, 90, 180, 270), default=0,
                   help="store frames rotated with phone rotation metadata (the truth stays upright)")  # fmt: skip
    g.add_argument(
        "--yaw-deg", type=float, default=0.0, help="camera turned towards the lifter's front"
    )


def _render_options(args: argparse.Namespace) -> dict:
    opts = {"orientation": args.orientation, "shake_px": args.shake_px, "yaw_deg": args.yaw_deg}
    if args.rotation:
        opts["rotation"] = args.rotation
    for key in ("width", "height", "noise_sd", "motion_blur", "spotter"):
        if getattr(args, key) is not None:
            opts[key] = getattr(args, key)
    return opts


def add_commands(subparsers) -> None:
    parser = subparsers.add_parser("simulate", help="synthetic lifters: videos + exact ground truth",
                                   description=__doc__)  # fmt: skip
    sub = parser.add_subparsers(dest="simulate_command", metavar="SUBCOMMAND", required=True)

    p = sub.add_parser(
        "video", help="simulate one manifest row (truth files and optionally the mp4)"
    )
    p.add_argument("--sample-sheet", required=True, help="manifest TSV (config/samples.tsv)")
    p.add_argument("--video-id", required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument(
        "--effect-slope", type=float, required=True, help="hip drive slope, deg per 10 %%1RM"
    )
    p.add_argument("--fps", type=float, default=30.0)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--video", help="output mp4 (omit for keypoints-only)")
    p.add_argument("--truth-dir", required=True)
    _render_args(p)
    p.set_defaults(func=_cmd_video)

    p = sub.add_parser("study", help="simulate a whole study into a folder")
    p.add_argument("--lifters", type=int, required=True, help="number of simulated lifters")
    p.add_argument(
        "--loads",
        type=_loads,
        default=[50.0, 60.0, 70.0, 80.0, 90.0, 100.0],
        help="%%1RM, comma-separated",
    )
    p.add_argument("--reps", type=int, default=3, help="reps per video (default 3)")
    p.add_argument("--seed", type=int, required=True, help="study seed (same seed, same study)")
    p.add_argument(
        "--effect-slope", type=float, required=True, help="hip drive slope, deg per 10 %%1RM"
    )
    p.add_argument(
        "--out", required=True, help="output folder (samples.tsv, videos/, truth/, study.json)"
    )
    p.add_argument("--no-video", action="store_true", help="truth files only (fast)")
    p.add_argument("--lift", choices=("squat", "deadlift", "both"), default="squat")
    p.add_argument("--fps", type=float, default=30.0)
    p.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    _render_args(p)
    p.set_defaults(func=_cmd_study)

    p = sub.add_parser("check-detection", help="render clips, run MediaPipe, print error per phase")
    p.add_argument("--videos", type=int, default=2, help="number of clips to render and score")
    p.add_argument("--lift", choices=("squat", "deadlift", "both"), default="squat")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--fps", type=float, default=30.0)
    p.add_argument("--reps", type=int, default=2)
    p.add_argument("--out", help="keep the rendered clips and truth here (default: a temp folder)")
    p.add_argument("--static-image-mode", action="store_true",
                   help="run MediaPipe's detector on every frame instead of tracking")  # fmt: skip
    _render_args(p)
    p.set_defaults(func=_cmd_check_detection)


def _cmd_video(args: argparse.Namespace) -> int:
    import numpy as np
    import pandas as pd

    from hipdrive.contracts.manifest import read_manifest
    from hipdrive.errors import InputError
    from hipdrive.simulate import simulate_video

    sheet = read_manifest(args.sample_sheet)
    rows = sheet[sheet["video_id"] == args.video_id]
    if rows.empty:
        raise InputError(f"{args.sample_sheet}: no row with video_id {args.video_id!r}")
    row = {k: np.nan if v is pd.NA else v for k, v in rows.iloc[0].to_dict().items()}
    simulate_video(row, seed=args.seed, effect_slope_deg_per_10pct=args.effect_slope,
                   fps=args.fps, n_reps=args.reps, video_path=args.video, truth_dir=args.truth_dir,
                   **_render_options(args))  # fmt: skip
    return 0


def _lifts(choice: str) -> tuple[str, ...]:
    return ("squat", "deadlift") if choice == "both" else (choice,)


def _cmd_study(args: argparse.Namespace) -> int:
    from hipdrive.simulate import simulate_study

    manifest = simulate_study(args.out, n_lifters=args.lifters, loads_pct=args.loads, n_reps=args.reps,
                              seed=args.seed, effect_slope_deg_per_10pct=args.effect_slope, lifts=_lifts(args.lift),
                              video=not args.no_video, fps=args.fps, progress=True, n_jobs=args.jobs,
                              **_render_options(args))  # fmt: skip
    print(f"{len(manifest)} videos -> {args.out}/samples.tsv")
    return 0


def _cmd_check_detection(args: argparse.Namespace) -> int:
    from hipdrive.simulate.detection import check_detection, format_detection_report

    table = check_detection(n_videos=args.videos, lifts=_lifts(args.lift), seed=args.seed, fps=args.fps,
                            n_reps=args.reps, out_dir=args.out, static_image_mode=args.static_image_mode, **_render_options(args))  # fmt: skip
    print(format_detection_report(table))
    return 0
