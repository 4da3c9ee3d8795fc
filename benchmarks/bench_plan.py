"""How long Snakemake takes to plan (dry-run) large manifests.

Target: a 10,000-video manifest planned in <= 60 s on 2 cores.
A researcher's collection: videos that exist on disk (empty placeholder files
here, planning never opens them), MediaPipe, QC media off above 50 videos.
Prints one line per size and shard size: videos, jobs planned, seconds, peak
RSS of snakemake. ``--shard-sizes 1`` is one job per video per stage (the
local default); 64 is the cluster setting (``shard_size`` in the config).

    .venv/bin/python benchmarks/bench_plan.py --sizes 1000 10000 --shard-sizes 1 64
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def write_study(work: Path, n_videos: int, shard_size: int) -> None:
    rows = ["video_id\tpath\tlifter_id\tlift\tvariant\tload_kg\tone_rm_kg\theight_m\tcamera_side"]
    (work / "videos").mkdir()
    for i in range(n_videos):
        lifter, load = divmod(i, 10)
        vid = f"L{lifter:05d}_squat_{50 + 5 * load:03d}"
        (work / "videos" / f"{vid}.mp4").touch()
        rows.append(f"{vid}\tvideos/{vid}.mp4\tL{lifter:05d}\tsquat\thigh_bar\t{50 + 5 * load}\t100\t1.75\tleft")
    (work / "samples.tsv").write_text("\n".join(rows) + "\n")
    (work / "config.yaml").write_text(f"samples: samples.tsv\nshard_size: {shard_size}\n")


def plan(work: Path) -> tuple[int, float, float]:
    snakemake = Path(sys.executable).parent / "snakemake"
    cmd = [str(snakemake), "-s", str(REPO / "Snakefile"), "-d", str(work), "--configfile",
           str(work / "config.yaml"), "--dry-run", "--quiet", "rules", "--cores", "2"]  # fmt: skip
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    log = proc.stdout + proc.stderr
    total = next(int(line.split()[1]) for line in log.splitlines() if line.startswith("total"))
    return total, seconds, peak_mb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--shard-sizes", type=int, nargs="+", default=[1, 64])
    args = parser.parse_args()
    print(f"{'videos':>8} {'shard':>6} {'jobs':>8} {'plan_s':>8} {'peak_rss_mb':>12}")
    for n in args.sizes:
        for shard_size in args.shard_sizes:
            with tempfile.TemporaryDirectory() as tmp:
                write_study(Path(tmp), n, shard_size)
                jobs, seconds, peak = plan(Path(tmp))
            print(f"{n:>8} {shard_size:>6} {jobs:>8} {seconds:>8.1f} {peak:>12.0f}", flush=True)


if __name__ == "__main__":
    main()
