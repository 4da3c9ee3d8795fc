"""Detection figures of the bundled MediaPipe model on rendered lifters; prints, asserts nothing.

For each phase (standing, descent, bottom, ascent) and lift: share of frames
with a detection, median / 95th-percentile keypoint error in pixels (near-side
shoulder, elbow, wrist, hip, knee, ankle) and trunk-angle error in degrees
against the simulator's truth. Targets (issue 3): detection >= 98 % and median
trunk-angle error <= 5 deg at every phase.

Run: ``python benchmarks/bench_detection.py [--videos 4] [--lift both] [--csv out.csv]``
(the same figures as ``hipdrive simulate check-detection``).
"""

from __future__ import annotations

import argparse
import time

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
    ap.add_argument("--csv", help="also write the per-frame table here")
    args = ap.parse_args()
    lifts = ("squat", "deadlift") if args.lift == "both" else (args.lift,)
    t0 = time.perf_counter()
    table = check_detection(n_videos=args.videos, lifts=lifts, seed=args.seed, n_reps=args.reps,
                            yaw_deg=args.yaw_deg, shake_px=args.shake_px,
                            static_image_mode=args.static_image_mode)  # fmt: skip
    print(format_detection_report(table))
    print(f"({time.perf_counter() - t0:.0f} s)")
    if args.csv:
        table.to_csv(args.csv, index=False)


if __name__ == "__main__":
    main()
