"""Sub-commands of the statistics stage: ``fit-models``, ``plot-figures``, ``power``.

Argument parsing only; the work is in :mod:`hipdrive.stats`,
:mod:`hipdrive.figures` and :mod:`hipdrive.stats.power`, imported inside each command
so that ``hipdrive --help`` stays instant.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from hipdrive.commands import parse_json_object
from hipdrive.contracts.params import HEAVY_PCT_1RM, STATS_DEFAULTS
from hipdrive.errors import InputError


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``fit-models``, ``plot-figures`` and ``power``."""
    p = subparsers.add_parser(
        "fit-models",
        help="mixed models, bootstrap shares and SPM from the collected tables",
        description="Fit the load-effect models (per metric, per lift), per-lifter slopes, "
        "the 'always' shares with cluster-bootstrap CIs and the SPM of trunk-angle slope "
        "curves. Writes models.csv, models.tex, lifter_slopes.csv, always.csv, spm.csv, "
        "spm_clusters.csv, qc_summary.csv and provenance.json into --out-dir.",
    )
    p.add_argument("--reps", required=True, type=Path, help="results/tables/reps.parquet")
    p.add_argument("--curves", type=Path, help="results/tables/curves.parquet (for SPM)")
    p.add_argument(
        "--params",
        default="{}",
        help="JSON object of the config's stats section (also workers); keys and defaults: "
        + json.dumps(dict(STATS_DEFAULTS)),
    )
    p.add_argument("--out-dir", required=True, type=Path)
    p.set_defaults(func=_fit_models)

    p = subparsers.add_parser(
        "plot-figures",
        help="the eight report figures (PNG + PDF) and their captions",
        description="Draw the report figures from the collected tables and the fit-models "
        "output; writes {name}.png, {name}.pdf and {name}.counts.rst (lifters/reps the "
        "figure rests on, included by the report captions) per figure, and "
        "figure_counts.json.",
    )
    p.add_argument("--reps", required=True, type=Path)
    p.add_argument("--curves", type=Path)
    p.add_argument("--stats-dir", required=True, type=Path, help="output folder of fit-models")
    p.add_argument("--out-dir", required=True, type=Path)
    p.add_argument(
        "--heavy-pct-1rm",
        type=float,
        default=HEAVY_PCT_1RM,
        help="heavy threshold marked in the sticking figure: fit-models' heavy_pct_1rm "
        "(default %(default)g)",
    )
    p.add_argument("--workers", type=int, default=2, help="processes drawing figures")
    p.set_defaults(func=_plot_figures)

    p = subparsers.add_parser(
        "write-answer",
        help="the report's first page: what the study found, then every table inline",
        description="Write one HTML page: per lift, the primary hip-lead index's change per "
        "10 %%1RM with its CI, the 'always' shares, what was not estimated and why, what was "
        "excluded; then the statistics tables, the configuration and the provenance.",
    )
    p.add_argument("--stats-dir", required=True, type=Path, help="output folder of fit-models")
    p.add_argument("--excluded", type=Path, help="results/qc/excluded.tsv")
    p.add_argument("--config", default=None, help="the run's configuration as JSON")
    p.add_argument("--simulated-slope", type=float, default=None,
                   help="a simulated study's true slope (deg per 10 %%1RM), stated beside the estimate")  # fmt: skip
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--summary-out", type=Path,
                   help="also write the findings alone as an HTML fragment (the report's landing page)")  # fmt: skip
    p.set_defaults(func=_write_answer)

    p = subparsers.add_parser(
        "power",
        help="false-positive rate, CI coverage and power by simulation",
        description="Run many simulated studies (fast: rep tables from the generative "
        "model; keypoints: simulator keypoints -> analysis) and fit the primary mixed "
        "model to each; writes a per-cell summary CSV (and {stem}_studies.csv).",
    )
    p.add_argument("--studies", type=int, default=500, help="studies per design cell")
    p.add_argument("--lifters", default="10,20", help="comma-separated numbers of lifters")
    p.add_argument("--reps", default="3", help="comma-separated reps per load")
    p.add_argument(
        "--effect-slope", default="0,1.5", help="true slopes, deg per 10 %%1RM, comma-separated"
    )
    p.add_argument("--loads", default="60,70,80,90", help="%%1RM loads, comma-separated")
    p.add_argument("--mode", choices=("fast", "keypoints"), default="fast")
    noise = p.add_argument_group(
        "pose-model error (keypoints mode): added to the true keypoints before the analysis"
    )
    noise.add_argument("--noise-px", type=float, default=0.0, help="keypoint noise SD, pixels")
    noise.add_argument("--noise-corr-s", type=float, default=0.0,
                       help="correlation time of the noise, s (a smoothing tracker: ~0.1)")  # fmt: skip
    noise.add_argument("--noise-motion-px", type=float, default=0.0,
                       help="further noise SD at a keypoint's fastest, none while still")  # fmt: skip
    p.add_argument("--alpha", type=float, default=0.05)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--out", required=True, type=Path)
    p.set_defaults(func=_power)


def _parse_params(text: str) -> dict:
    params = parse_json_object(text, flag="--params")
    allowed = {*STATS_DEFAULTS, "workers"}
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise InputError(
            f"--params: unknown key(s) {', '.join(unknown)}; allowed: {sorted(allowed)}"
        )
    return params


def _numbers(text: str, name: str, kind: type) -> list:
    try:
        values = [kind(v) for v in text.split(",") if v.strip()]
    except ValueError as exc:
        raise InputError(f"{name}: expected comma-separated numbers, got {text!r}") from exc
    if not values:
        raise InputError(f"{name}: no values given")
    return values


def _fit_models(args: argparse.Namespace) -> int:
    from hipdrive import stats
    from hipdrive.contracts.curves import read_curves
    from hipdrive.contracts.reps import read_reps
    from hipdrive.contracts.results import provenance

    params = _parse_params(args.params)
    reps = read_reps(args.reps)
    curves = None
    if args.curves is not None:
        curves = read_curves(args.curves, variables=["trunk_angle_deg"], phase="ascent")
    result = stats.run_stats(reps, curves, **params)
    result.provenance["inputs"] = provenance(
        {}, {"reps": args.reps, **({"curves": args.curves} if args.curves else {})}
    )["inputs"]
    stats.write_stats(result, args.out_dir)
    return 0


def _plot_figures(args: argparse.Namespace) -> int:
    from hipdrive import figures
    from hipdrive.contracts.curves import read_curves
    from hipdrive.contracts.reps import read_reps

    reps = read_reps(args.reps)
    curves = None
    if args.curves is not None:
        curves = read_curves(
            args.curves, variables=list(figures.CURVE_VARIABLES_USED), phase="ascent"
        )
    figures.plot_all(
        reps,
        curves,
        stats_dir=args.stats_dir,
        out_dir=args.out_dir,
        heavy_pct_1rm=args.heavy_pct_1rm,
        workers=args.workers,
    )
    return 0


def _write_answer(args: argparse.Namespace) -> int:
    from hipdrive.answer import answer_page, findings
    from hipdrive.contracts.files import atomic_write_bytes

    config = parse_json_object(args.config, flag="--config") if args.config else None
    page = answer_page(args.stats_dir, args.excluded, config, simulated_slope=args.simulated_slope)
    if args.summary_out:
        summary = findings(args.stats_dir, args.excluded, simulated_slope=args.simulated_slope)
        atomic_write_bytes(summary.encode(), args.summary_out)
    atomic_write_bytes(page.encode(), args.out)
    print(f"write-answer: -> {args.out}", file=sys.stderr)
    return 0


def _power(args: argparse.Namespace) -> int:
    from hipdrive.stats import power

    lifters = _numbers(args.lifters, "--lifters", int)
    reps = _numbers(args.reps, "--reps", int)
    slopes = _numbers(args.effect_slope, "--effect-slope", float)
    loads = tuple(_numbers(args.loads, "--loads", float))
    base = power.StudyDesign(loads_pct_1rm=loads)
    studies = power.run_power(
        base,
        n_studies=args.studies,
        lifters=lifters,
        reps_per_load=reps,
        effect_slopes=slopes,
        mode=args.mode,
        alpha=args.alpha,
        seed=args.seed,
        workers=args.workers,
        keypoint_noise={"noise_px": args.noise_px, "noise_corr_s": args.noise_corr_s,
                        "noise_motion_px": args.noise_motion_px},  # fmt: skip
    )
    summary = power.summarise_power(studies, alpha=args.alpha)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    summary.to_csv(args.out, index=False)
    studies.to_csv(args.out.with_name(f"{args.out.stem}_studies.csv"), index=False)
    cols = ["n_lifters", "reps_per_load", "effect_slope", "quantity", "rejection_rate", "coverage"]
    print(summary[cols].to_string(index=False))
    return 0
