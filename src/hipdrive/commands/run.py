"""``hipdrive run``: the whole workflow and its report for one manifest, in one command.

It runs Snakemake with the interpreter running this command, so the steps
find the package without an activated environment and from any directory:
``.venv/bin/hipdrive run my/samples.tsv --data-root /data/lifts``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from hipdrive.errors import InputError

#: The clone holding this package: its Snakefile, config and profiles (an editable install).
REPO = Path(__file__).resolve().parents[3]


def add_commands(subparsers) -> None:
    p = subparsers.add_parser(
        "run",
        help="the whole workflow and the report for a manifest",
        description=__doc__.splitlines()[0],
    )
    p.add_argument("samples", help="the manifest (TSV, one row per video): see config/README.md")
    p.add_argument(
        "--data-root", help="folder the manifest's paths are relative to (default: its folder)"
    )
    p.add_argument(
        "--out", default=".", help="folder that gets results/ and the report (default: here)"
    )
    p.add_argument("--cores", default="all", help="cores Snakemake may use (default: all)")
    p.add_argument(
        "--profile",
        help="Snakemake profile (default: the workflow's local profile; "
        "workflow/profiles/slurm for a cluster)",
    )
    p.add_argument(
        "--configfile", help="more settings over config/config.yaml (pose backend, stats, ...)"
    )
    p.add_argument("--dry-run", action="store_true", help="plan only: list the jobs, run none")
    p.add_argument(
        "--unlock", action="store_true", help="first release the lock a killed run left behind"
    )
    p.set_defaults(func=_cmd_run)


def snakemake_command(args: argparse.Namespace) -> list[str]:
    """The Snakemake command line of a ``hipdrive run`` (everything absolute)."""
    snakefile = REPO / "Snakefile"
    if not snakefile.is_file():
        raise InputError(
            f"hipdrive run needs the workflow next to the package ({snakefile} is missing): "
            "install hipdrive from a clone with `make setup` or `pip install -e .`"
        )
    samples = Path(args.samples).resolve()
    if not samples.is_file():
        raise InputError(f"{args.samples}: manifest not found")
    data_root = Path(args.data_root).resolve() if args.data_root else samples.parent
    if not data_root.is_dir():
        raise InputError(f"{args.data_root}: --data-root is not a folder")
    profile = Path(args.profile).resolve() if args.profile else REPO / "workflow/profiles/local"
    if not (profile / "config.yaml").is_file():
        raise InputError(f"{profile}: not a Snakemake profile (no config.yaml in it)")
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(snakefile),
           "--directory", str(Path(args.out).resolve()), "--profile", str(profile),
           "--cores", str(args.cores),
           # one progress line per finished job; errors and failed logs still print in full
           "--quiet", "rules", "reason", "host"]  # fmt: skip
    if args.configfile:
        cmd += ["--configfile", str(Path(args.configfile).resolve())]
    return cmd + ["--config", f"samples={samples}", f"data_root={data_root}"]


def _cmd_run(args: argparse.Namespace) -> int:
    cmd = snakemake_command(args)
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    if args.unlock and (code := subprocess.call([*cmd, "--unlock"])):
        return code
    if args.dry_run:
        return subprocess.call([*cmd, "--dry-run"])
    code = subprocess.call(cmd)
    if code:
        print(f"hipdrive run: the workflow stopped (exit {code}); its messages are above, each "
              f"job's log under {out / 'results/logs'}", file=sys.stderr)  # fmt: skip
        return code
    report = out / "results" / "report.html"
    code = subprocess.call([*cmd, "--report", str(report)])
    if code == 0:
        print("\n".join(summary(out / "results")))
        print(f"Report: {report}")
    return code


def summary(results: Path) -> list[str]:
    """The end-of-run lines: videos, exclusions, reps kept, models estimated and not."""
    from hipdrive.contracts.exclusions import VIDEO_STAGES, read_excluded
    from hipdrive.contracts.reps import read_reps
    from hipdrive.contracts.results import read_stats_table

    lines = []
    reps = read_reps(results / "tables" / "reps.parquet")
    excluded = read_excluded(results / "qc" / "excluded.tsv")
    # whole videos only: notes on kept videos (lost stretches, truncation, camera side) are not
    videos = excluded.loc[excluded["stage"].isin(VIDEO_STAGES), "video_id"].nunique()
    n_videos = reps["video_id"].nunique() + videos
    used = reps["quality_ok"] & reps["pct_1rm"].notna()
    lines.append(f"{n_videos} videos: {videos} excluded, {len(reps)} reps found, {int(used.sum())} "
                 f"used in the models ({results / 'qc' / 'excluded.tsv'} says why each is not)")  # fmt: skip
    if len(reps) and reps["pct_1rm"].isna().all():
        lines.append("warning: no rep has a %1RM: give load_kg with one_rm_kg in the manifest, or "
                     "several loads per lifter to estimate a 1RM")  # fmt: skip
    models = read_stats_table(results / "stats" / "models.csv")
    if models is not None and len(models):
        fitted = models["slope_per_10pct"].notna()
        lines.append(f"models: {int(fitted.sum())} estimated, {int((~fitted).sum())} not")
        for _, row in models[~fitted].iterrows():
            why = (
                row.get("warnings")
                if isinstance(row.get("warnings"), str)
                else row.get("conclusion")
            )
            lines.append(f"  not estimated: {row['metric']} ({row['lift']}): {why}")
    else:
        lines.append("models: none estimated (no usable rep with a %1RM)")
    return lines
