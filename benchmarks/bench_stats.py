"""Time the statistics stage on cached tables of ~20,000 reps (target: <= 60 s, 2 cores).

Builds ``reps.parquet`` and ``curves.parquet`` from the generative model of
:mod:`hipdrive.power` (200 lifters x squat + deadlift x 5 loads x 10 reps =
20,000 reps; 101-node curves for 5 variables x 2 phases) in a temporary folder,
then times, as the workflow runs them, ``hipdrive fit-models`` (read + models +
bootstrap + SPM + write) and ``hipdrive plot-figures``. Prints the figures;
asserts nothing.

Usage::

    python benchmarks/bench_stats.py [--lifters 200] [--reps-per-load 10] [--skip-figures]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from hipdrive import stats
from hipdrive.power import StudyDesign, simulate_study_tables


def _cpu_s() -> float:
    """CPU seconds of this process and its finished children (the model workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lifters", type=int, default=200)
    parser.add_argument("--reps-per-load", type=int, default=10)
    parser.add_argument("--skip-figures", action="store_true")
    parser.add_argument(
        "--tables-dir",
        type=Path,
        help="keep the generated tables here and reuse them on the next run",
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
        print(
            f"tables: {len(reps)} reps, {pq.ParquetFile(tmp / 'curves.parquet').metadata.num_rows} "
            f"curve rows, ready in {time.perf_counter() - t0:.1f} s"
        )

        timings = {}
        t0 = time.perf_counter()
        r = stats.read_reps(tmp / "reps.parquet")
        c = stats.read_curves(tmp / "curves.parquet", variables=["trunk_angle_deg"], phase="ascent")
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
