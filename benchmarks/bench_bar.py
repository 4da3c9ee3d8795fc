"""Cost of the bar tracker (:mod:`hipdrive.pose.bar_tracker`) on real clips.

Re-runs the pose stage's bar step (:func:`hipdrive.pose.driver._track_bar`: a
second decode of the clip, the plate search and the template tracking) on the
lifter keypoints of a finished real-test run and PRINTS, per clip, the seconds
it took, the frames, and what was tracked; then the totals (frames/s). Asserts
nothing.

Run::

    python benchmarks/bench_bar.py /tmp/real [--real-dir ../shared/real]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from hipdrive.contracts.keypoints import KEYPOINT_NAMES, long_to_frames, read_keypoints
from hipdrive.pose.driver import _track_bar

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workdir", type=Path, help="working directory of a finished real-test run")
    parser.add_argument("--real-dir", type=Path, default=REPO.parent / "shared" / "real")
    args = parser.parse_args(argv)
    total_s, total_frames = 0.0, 0
    for path in sorted((args.workdir / "results" / "keypoints").glob("*.parquet")):
        table, meta = read_keypoints(path)
        if "excluded" in meta:
            continue
        _, time_s, xy, score = long_to_frames(table, KEYPOINT_NAMES)
        video = args.real_dir / "videos" / f"{path.stem}.mp4"
        t0 = time.perf_counter()
        _, summary = _track_bar(video, (xy, score), KEYPOINT_NAMES, time_s, timeout_s=120)
        took = time.perf_counter() - t0
        total_s, total_frames = total_s + took, total_frames + len(time_s)
        print(f"{path.stem}: {took:.1f} s, {len(time_s)} frames ({meta['width']}x{meta['height']}), "
              f"{summary['point']}, tracked {summary['n_frames_tracked']}")  # fmt: skip
    rate = total_frames / total_s if total_s else np.nan
    print(f"bar tracker: {total_s:.1f} s for {total_frames} frames ({rate:.1f} frames/s)")


if __name__ == "__main__":
    main()
