"""Calibration and statistical power of the load-effect test, by simulation.

Statistical power (the chance of detecting a true load effect), not mechanical
power in watts; the command is ``hipdrive power``.

Two ways to make a simulated study:

* ``fast`` -- rep tables drawn directly from the study's generative model
  (:func:`simulate_study_tables`): a random-intercept, random-slope model of the
  primary hip-lead index on %1RM with known fixed slope, plus the other metrics
  and time-normalised curves consistent with it. No video, no keypoints.
* ``keypoints`` -- the simulator (:mod:`hipdrive.simulate`) writes ground-truth
  keypoints for every video of the study (no rendering), and the real analysis
  (:func:`hipdrive.analyze.analyze_video`) turns them into rep tables, so the
  whole measurement chain is part of the calibration.

Both end in :func:`hipdrive.stats.fit_mixed_model`; :func:`run_power` repeats
this over many studies (2 worker processes by default) and
:func:`summarise_power` reports the rejection rate (false-positive rate when the
true slope is 0, power otherwise), the coverage of the true slope by the 95% CI,
bias and CI width, per design cell (number of lifters x reps per load x slope).

The generative model is also the fixture of the statistics and figure tests:
it knows the true slope.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from hipdrive.contracts.curves import CURVE_VARIABLES
from hipdrive.contracts.reps import PRIMARY_METRIC, validate_reps
from hipdrive.contracts.results import PCT_STEP
from hipdrive.errors import InputError
from hipdrive.stats.models import fit_mixed_model, single_threaded_blas

SIMULATED_CURVE_VARIABLES = tuple(
    v for v in CURVE_VARIABLES
    if v in ("trunk_angle_deg", "hip_angle_deg", "knee_angle_deg", "bar_velocity_bh_s", "moment_arm_ratio")
)  # fmt: skip
"""Curve variables :func:`simulate_study_tables` writes: those of the contract it models."""


@dataclass(frozen=True)
class StudyDesign:
    """Design and true parameters of one simulated study.

    Attributes
    ----------
    n_lifters : int
        Lifters in the study.
    reps_per_load : int
        Repetitions recorded at each load (one video per lifter x lift x load).
    loads_pct_1rm : tuple of float
        Relative loads, percent of 1RM.
    lifts : tuple of str
        ``"squat"`` and/or ``"deadlift"``.
    effect_slope_deg_per_10pct : float
        True fixed slope of the primary hip-lead index (deg per 10 %1RM).
    intercept_deg : float
        Mean primary index at ``centre_pct_1rm``.
    intercept_sd_deg : float
        Between-lifter SD of the intercept.
    slope_sd_deg_per_10pct : float
        Between-lifter SD of the slope (random slope).
    residual_sd_deg : float
        Rep-to-rep SD within lifter and load.
    centre_pct_1rm : float
        %1RM at which the intercept applies.
    p_flagged : float
        Probability that a rep carries a quality flag (then not used).
    """

    n_lifters: int = 10
    reps_per_load: int = 3
    loads_pct_1rm: tuple[float, ...] = (60.0, 70.0, 80.0, 90.0)
    lifts: tuple[str, ...] = ("squat",)
    effect_slope_deg_per_10pct: float = 1.5
    intercept_deg: float = 4.0
    intercept_sd_deg: float = 3.0
    slope_sd_deg_per_10pct: float = 1.0
    residual_sd_deg: float = 2.0
    centre_pct_1rm: float = 75.0
    p_flagged: float = 0.02

    def validate(self) -> None:
        """Raise :class:`~hipdrive.errors.InputError` on an impossible design."""
        if self.n_lifters < 1:
            raise InputError(f"n_lifters must be >= 1, got {self.n_lifters}")
        if self.reps_per_load < 1:
            raise InputError(f"reps_per_load must be >= 1, got {self.reps_per_load}")
        if len(self.loads_pct_1rm) < 1 or min(self.loads_pct_1rm) <= 0:
            raise InputError(f"loads_pct_1rm must be positive, got {self.loads_pct_1rm}")
        bad = set(self.lifts) - {"squat", "deadlift"}
        if bad or not self.lifts:
            raise InputError(f"lifts must be squat and/or deadlift, got {self.lifts}")
        for name in ("intercept_sd_deg", "slope_sd_deg_per_10pct", "residual_sd_deg"):
            if getattr(self, name) < 0:
                raise InputError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not 0 <= self.p_flagged < 1:
            raise InputError(f"p_flagged must be in [0, 1), got {self.p_flagged}")


def _smoothstep(t: np.ndarray) -> np.ndarray:
    return 3 * t**2 - 2 * t**3


def _lead_bump(t: np.ndarray) -> np.ndarray:
    """Shape of the hip-lead excursion: 0 at t=0, 1 at t=0.3, 0 from t=0.6 on."""
    return np.where(t < 0.6, np.sin(np.pi * t / 0.6) ** 2, 0.0)


def simulate_study_tables(
    design: StudyDesign,
    *,
    seed: int | np.random.SeedSequence = 0,
    with_curves: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Draw one study's collected tables from the generative model.

    Parameters
    ----------
    design : StudyDesign
        Design and true parameters.
    seed : int or numpy.random.SeedSequence
        Randomness.
    with_curves : bool
        Also build the long curves table (skip it for fast power runs).

    Returns
    -------
    reps : pandas.DataFrame
        Shaped like ``results/tables/reps.parquet`` (identity, events, sticking
        region, hip-lead indices, trunk angles, velocity, moment arms, deadlift
        metrics, quality flags, manifest columns, ``pct_1rm``).
    curves : pandas.DataFrame
        Shaped like ``results/tables/curves.parquet`` (long, 101 nodes per
        phase) for :data:`SIMULATED_CURVE_VARIABLES`; empty when ``with_curves`` is False.

    Notes
    -----
    Primary hip-lead index of rep ``k`` of lifter ``i`` at load ``p`` (%1RM)::

        y = b0 + u0_i + (b1 + u1_i) * (p - centre) / 10 + e
        u0_i ~ N(0, intercept_sd^2), u1_i ~ N(0, slope_sd^2), e ~ N(0, residual_sd^2)

    i.e. exactly the random-slope model that :func:`hipdrive.stats.fit_mixed_model`
    fits (Laird & Ware 1982, doi:10.2307/2529876), so ``b1`` =
    ``effect_slope_deg_per_10pct`` is the true answer. Deadlifts use the same
    law with their own lifter effects. The other metrics are plausible,
    load-dependent but not calibrated to literature values:

    * mean concentric velocity (body heights/s) falls linearly with load,
      ``v = a_i - c_i p / 100`` (the load-velocity profile; Gonzalez-Badillo &
      Sanchez-Medina 2010, doi:10.1055/s-0030-1248333);
    * sticking region present with probability ``logit^-1(-0.5 + 0.8 x + w_i)``,
      ``x = (p - centre)/10`` (more frequent at heavy loads, as in van den
      Tillaar & Ettema 2009, doi:10.1123/ijspp.4.2.161), at 30 + 2x % of the
      ascent;
    * trunk-angle curve through the ascent:
      ``theta(t) = theta_b (1 - S(t)) + theta_top S(t) + (y + (theta_b -
      theta_top) S(0.3)) B(t)`` with ``theta_top`` the trunk angle at lockout,
      ``S`` the smoothstep and ``B(t) = sin^2(pi t / 0.6)`` for ``t < 0.6``
      (0 after), so that ``theta(0.3) - theta(0) = y`` (the primary index at
      30% of ascent) and the true per-lifter slope curve is
      ``(b1 + u1_i) B(t)``: the load effect sits in the first 60% of the
      ascent, largest at 30%.
    """
    design.validate()
    rng = np.random.default_rng(seed)
    loads = np.asarray(design.loads_pct_1rm, dtype=float)
    n_l, n_p, n_r = design.n_lifters, len(loads), design.reps_per_load
    rows = []
    for lift in design.lifts:
        u0 = rng.normal(0, design.intercept_sd_deg, n_l)
        u1 = rng.normal(0, design.slope_sd_deg_per_10pct, n_l)
        lifter = np.repeat(np.arange(n_l), n_p * n_r)
        pct = np.tile(np.repeat(loads, n_r), n_l)
        rep = np.tile(np.arange(1, n_r + 1), n_l * n_p)
        x = (pct - design.centre_pct_1rm) / PCT_STEP
        n = len(lifter)
        y = (
            design.intercept_deg
            + u0[lifter]
            + (design.effect_slope_deg_per_10pct + u1[lifter]) * x
            + rng.normal(0, design.residual_sd_deg, n)
        )
        a = rng.normal(0.55, 0.04, n_l)[lifter]
        c = rng.normal(0.45, 0.03, n_l)[lifter]
        mcv = a - c * pct / 100 + rng.normal(0, 0.015, n)
        w = rng.normal(0, 0.7, n_l)[lifter]
        stick = rng.random(n) < 1 / (1 + np.exp(-(-0.5 + 0.8 * x + w)))
        stick_at = rng.normal(30, 4, n_l)[lifter] + (2 + rng.normal(0, 0.7, n_l)[lifter]) * x
        stick_pct = np.where(stick, stick_at + rng.normal(0, 4, n), np.nan)
        theta_b = rng.normal(42 if lift == "squat" else 55, 4, n_l)[lifter] + rng.normal(0, 1, n)
        mar = (
            rng.normal(1.3, 0.1, n_l)[lifter]
            + rng.normal(0.04, 0.015, n_l)[lifter] * x
            + rng.normal(0, 0.05, n)
        )
        lifter_ids = np.array([f"L{i + 1:02d}" for i in range(n_l)])[lifter]
        load_code = np.char.zfill(np.round(pct).astype(int).astype(str), 3)
        video = np.char.add(np.char.add(lifter_ids, f"_{lift}_"), load_code)
        asc = np.clip(0.9 + 1.2 * (pct / 100) ** 4 + rng.normal(0, 0.08, n), 0.4, None)
        desc = np.clip(1.1 + rng.normal(0, 0.1, n), 0.4, None)
        fps = 30.0
        start = 30 + (rep - 1) * np.round((asc + desc + 1.0) * fps)
        bottom = start + np.round(desc * fps)
        lockout = bottom + np.round(asc * fps)
        if lift == "deadlift":
            start = bottom.copy()
        flags = {
            f: rng.random(n) < design.p_flagged / 4
            for f in ("flag_low_confidence", "flag_gap", "flag_swap", "flag_lifter_lost")
        }
        quality_ok = ~np.any(np.vstack(list(flags.values())), axis=0)
        v_min_s = np.where(stick, (bottom + stick_pct / 100 * asc * fps) / fps, np.nan)
        rows.append(
            pd.DataFrame(
                {
                    "video_id": video,
                    "rep": rep.astype(np.int16),
                    "lift": lift,
                    "start_frame": start.astype(np.int32),
                    "bottom_frame": bottom.astype(np.int32),
                    "lockout_frame": lockout.astype(np.int32),
                    "end_frame": lockout.astype(np.int32),
                    "start_s": start / fps,
                    "bottom_s": bottom / fps,
                    "lockout_s": lockout / fps,
                    "end_s": lockout / fps,
                    "descent_duration_s": (bottom - start) / fps,
                    "ascent_duration_s": (lockout - bottom) / fps,
                    "complete": True,
                    "failed": False,
                    "sticking_present": stick,
                    "v_min_s": v_min_s,
                    "sticking_pct_ascent": stick_pct,
                    PRIMARY_METRIC: y,
                    "hip_lead_rise_ratio": 1.0 + 0.04 * y + rng.normal(0, 0.05, n),
                    "hip_lead_peak_velocity_lag_s": 0.01 * y
                    + rng.normal(0, 0.02, n_l)[lifter]
                    + rng.normal(0, 0.03, n),
                    "trunk_angle_bottom_deg": theta_b,
                    "trunk_angle_vmin_deg": theta_b + y,
                    "mean_concentric_velocity_bh_s": mcv,
                    "shoulder_bar_travel_ratio": 1.0,
                    "hands_up_at_bar_floor": 0.0 if lift == "deadlift" else np.nan,
                    "peak_concentric_velocity_bh_s": mcv * 1.8,
                    "moment_arm_ratio_bottom": mar - 0.05,
                    "moment_arm_ratio_vmin": mar,
                    "chest_rose_early": y < 0,
                    "hip_shoot_index": (
                        1.1 + 0.05 * y / 4 + rng.normal(0, 0.05, n)
                        if lift == "deadlift"
                        else np.nan
                    ),
                    "facing": "left",
                    "side_used": "left",
                    "bar_source": "body:shoulder" if lift == "squat" else "body:wrist",
                    "view": "side",
                    "camera_yaw_deg": 0.0,
                    "body_size_ratio": 1.0,
                    **flags,
                    "flag_implausible": False,
                    "implausible_reason": "",
                    "quality_ok": quality_ok,
                    "lifter_id": lifter_ids,
                    "variant": "high_bar" if lift == "squat" else "conventional",
                    "load_kg": pct * 1.4,
                    "one_rm_kg": 140.0,
                    "height_m": 1.75,
                    "camera_side": "left",
                    "pct_1rm": pct,
                    "one_rm_estimated": False,
                    "backend": "simulated-tables",
                }
            )
        )
    reps = pd.concat(rows, ignore_index=True)
    if not with_curves:
        return reps, pd.DataFrame()
    return reps, _simulate_curves(reps, rng)


def _simulate_curves(reps: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Long curves table consistent with ``reps`` (see :func:`simulate_study_tables`)."""
    t = np.linspace(0, 1, 101)
    n = len(reps)
    theta_b = reps["trunk_angle_bottom_deg"].to_numpy()[:, None]
    y = reps[PRIMARY_METRIC].to_numpy()[:, None]

    def smooth_noise(sd: float) -> np.ndarray:
        k = rng.normal(0, sd, (n, 3))
        return (
            k[:, :1] * np.sin(np.pi * t)
            + k[:, 1:2] * np.sin(2 * np.pi * t)
            + k[:, 2:] * np.sin(3 * np.pi * t)
        ) / np.sqrt(3)

    s = _smoothstep(t)
    theta_top = rng.normal(8, 2, (n, 1))
    asc = {
        "trunk_angle_deg": theta_b * (1 - s)
        + theta_top * s
        + (y + (theta_b - theta_top) * s[30]) * _lead_bump(t)
        + smooth_noise(0.5),
        "hip_angle_deg": 70 + 105 * s + smooth_noise(2),
        "knee_angle_deg": 80 + 95 * s + smooth_noise(2),
        "moment_arm_ratio": reps["moment_arm_ratio_vmin"].to_numpy()[:, None]
        * (1 + 0.15 * np.sin(np.pi * t))
        + smooth_noise(0.02),
    }
    mcv = reps["mean_concentric_velocity_bh_s"].to_numpy()[:, None]
    dip = np.where(reps["sticking_present"].to_numpy(), 0.4, 0.0)[:, None]
    vpct = np.nan_to_num(reps["sticking_pct_ascent"].to_numpy(), nan=30.0)[:, None] / 100
    asc["bar_velocity_bh_s"] = (
        mcv * 2 * np.sin(np.pi * t) ** 0.8 * (1 - dip * np.exp(-0.5 * ((t - vpct) / 0.08) ** 2))
    )
    desc = {
        "trunk_angle_deg": theta_top + (theta_b - theta_top) * s + smooth_noise(0.5),
        "hip_angle_deg": 175 - 105 * s + smooth_noise(2),
        "knee_angle_deg": 175 - 95 * s + smooth_noise(2),
        "moment_arm_ratio": reps["moment_arm_ratio_bottom"].to_numpy()[:, None]
        * (1 + 0.1 * np.sin(np.pi * t)),
        "bar_velocity_bh_s": -mcv * 1.5 * np.sin(np.pi * t),
    }
    blocks = []
    meta_cols = ["video_id", "rep", "lifter_id", "lift", "variant", "pct_1rm"]
    meta = reps[meta_cols]
    for phase, table in (("descent", desc), ("ascent", asc)):
        for variable in SIMULATED_CURVE_VARIABLES:
            values = np.asarray(table[variable], dtype=float)
            block = meta.loc[meta.index.repeat(101)].reset_index(drop=True)
            block.insert(2, "phase", phase)
            block.insert(3, "pct", np.tile(np.arange(101, dtype=np.int16), n))
            block.insert(4, "variable", variable)
            block.insert(5, "value", values.ravel())
            blocks.append(block)
    curves = pd.concat(blocks, ignore_index=True)
    curves["rep"] = curves["rep"].astype(np.int16)
    return curves


# ---------------------------------------------------------------------------
# one study, many studies


def _fit_result(reps: pd.DataFrame, truth: float, alpha: float) -> dict:
    row = fit_mixed_model(validate_reps(reps), PRIMARY_METRIC, lift="squat", alpha=alpha)
    return {
        "estimate": row["slope_per_10pct"],
        "ci_low": row["ci_low"],
        "ci_high": row["ci_high"],
        "p_value": row["p_value"],
        "converged": row["converged"],
        "re_structure": row["re_structure"],
        "n_reps_used": row["n_reps"],
        "rejected": bool(row["p_value"] < alpha) if np.isfinite(row["p_value"]) else False,
        "covered": bool(row["ci_low"] <= truth <= row["ci_high"])
        if np.isfinite(row["ci_low"])
        else False,
    }


def run_one_study(
    design: StudyDesign,
    *,
    seed: int | np.random.SeedSequence,
    mode: str = "fast",
    alpha: float = 0.05,
    workdir: str | None = None,
    keypoint_noise: Mapping[str, float] | None = None,
) -> dict:
    """Simulate one study, analyse it, fit the primary model; one result row.

    Parameters
    ----------
    design : StudyDesign
        Study to simulate (squat only is analysed).
    seed : int or SeedSequence
        Randomness of this study.
    mode : {"fast", "keypoints"}
        ``fast``: tables from the generative model; ``keypoints``: simulator
        ground-truth keypoints -> ``hipdrive.analyze`` -> tables.
    alpha : float
        Test level / 1 - CI level.
    workdir : str, optional
        Scratch folder for keypoint files (keypoints mode).
    keypoint_noise : mapping, optional
        Keypoints mode: pose-model error added to the true keypoints before the
        analysis, as :func:`hipdrive.pose.synthetic.degrade_keypoints` options
        (``noise_px``, ``noise_corr_s``, ``noise_motion_px``, ``dropout_rate``).

    Returns
    -------
    dict
        Design fields + ``estimate, ci_low, ci_high, p_value, converged,
        re_structure, n_reps_used, rejected, covered``.
    """
    truth = design.effect_slope_deg_per_10pct
    if mode == "fast":
        reps, _ = simulate_study_tables(design, seed=seed, with_curves=False)
    elif mode == "keypoints":
        reps = _keypoint_study_reps(design, seed=seed, workdir=workdir, noise=keypoint_noise)
    else:
        raise InputError(f"mode must be 'fast' or 'keypoints', got {mode!r}")
    out = {
        "n_lifters": design.n_lifters,
        "reps_per_load": design.reps_per_load,
        "effect_slope": truth,
    }
    out.update(_fit_result(reps, truth, alpha))
    return out


def _keypoint_study_reps(
    design: StudyDesign,
    *,
    seed: int | np.random.SeedSequence,
    workdir: str | None,
    noise: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Keypoints mode: simulator truth keypoints -> analysis -> collected reps table.

    :func:`hipdrive.simulate.simulate_study` writes keypoints-only videos (no
    rendering) of a study with the design's lifters, loads, reps and true
    slope; its population takes the design's between-lifter SDs and rep SD.
    Each keypoint file goes through :func:`hipdrive.analyze.analyze_video` with
    default :class:`~hipdrive.analyze.AnalysisParams`, and the rep tables are
    joined to the manifest (``pct_1rm = 100 load / 1RM``) as
    ``hipdrive.tables`` does. Squats only (the calibration target). With
    ``noise``, each video's keypoints are degraded first (its own seed).
    """
    import tempfile

    from hipdrive.analysis import AnalysisParams, analyze_video
    from hipdrive.contracts.keypoints import read_keypoints
    from hipdrive.pose.synthetic import degrade_keypoints
    from hipdrive.simulate import Population, simulate_study

    if isinstance(seed, np.random.SeedSequence):
        seed = int(seed.generate_state(1)[0] % (2**31 - 1))
    population = Population(
        hip_drive_at_70_sd_deg=design.intercept_sd_deg,
        hip_drive_slope_sd_deg_per_10pct=design.slope_sd_deg_per_10pct,
        hip_drive_rep_sd_deg=design.residual_sd_deg,
    )
    params = AnalysisParams()
    tables = []
    with tempfile.TemporaryDirectory(dir=workdir, prefix="hipdrive-power-") as tmp:
        manifest = simulate_study(
            tmp,
            n_lifters=design.n_lifters,
            loads_pct=design.loads_pct_1rm,
            n_reps=design.reps_per_load,
            seed=int(seed),
            effect_slope_deg_per_10pct=design.effect_slope_deg_per_10pct,
            lifts=("squat",),
            video=False,
            population=population,
        )
        for k, row in enumerate(manifest.to_dict("records")):
            kp, meta = read_keypoints(Path(tmp) / "truth" / f"{row['video_id']}.keypoints.parquet")
            if noise:
                kp = degrade_keypoints(kp, **noise, seed=int(seed) * 1000 + k)
            reps, _ = analyze_video(kp, meta, row, params)
            tables.append(
                reps.assign(
                    lifter_id=row["lifter_id"],
                    variant=row["variant"],
                    pct_1rm=100.0 * float(row["load_kg"]) / float(row["one_rm_kg"]),
                )
            )
    return pd.concat(tables, ignore_index=True)


def _run_chunk(args: tuple) -> list[dict]:
    design_dict, seeds, mode, alpha, workdir, noise = args
    design = StudyDesign(**design_dict)
    out = []
    with single_threaded_blas():
        for k, s in seeds:
            row = run_one_study(design, seed=s, mode=mode, alpha=alpha, workdir=workdir,
                                keypoint_noise=noise)  # fmt: skip
            row["study"] = k
            out.append(row)
    return out


def run_power(
    base: StudyDesign,
    *,
    n_studies: int = 500,
    lifters: Sequence[int] = (10, 20),
    reps_per_load: Sequence[int] = (3,),
    effect_slopes: Sequence[float] = (0.0, 1.5),
    mode: str = "fast",
    alpha: float = 0.05,
    seed: int = 1,
    workers: int = 2,
    chunk_size: int = 10,
    workdir: str | None = None,
    keypoint_noise: Mapping[str, float] | None = None,
    progress_every_s: float = 5.0,
) -> pd.DataFrame:
    """Run ``n_studies`` simulated studies per design cell; one row per study.

    Parameters
    ----------
    base : StudyDesign
        Everything not varied by the grid.
    n_studies : int
        Studies per cell (lifters x reps_per_load x effect slope).
    lifters, reps_per_load, effect_slopes : sequence
        The grid.
    mode : {"fast", "keypoints"}
        See :func:`run_one_study`.
    alpha : float
        Test level.
    seed : int
        Master seed; study ``k`` of every cell gets its own child seed, so the
        result does not depend on ``workers`` or ``chunk_size``.
    workers : int
        Processes (1 = in this process).
    chunk_size : int
        Studies per task sent to a worker.
    workdir : str, optional
        Scratch folder (keypoints mode).
    keypoint_noise : mapping, optional
        Keypoints mode: pose-model error (see :func:`run_one_study`).
    progress_every_s : float
        Seconds between progress lines on stderr.

    Returns
    -------
    pandas.DataFrame
        One row per study (see :func:`run_one_study`) + ``study``.
    """
    if n_studies < 1:
        raise InputError(f"--studies must be >= 1, got {n_studies}")
    if mode not in ("fast", "keypoints"):
        raise InputError(f"mode must be 'fast' or 'keypoints', got {mode!r}")
    noise = {k: float(v) for k, v in (keypoint_noise or {}).items() if v}
    if noise and mode != "keypoints":
        raise InputError("keypoint noise applies to --mode keypoints only")
    tasks = []
    master = np.random.SeedSequence(seed)
    cells = [(nl, nr, b) for nl in lifters for nr in reps_per_load for b in effect_slopes]
    cell_seeds = master.spawn(len(cells))
    for (nl, nr, b), cs in zip(cells, cell_seeds, strict=True):
        design = replace(
            base, n_lifters=int(nl), reps_per_load=int(nr), effect_slope_deg_per_10pct=float(b)
        )
        design.validate()
        seeds = list(enumerate(cs.spawn(n_studies)))
        for i in range(0, n_studies, chunk_size):
            tasks.append((asdict(design), seeds[i : i + chunk_size], mode, alpha, workdir, noise))
    total = len(cells) * n_studies
    rows: list[dict] = []
    start = last = time.monotonic()

    def progress(done: bool = False) -> None:
        el = time.monotonic() - start
        rate = len(rows) / el if el > 0 else float("nan")
        state = "done" if done else "..."
        print(
            f"power ({mode}): {len(rows)}/{total} studies ({rate:.1f} studies/s, {el:.1f} s) {state}",
            file=sys.stderr,
            flush=True,
        )

    if workers <= 1:
        for task in tasks:
            rows.extend(_run_chunk(task))
            if time.monotonic() - last >= progress_every_s:
                last = time.monotonic()
                progress()
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for fut in as_completed([pool.submit(_run_chunk, t) for t in tasks]):
                rows.extend(fut.result())
                if time.monotonic() - last >= progress_every_s:
                    last = time.monotonic()
                    progress()
    progress(done=True)
    out = pd.DataFrame(rows)
    out.insert(0, "mode", mode)
    for name, value in noise.items():
        out[name] = value
    return out.sort_values(["n_lifters", "reps_per_load", "effect_slope", "study"]).reset_index(
        drop=True
    )


def _wilson(k: np.ndarray, n: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a binomial proportion (Wilson 1927, doi:10.2307/2276774)."""
    from scipy.stats import norm

    z = norm.ppf(1 - alpha / 2)
    n = np.asarray(n, float)
    p = np.asarray(k, float) / np.maximum(n, 1)
    den = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / den
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / den
    return centre - half, centre + half


def summarise_power(studies: pd.DataFrame, *, alpha: float = 0.05) -> pd.DataFrame:
    """Per design cell: rejection rate, coverage, bias, CI width, convergence.

    Parameters
    ----------
    studies : pandas.DataFrame
        Output of :func:`run_power`.
    alpha : float
        Level used for the Wilson intervals of the two rates.

    Returns
    -------
    pandas.DataFrame
        ``mode, n_lifters, reps_per_load, effect_slope, n_studies,
        rejection_rate (+ _ci_low/_ci_high), quantity ("false_positive_rate"
        when effect_slope == 0 else "power"), coverage (+ CI), mean_estimate,
        bias, mean_ci_width, share_converged, share_fallback``.
    """
    keys = ["mode", "n_lifters", "reps_per_load", "effect_slope"]
    g = studies.groupby(keys, sort=True)
    out = g.agg(
        n_studies=("study", "size"),
        n_rejected=("rejected", "sum"),
        n_covered=("covered", "sum"),
        mean_estimate=("estimate", "mean"),
        share_converged=("converged", "mean"),
        share_fallback=("re_structure", lambda s: float((s == "intercept").mean())),
    ).reset_index()
    width = (studies["ci_high"] - studies["ci_low"]).groupby([studies[k] for k in keys]).mean()
    out["mean_ci_width"] = width.to_numpy()
    out["rejection_rate"] = out["n_rejected"] / out["n_studies"]
    out["rejection_ci_low"], out["rejection_ci_high"] = _wilson(
        out["n_rejected"], out["n_studies"], alpha
    )
    out["coverage"] = out["n_covered"] / out["n_studies"]
    out["coverage_ci_low"], out["coverage_ci_high"] = _wilson(
        out["n_covered"], out["n_studies"], alpha
    )
    out["bias"] = out["mean_estimate"] - out["effect_slope"]
    out["quantity"] = np.where(out["effect_slope"] == 0, "false_positive_rate", "power")
    cols = [
        *keys,
        "n_studies",
        "quantity",
        "rejection_rate",
        "rejection_ci_low",
        "rejection_ci_high",
        "coverage",
        "coverage_ci_low",
        "coverage_ci_high",
        "mean_estimate",
        "bias",
        "mean_ci_width",
        "share_converged",
        "share_fallback",
    ]
    return out[cols]
