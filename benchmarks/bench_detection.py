"""Detection figures of the bundled MediaPipe model on rendered lifters; prints, asserts nothing.

For each phase (standing, descent, bottom, ascent) and lift: share of frames
with a detection, median / 95th-percentile keypoint error in pixels (near-side
shoulder, elbow, wrist, hip, knee, ankle) and trunk-angle error in degrees
against the simulator's truth. Targets: detection >= 98 % and median
trunk-angle error <= 5 deg at every phase.

Run: ``python benchmarks/bench_detection.py [--videos 4] [--lift both] [--csv out.csv]``
(the same figures as ``hipdrive simulate check-detection``).

``--demo [config/config.yaml]`` renders instead every video of that config's
sample sheet with its ``simulate`` settings (seed, fps, reps, effect slope) and
runs MediaPipe with that config's squat settings (``pose.mediapipe.by_lift``), as
the workflow's ``simulate_video`` rule does, and adds per-video detection
rates: the demo study is what a user runs first, so its lifters must be seen.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from hipdrive.simulate.detection import check_detection, format_detection_report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--videos", type=int, default=4)
    ap.add_argument("--lift", choices=("squat", "deadlift", "both"), default="both")
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--yaw-deg", type=float, default=0.0)
    ap.add_argument("--shake-px", type=float, default=0.0)
    ap.add_argument(
        "--static-image-mode", action="store_true", help="MediaPipe detector on every frame"
    )
    ap.add_argument("--min-tracking-confidence", type=float, default=0.5,
                    help="MediaPipe's threshold for keeping a track (below it the detector runs again)")  # fmt: skip
    ap.add_argument("--recheck-every", type=int, default=0,
                    help="restart a track the detector contradicts, checked every N frames (0 = never)")  # fmt: skip
    ap.add_argument("--csv", help="also write the per-frame table here")
    ap.add_argument("--demo", nargs="?", const="config/config.yaml", metavar="CONFIG",
                    help="render the demo study's videos (config's samples and simulate settings)")  # fmt: skip
    args = ap.parse_args()
    lifts = ("squat", "deadlift") if args.lift == "both" else (args.lift,)
    opts = dict(seed=args.seed, n_reps=args.reps, yaw_deg=args.yaw_deg, shake_px=args.shake_px,
                static_image_mode=args.static_image_mode,
                min_tracking_confidence=args.min_tracking_confidence,
                recheck_every=args.recheck_every)  # fmt: skip
    if args.demo:
        opts.update(_demo_settings(args.demo))
    t0 = time.perf_counter()
    table = check_detection(n_videos=args.videos, lifts=lifts, **opts)
    print(format_detection_report(table, per_video=bool(args.demo)))
    print(f"({time.perf_counter() - t0:.0f} s)")
    if args.csv:
        table.to_csv(args.csv, index=False)


def _demo_settings(config_path: str) -> dict:
    """Sample sheet and simulate settings of a workflow config (paths relative to the cwd)."""
    import pandas as pd
    import yaml

    cfg = yaml.safe_load(Path(config_path).read_text())
    sim = cfg["simulate"]
    samples = pd.read_csv(cfg["samples"], sep="\t", dtype={"video_id": str, "lifter_id": str})
    pose = dict(cfg.get("pose", {}).get("mediapipe", {}))
    pose.update(pose.pop("by_lift", {}).get("squat", {}))  # the demo study is squats
    tracking = {k: pose[k] for k in ("min_tracking_confidence", "recheck_every") if k in pose}
    return dict(samples=samples, seed=int(sim["seed"]), fps=float(sim["fps"]), n_reps=int(sim["n_reps"]),
                effect_slope_deg_per_10pct=float(sim["effect_slope_deg_per_10pct"]), **tracking)  # fmt: skip


if __name__ == "__main__":
    main()
