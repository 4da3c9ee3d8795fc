"""Time the statistics stage on cached tables of ~20,000 reps (target: <= 60 s, 2 cores).

Builds ``reps.parquet`` and ``curves.parquet`` from the generative model of
:mod:`hipdrive.stats.power` (200 lifters x squat + deadlift x 5 loads x 10 reps =
20,000 reps; 101-node curves for 5 variables x 2 phases) in a temporary folder,
then times, as the workflow runs them, ``hipdrive fit-models`` (read + models +
bootstrap + SPM + write) and ``hipdrive plot-figures``. Prints the figures;
asserts nothing.

With ``--workflow`` it times what a researcher runs instead: the Snakemake
workflow on a folder holding only the cached tables (``fit_models`` +
``plot_figures``, then ``snakemake --report``), with torch, MMPose and
MediaPipe made unimportable (a folder first on ``PYTHONPATH`` whose packages
raise ImportError): the case the <= 60 s target is stated for.

Usage::

    python benchmarks/bench_stats.py [--lifters 200] [--reps-per-load 10] [--skip-figures]
    python benchmarks/bench_stats.py --workflow [--tables-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from hipdrive import stats
from hipdrive.contracts.curves import read_curves
from hipdrive.contracts.reps import read_reps
from hipdrive.pose import POSE_PACKAGES
from hipdrive.stats.power import StudyDesign, simulate_study_tables


def _cpu_s() -> float:
    """CPU seconds of this process and its finished children (the model workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


REPO = Path(__file__).resolve().parents[1]


def time_workflow(tables: Path, work: Path) -> None:
    """Stats + figures + report by Snakemake from cached tables, pose packages blocked.

    The folder holds only ``results/tables/`` and a config with ``from_tables: true``:
    no manifest, videos or keypoints, as a researcher given the tables has.
    """
    shutil.rmtree(work, ignore_errors=True)
    (work / "results" / "tables").mkdir(parents=True)
    for name in ("reps.parquet", "curves.parquet"):
        os.link(tables / name, work / "results" / "tables" / name)
    n_reps = pq.ParquetFile(tables / "reps.parquet").metadata.num_rows
    (work / "config.yaml").write_text("from_tables: true\n")
    blocked = work / "blocked"
    for name in POSE_PACKAGES:
        (blocked / name).mkdir(parents=True)
        (blocked / name / "__init__.py").write_text(f"raise ImportError('{name} is blocked')\n")
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(blocked), os.environ.get("PYTHONPATH", "")]),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
    }
    check = subprocess.run([sys.executable, "-c", "import mediapipe"], env=env, capture_output=True)
    assert check.returncode != 0, "the blocker must make mediapipe unimportable"
    base = [str(bin_dir / "snakemake"), "--snakefile", str(REPO / "Snakefile"),
            "--directory", str(work), "--configfile", str(work / "config.yaml"), "--cores", "2"]  # fmt: skip
    steps = {
        "snakemake (fit_models, plot_figures)": base,
        "snakemake --report": [*base, "--report", str(work / "results" / "report.html")],
    }
    total = 0.0
    print(f"workflow from cached tables of {n_reps} reps, torch/mmpose/mediapipe blocked:")
    cpu_total = 0.0
    for name, cmd in steps.items():
        t0, c0 = time.perf_counter(), _cpu_s()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        wall, cpu = time.perf_counter() - t0, _cpu_s() - c0
        if proc.returncode != 0:
            raise SystemExit(f"{name} failed:\n{proc.stderr[-3000:]}")
        total, cpu_total = total + wall, cpu_total + cpu
        print(f"  {name:>38}: {wall:6.1f} s wall, {cpu:6.1f} s CPU")
    size = (work / "results" / "report.html").stat().st_size / 1e6
    print(
        f"TOTAL stats + figures + report (snakemake): {total:.1f} s wall (target <= 60 s), "
        f"{cpu_total:.1f} s CPU, "
        f"report {size:.1f} MB; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lifters", type=int, default=200)
    parser.add_argument("--reps-per-load", type=int, default=10)
    parser.add_argument("--skip-figures", action="store_true")
    parser.add_argument(
        "--workflow", action="store_true", help="time the Snakemake rules and the report instead"
    )
    parser.add_argument(
        "--tables-dir",
        type=Path,
        help="keep the generated tables here and reuse them on the next run",
    )
    parser.add_argument(
        "--work-dir", type=Path, help="with --workflow: keep the workflow folder here"
    )
    args = parser.parse_args()
    design = StudyDesign(
        n_lifters=args.lifters,
        reps_per_load=args.reps_per_load,
        loads_pct_1rm=(60.0, 70.0, 80.0, 90.0, 100.0),
        lifts=("squat", "deadlift"),
        effect_slope_deg_per_10pct=1.5,
    )
    with tempfile.TemporaryDirectory() as scratch:
        tmp = args.tables_dir or Path(scratch)
        tmp.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        if not (tmp / "reps.parquet").is_file() or not (tmp / "curves.parquet").is_file():
            reps, curves = simulate_study_tables(design, seed=1)
            reps.to_parquet(tmp / "reps.parquet")
            curves.to_parquet(tmp / "curves.parquet")
            del curves
        reps = pd.read_parquet(tmp / "reps.parquet")
        if args.workflow:
            time_workflow(tmp, args.work_dir or Path(scratch) / "work")
            return
        print(
            f"tables: {len(reps)} reps, {pq.ParquetFile(tmp / 'curves.parquet').metadata.num_rows} "
            f"curve rows, ready in {time.perf_counter() - t0:.1f} s"
        )

        timings = {}
        t0 = time.perf_counter()
        r = read_reps(tmp / "reps.parquet")
        c = read_curves(tmp / "curves.parquet", variables=["trunk_angle_deg"], phase="ascent")
        timings["read"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        models = stats.fit_models(r)
        timings["models"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        slopes = stats.lifter_slopes(r)
        stats.always_shares(r, slopes, n_bootstrap=2000)
        timings["slopes+bootstrap"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        stats.spm_slope_curves(c, r)
        timings["spm"] = time.perf_counter() - t0
        for k, v in timings.items():
            print(f"  {k:>18}: {v:6.1f} s")
        print(
            f"  models: {len(models)} fits, {int(models['converged'].sum())} converged, "
            f"{int((models['re_structure'] == 'intercept').sum())} fell back to random intercept"
        )

        t0, c0 = time.perf_counter(), _cpu_s()
        from hipdrive.cli import main as cli

        cli(
            [
                "fit-models",
                "--reps",
                str(tmp / "reps.parquet"),
                "--curves",
                str(tmp / "curves.parquet"),
                "--params",
                '{"heavy_pct_1rm": 85, "n_bootstrap": 2000, "seed": 1, "alpha": 0.05}',
                "--out-dir",
                str(tmp / "stats"),
            ]
        )
        t_fit, c_fit = time.perf_counter() - t0, _cpu_s() - c0
        print(f"fit-models (CLI, end to end): {t_fit:.1f} s wall, {c_fit:.1f} s CPU")
        t_fig = c_fig = 0.0
        if not args.skip_figures:
            t0, c0 = time.perf_counter(), _cpu_s()
            cli(
                [
                    "plot-figures",
                    "--reps",
                    str(tmp / "reps.parquet"),
                    "--curves",
                    str(tmp / "curves.parquet"),
                    "--stats-dir",
                    str(tmp / "stats"),
                    "--out-dir",
                    str(tmp / "figures"),
                ]
            )
            t_fig, c_fig = time.perf_counter() - t0, _cpu_s() - c0
            print(f"plot-figures (CLI, end to end): {t_fig:.1f} s wall, {c_fig:.1f} s CPU")
        total = t_fit + t_fig
        load = os.getloadavg()[0]
        print(
            f"TOTAL stats + figures from cached tables of {len(reps)} reps: {total:.1f} s wall "
            f"(target <= 60 s on 2 cores), {c_fit + c_fig:.1f} s CPU; "
            f"load average {load:.1f} on {os.cpu_count()} cores"
        )


if __name__ == "__main__":
    main()
