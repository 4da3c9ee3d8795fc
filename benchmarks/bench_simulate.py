"""Benchmark the synthetic lifter; prints figures, asserts nothing.

1. Keypoints-only generation time of a 1,000-rep study (target: < 30 s on 2 cores).
2. Rendering speed (frames/s, H.264 included) of one portrait clip.
3. Re-derivation of the load-velocity constants in
   ``hipdrive.simulate.motion.LOAD_VELOCITY`` from the 52-person back-squat
   table, when that file is present (``../shared/real/bar/...``).

Run: ``python benchmarks/bench_simulate.py [--reps 1000] [--jobs 1] [--lv-table PATH]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from hipdrive.simulate import LOAD_VELOCITY, simulate_study, simulate_video

LV_TABLE = (
    Path(__file__).resolve().parents[1]
    / ".."
    / "shared"
    / "real"
    / "bar"
    / "squat_loadvelocity_silvhua_data_freeweight.csv"
)


def bench_keypoints_only(total_reps: int, n_jobs: int) -> None:
    loads = [50, 60, 70, 80, 90, 100]
    n_reps = 3
    n_lifters = int(np.ceil(total_reps / (len(loads) * n_reps)))
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        manifest = simulate_study(tmp, n_lifters=n_lifters, loads_pct=loads, n_reps=n_reps, seed=1,
                                  effect_slope_deg_per_10pct=1.5, video=False, n_jobs=n_jobs)  # fmt: skip
        dt = time.perf_counter() - t0
    reps = len(manifest) * n_reps
    print(f"keypoints-only study: {reps} reps in {len(manifest)} videos, {dt:.1f} s "
          f"({reps / dt:.0f} reps/s, n_jobs={n_jobs}; target < 30 s for 1,000 reps)")  # fmt: skip


def bench_render() -> None:
    sample = {"video_id": "B1", "lifter_id": "L01", "lift": "squat", "variant": "high_bar", "load_kg": 100.0,
              "one_rm_kg": 125.0, "height_m": 1.78, "camera_side": "right"}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        simulate_video(sample, seed=1, effect_slope_deg_per_10pct=1.5, n_reps=2, video_path=Path(tmp) / "b.mp4",
                       truth_dir=tmp)  # fmt: skip
        dt = time.perf_counter() - t0
        n = len(
            pd.read_parquet(Path(tmp) / "B1.keypoints.parquet", columns=["frame"])["frame"].unique()
        )
    print(f"render + encode 540x960 @30 fps: {n} frames in {dt:.1f} s ({n / dt:.1f} frames/s)")


def derive_load_velocity(path: Path) -> None:
    """Per-person OLS lines of mean velocity on %1RM; their mean, SD and correlation."""
    if not path.is_file():
        print(f"load-velocity table not found ({path}); constants stay as documented")
        return
    d = pd.read_csv(path)
    pct = np.array([20, 40, 60, 80, 90, 100], float)
    v = d[["20% MV", "40%MV", "60%MV", "80%MV", "90%MV", "100%MV"]].to_numpy(float)
    v = v[np.isfinite(v).all(axis=1)]
    coef = np.array([np.polyfit(pct, row, 1) for row in v])  # (slope, intercept)
    resid = v - (coef[:, [0]] * pct + coef[:, [1]])
    derived = {
        "intercept_m_s": coef[:, 1].mean(), "intercept_sd_m_s": coef[:, 1].std(ddof=1),
        "slope_m_s_per_pct": coef[:, 0].mean(), "slope_sd_m_s_per_pct": coef[:, 0].std(ddof=1),
        "intercept_slope_corr": np.corrcoef(coef[:, 1], coef[:, 0])[0, 1],
        "residual_sd_m_s": np.sqrt(np.sum(resid**2) / (resid.size - 2 * len(v))),
    }  # fmt: skip
    print(f"load-velocity profile from {len(v)} people ({path.name}):")
    for k, val in derived.items():
        print(f"  {k:24s} derived {val: .6f}   constant {LOAD_VELOCITY[k]: .6f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--lv-table", type=Path, default=LV_TABLE)
    ap.add_argument("--no-render", action="store_true")
    args = ap.parse_args()
    derive_load_velocity(args.lv_table)
    bench_keypoints_only(args.reps, args.jobs)
    if not args.no_render:
        bench_render()


if __name__ == "__main__":
    main()
