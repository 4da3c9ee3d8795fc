"""Scaling of the analysis side: wall time and peak memory for 100, 1,000 and 10,000 videos.

Target: the cost of everything after pose must grow linearly with the number
of videos and memory must stay bounded. Keypoints-only simulated videos: a pool
of ``--pool`` simulated squat sets (true keypoints + 2 px noise, the synthetic
backend's :func:`degrade_keypoints`) is written under new ids until the study
has N videos (10 loads per lifter), then each step runs as the workflow runs it,
one process per step, timed with its own peak RSS (``os.wait4``):

analyze-shard
    every video's keypoints -> reps + curves in one process (the cluster's
    shard job, here one shard of N videos; per-video throughput is the same).
collect-tables
    the per-video tables -> the two aggregate tables (pyarrow datasets).
fit-models
    mixed models + always-shares + SPM on the aggregate tables
    (``--n-bootstrap``, default 200).

Prints one line per (N, step): seconds, seconds per 1,000 videos, peak RSS.
Linear growth shows as a flat "s per 1k videos" column; ``--figure`` also draws
wall time and peak memory against N on log-log axes. Run::

    python benchmarks/bench_scaling.py --sizes 100 1000 10000 --figure scaling.png
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

COLUMNS = ["video_id", "path", "lifter_id", "lift", "variant", "load_kg", "one_rm_kg",
           "height_m", "camera_side"]  # fmt: skip
BIN = Path(sys.executable).parent


def make_pool(folder: Path, n_pool: int) -> list[tuple[dict, pd.DataFrame, dict]]:
    """Simulated sets: (manifest row, noisy keypoint table, metadata), loads 55..100 %1RM."""
    from hipdrive.contracts.keypoints import read_keypoints
    from hipdrive.pose.synthetic import degrade_keypoints
    from hipdrive.simulate import simulate_video

    pool = []
    for j in range(n_pool):
        pct = 55 + 5 * (j % 10)
        row = dict(zip(COLUMNS, [f"p{j}", f"p{j}.mp4", f"P{j // 10}", "squat", "high_bar",
                                 1.25 * pct, 125.0, 1.75, "left"], strict=True))  # fmt: skip
        simulate_video(row, seed=7, effect_slope_deg_per_10pct=1.5, n_reps=3, video_path=None,
                       truth_dir=folder)  # fmt: skip
        table, meta = read_keypoints(folder / f"p{j}.keypoints.parquet")
        pool.append((row, degrade_keypoints(table, noise_px=2.0, seed=j), meta))
    return pool


def write_study(work: Path, n_videos: int, pool) -> list[dict]:
    from hipdrive.contracts.keypoints import write_keypoints

    rows, jobs = [], []
    for i in range(n_videos):
        row, table, meta = pool[i % len(pool)]
        vid = f"L{i // 10:05d}_{i % 10}"
        rows.append(
            {**row, "video_id": vid, "path": f"videos/{vid}.mp4", "lifter_id": f"L{i // 10:05d}"}
        )
        write_keypoints(
            table,
            work / f"keypoints/{vid}.parquet",
            {**meta, "video_id": vid, "backend": "synthetic"},
        )
        jobs.append({"video_id": vid, "keypoints": str(work / f"keypoints/{vid}.parquet"),
                     "reps_out": str(work / f"reps/{vid}.parquet"),
                     "curves_out": str(work / f"curves/{vid}.parquet")})  # fmt: skip
    pd.DataFrame(rows, columns=COLUMNS).to_csv(work / "samples.tsv", sep="\t", index=False)
    return jobs


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one child process."""
    with tempfile.TemporaryFile("w+") as log:  # a file, not a pipe: a full pipe would block the child
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            log.seek(0)
            raise SystemExit(f"{' '.join(cmd[:3])} failed:\n{log.read()[-3000:]}")
    return seconds, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--pool", type=int, default=20, help="distinct simulated sets")
    parser.add_argument("--n-bootstrap", type=int, default=200)
    parser.add_argument("--figure", type=Path, help="write the scaling figure (PNG) here")
    args = parser.parse_args()
    results = []
    hipdrive = str(BIN / "hipdrive")
    with tempfile.TemporaryDirectory() as tmp:
        pool = make_pool(Path(tmp) / "pool", args.pool)
        print(
            f"{'videos':>7} {'step':<15} {'seconds':>8} {'s/1k videos':>12} {'peak_rss_mb':>12}",
            flush=True,
        )
        for n in args.sizes:
            work = Path(tmp) / f"n{n}"
            jobs = write_study(work, n, pool)
            (work / "jobs.json").write_text(json.dumps(jobs))
            sheet = str(work / "samples.tsv")
            steps = {
                "analyze-shard": [hipdrive, "analyze-shard", "--jobs", f"@{work / 'jobs.json'}", "--sample-sheet", sheet],
                "collect-tables": [hipdrive, "collect-tables", "--sample-sheet", sheet, "--reps-dir",
                                   str(work / "reps"), "--curves-dir", str(work / "curves"),
                                   "--reps-out", str(work / "t/reps.parquet"),
                                   "--curves-out", str(work / "t/curves.parquet"),
                                   "--excluded-out", str(work / "t/excluded.tsv")],
                "fit-models": [hipdrive, "fit-models", "--reps", str(work / "t/reps.parquet"),
                               "--curves", str(work / "t/curves.parquet"), "--out-dir", str(work / "stats"),
                               "--params", json.dumps({"n_bootstrap": args.n_bootstrap, "workers": 2})],
            }  # fmt: skip
            for name, cmd in steps.items():
                seconds, peak = timed(cmd)
                results.append({"videos": n, "step": name, "seconds": seconds, "peak_mb": peak})
                print(
                    f"{n:>7} {name:<15} {seconds:>8.1f} {1000 * seconds / n:>12.1f} {peak:>12.0f}",
                    flush=True,
                )
    if args.figure:
        plot(pd.DataFrame(results), args.figure)


def plot(results: pd.DataFrame, out: Path) -> None:
    """Wall time and peak RSS per step against the number of videos (log-log, with a slope-1 guide)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(9, 3.6))
    for step, rows in results.groupby("step", sort=False):
        ax_t.plot(rows["videos"], rows["seconds"], "o-", label=step)
        ax_m.plot(rows["videos"], rows["peak_mb"], "o-", label=step)
    n = results["videos"].drop_duplicates().sort_values().to_numpy(float)
    first = results[results["videos"] == n[0]]["seconds"].max()
    ax_t.plot(n, first * n / n[0], "k:", lw=1, label="linear")
    for ax, label in ((ax_t, "wall time (s)"), (ax_m, "peak RSS (MB)")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("videos")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3, which="both")
    ax_t.legend(fontsize=8)
    fig.suptitle("Analysis side: cost vs number of videos", fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
