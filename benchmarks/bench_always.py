"""Coverage of the "always" shares' CIs, and what one mismeasured rep does to each share.

Simulated studies (:func:`hipdrive.stats.power.simulate_study_tables`: the random-slope
model the statistics fit, 12 lifters by default, heavy = 85 %1RM and above) go through
:func:`hipdrive.stats.always_shares`. Each share's truth is the same quantity on one very
large study from the same design (``--truth-lifters``, 20,000). PRINTS per share:

coverage       share of studies whose 95% cluster-bootstrap CI holds the truth, with
               its Wilson interval (target: 95%)
estimate       mean estimate against the truth
one bad rep    the same, after one heavy rep per lifter is mismeasured by
               ``--bad-rep-deg`` (8 deg lower: a false sticking region moves the
               primary index 4-9 deg), against the clean truth

It asserts nothing. Run::

    python benchmarks/bench_always.py [--studies 300] [--lifters 12] [--bootstrap 500]
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import numpy as np
import pandas as pd

from hipdrive.contracts.reps import PRIMARY_METRIC, validate_reps
from hipdrive.stats import always_shares
from hipdrive.stats.power import StudyDesign, _wilson, simulate_study_tables

HEAVY = 85.0
DESIGN = StudyDesign(loads_pct_1rm=(60.0, 70.0, 80.0, 85.0, 90.0, 95.0), p_flagged=0.0)


def study_reps(design: StudyDesign, seed: int, bad_rep_deg: float = 0.0) -> pd.DataFrame:
    """One simulated study's reps; with ``bad_rep_deg``, one heavy rep per lifter moved down."""
    reps, _ = simulate_study_tables(design, seed=seed, with_curves=False)
    reps = validate_reps(reps)
    if bad_rep_deg:
        rng = np.random.default_rng(seed + 1)
        heavy = reps.index[reps["pct_1rm"] >= HEAVY]
        first = reps.loc[heavy].groupby("lifter_id").sample(1, random_state=rng).index
        reps.loc[first, PRIMARY_METRIC] -= bad_rep_deg
    return reps


def shares(reps: pd.DataFrame, n_bootstrap: int, seed: int) -> pd.DataFrame:
    out = always_shares(reps, heavy_pct_1rm=HEAVY, n_bootstrap=n_bootstrap, seed=seed)
    return out[out["lift"] == "squat"].set_index("quantity")[["estimate", "ci_low", "ci_high"]]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--studies", type=int, default=300)
    ap.add_argument("--lifters", type=int, default=12)
    ap.add_argument("--bootstrap", type=int, default=500)
    ap.add_argument("--truth-lifters", type=int, default=20_000)
    ap.add_argument("--bad-rep-deg", type=float, default=8.0)
    args = ap.parse_args(argv)
    design = replace(DESIGN, n_lifters=args.lifters)
    truth = shares(study_reps(replace(design, n_lifters=args.truth_lifters), seed=1), 1, 0)[
        "estimate"
    ]
    clean, bad = [], []
    for k in range(args.studies):
        clean.append(shares(study_reps(design, seed=1000 + k), args.bootstrap, k))
        bad.append(
            shares(
                study_reps(design, seed=1000 + k, bad_rep_deg=args.bad_rep_deg), args.bootstrap, k
            )
        )
    rows = []
    for q in truth.index:
        c = pd.DataFrame([s.loc[q] for s in clean])
        b = pd.DataFrame([s.loc[q] for s in bad])
        covered = ((c["ci_low"] <= truth[q]) & (truth[q] <= c["ci_high"])).to_numpy()
        lo, hi = _wilson(np.array([covered.sum()]), np.array([len(covered)]), 0.05)
        b_cov = ((b["ci_low"] <= truth[q]) & (truth[q] <= b["ci_high"])).mean()
        rows.append({"share": q, "truth": truth[q], "mean_estimate": c["estimate"].mean(),
                     "coverage": covered.mean(), "coverage_95ci": f"{lo[0]:.3f}-{hi[0]:.3f}",
                     "one_bad_rep_mean_estimate": b["estimate"].mean(), "one_bad_rep_coverage": b_cov})  # fmt: skip
    print(f"{args.studies} studies of {args.lifters} lifters, {args.bootstrap} bootstrap resamples, "
          f"heavy >= {HEAVY:g} %1RM; truth from {args.truth_lifters} lifters")  # fmt: skip
    with pd.option_context("display.width", 200, "display.precision", 3):
        print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
