"""Lifters, load behaviour and whole simulated studies.

A lifter's parameters (anthropometry, technique, load-velocity profile, hip-drive
random effects) derive deterministically from ``(seed, lifter_id)``, so every
video of one lifter shows the same person; the rep-level noise derives from
``(seed, video_id)``.

Hip-drive model (degrees of trunk-angle change from the bottom to v_min, the
primary hip-lead index of docs/definitions.md, "Hip-lead indices")::

    hip_drive = a_i + (beta + b_i) * (pct_1rm - 70) / 10 + e

with ``a_i ~ N(mu_a, sd_a)`` the lifter's value at 70 %1RM, ``beta`` the
population slope (deg per 10 %1RM, the study's effect), ``b_i ~ N(0, sd_b)``
the lifter's random slope (so some lifters have zero or negative slopes; a
``nonresponder_fraction`` of lifters can also be given slope exactly 0) and
``e ~ N(0, sd_e)`` rep noise. In the deadlift the same model is multiplied by
``Population.deadlift_hip_drive_factor``; where the nearly straight legs of a
pull cannot lift the hips that far, :class:`~hipdrive.simulate.motion.LifterMotion`
shrinks the perturbation (recorded per rep as ``reach_scale`` in the metadata
of ``{video_id}.reps.parquet``), and the truth table reports what was realised.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hipdrive.contracts.files import atomic_write_bytes, package_version
from hipdrive.contracts.manifest import COLUMNS as MANIFEST_COLUMNS
from hipdrive.errors import InputError
from hipdrive.simulate.anthropometry import Anthropometry
from hipdrive.simulate.motion import (
    DEADLIFT_VELOCITY_FACTOR,
    LOAD_VELOCITY,
    LifterMotion,
    LiftStyle,
    RepPlan,
    deadlift_setup_knee_flexion,
    normalize_variant,
    reference_path,
)
from hipdrive.simulate.truth import (
    default_camera,
    project_keypoints,
    truth_rep_table,
    write_rep_table,
    write_truth_keypoints,
)


@dataclass(frozen=True)
class Population:
    """Population parameters of simulated lifters (all recorded in study.json).

    Load-velocity numbers come from :data:`hipdrive.simulate.motion.LOAD_VELOCITY`.
    Hip-drive and sticking numbers are assumptions chosen to look like the
    coaching claim at realistic magnitudes (trunk-angle changes of a few
    degrees; sticking regions common above ~80 %1RM: van den Tillaar et al.
    2014, J Hum Kinet 42:63-71), not estimates.
    """

    height_mean_m: float = 1.76
    height_sd_m: float = 0.07
    segment_variation_sd: float = 0.03
    hip_drive_at_70_mean_deg: float = 3.0
    hip_drive_at_70_sd_deg: float = 2.0
    hip_drive_slope_sd_deg_per_10pct: float = 1.0
    hip_drive_rep_sd_deg: float = 1.0
    nonresponder_fraction: float = 0.0
    sticking_pct50: float = 82.0  # %1RM where half the reps show a sticking region
    sticking_pct50_sd: float = 5.0
    sticking_scale_pct: float = 6.0  # logistic scale of the sticking probability
    dip_depth_at_pct50: float = 0.30  # relative velocity dip (1 - v/v_peak of the base curve)
    dip_depth_per_pct: float = 0.01
    dip_depth_sd: float = 0.05
    deadlift_hip_drive_factor: float = (
        0.4  # deadlift hip drive = factor x the squat model (less room: knees extend early)
    )
    chest_up_probability: float = 0.0  # per rep, "chest up early" fault
    hip_shoot_probability_at_100: float = 0.4  # deadlift hip-shoot fault per rep at 1RM
    descent_mean_s: float = 1.5
    descent_sd_s: float = 0.25
    descent_rep_sd_s: float = 0.08
    pause_s: float = 0.0
    deadlift_hold_s: float | None = None  # lockout hold; None: drawn per rep, 0.3-0.6 s

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Lifter:
    """One simulated person (see the module docstring for the hip-drive model)."""

    lifter_id: str
    anthro: Anthropometry
    lv_intercept_m_s: float
    lv_slope_m_s_per_pct: float
    hip_drive_at_70_deg: float
    hip_drive_slope_deg_per_10pct: float  # beta + b_i (0 for a non-responder)
    random_slope_deg_per_10pct: float
    nonresponder: bool
    sticking_pct50: float
    descent_s: float
    knee_flexion_bottom_deg: float
    trunk_offset_deg: float
    deadlift_trunk_setup_deg: float
    deadlift_arm_setup_deg: float
    hip_shoot_propensity: float
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["anthro"] = self.anthro.to_dict()
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in d.items()}

    def mean_velocity_m_s(self, pct_1rm, lift: str = "squat"):
        """Expected mean concentric velocity at ``pct_1rm`` (load-velocity profile)."""
        v = self.lv_intercept_m_s + self.lv_slope_m_s_per_pct * np.asarray(pct_1rm, float)
        return v * (DEADLIFT_VELOCITY_FACTOR if lift == "deadlift" else 1.0)

    def style(self, lift: str, variant: str) -> LiftStyle:
        """This lifter's technique for one lift/variant."""
        if lift == "deadlift":
            kf = deadlift_setup_knee_flexion(
                self.anthro, self.deadlift_trunk_setup_deg, self.deadlift_arm_setup_deg
            )
            return LiftStyle("deadlift", variant, 3.0, kf, 3.0, self.deadlift_trunk_setup_deg, 1.0, 0.0,
                             self.deadlift_arm_setup_deg, trunk_hold_exponent=3.0)  # fmt: skip
        top, bottom = {"high_bar": (9.0, 42.0), "low_bar": (14.0, 50.0), "front": (3.0, 27.0)}[
            variant
        ]
        return LiftStyle("squat", variant, 5.0, self.knee_flexion_bottom_deg, top,
                         bottom + self.trunk_offset_deg, 1.0)  # fmt: skip


def _rng(seed: int, *keys: str | int) -> np.random.Generator:
    """A generator from the seed and string keys (stable across runs: CRC32, not hash())."""
    parts = [int(seed) & 0xFFFFFFFF] + [zlib.crc32(str(k).encode()) for k in keys]
    return np.random.default_rng(parts)


def make_lifter(
    lifter_id: str,
    *,
    seed: int,
    effect_slope_deg_per_10pct: float,
    height_m: float | None = None,
    population: Population = Population(),
) -> Lifter:
    """Draw one lifter's parameters from ``(seed, lifter_id)``.

    The load-velocity intercept and slope are drawn jointly (bivariate normal
    with the between-person SDs and correlation of :data:`LOAD_VELOCITY`).
    """
    rng = _rng(seed, "lifter", lifter_id)
    draws = rng.standard_normal(16)
    if height_m is None or not np.isfinite(height_m):
        height_m = float(
            np.clip(population.height_mean_m + population.height_sd_m * draws[0], 1.5, 2.05)
        )
    anthro = Anthropometry.from_height(height_m, rng=_rng(seed, "anthro", lifter_id),
                                       variation_sd=population.segment_variation_sd)  # fmt: skip
    lv = LOAD_VELOCITY
    rho = lv["intercept_slope_corr"]
    z_int, z_slope = draws[1], rho * draws[1] + math.sqrt(1 - rho**2) * draws[2]
    nonresponder = bool(rng.random() < population.nonresponder_fraction)
    b_i = population.hip_drive_slope_sd_deg_per_10pct * draws[3]
    return Lifter(
        lifter_id=str(lifter_id),
        anthro=anthro,
        lv_intercept_m_s=lv["intercept_m_s"] + lv["intercept_sd_m_s"] * z_int,
        lv_slope_m_s_per_pct=lv["slope_m_s_per_pct"] + lv["slope_sd_m_s_per_pct"] * z_slope,
        hip_drive_at_70_deg=population.hip_drive_at_70_mean_deg
        + population.hip_drive_at_70_sd_deg * draws[4],
        hip_drive_slope_deg_per_10pct=0.0 if nonresponder else effect_slope_deg_per_10pct + b_i,
        random_slope_deg_per_10pct=b_i,
        nonresponder=nonresponder,
        sticking_pct50=population.sticking_pct50 + population.sticking_pct50_sd * draws[5],
        descent_s=float(
            np.clip(population.descent_mean_s + population.descent_sd_s * draws[6], 0.9, 2.6)
        ),
        knee_flexion_bottom_deg=float(np.clip(122.0 + 5.0 * draws[7], 108.0, 135.0)),
        trunk_offset_deg=float(np.clip(4.0 * draws[8], -8.0, 8.0)),
        deadlift_trunk_setup_deg=float(np.clip(58.0 + 5.0 * draws[9], 45.0, 70.0)),
        deadlift_arm_setup_deg=float(np.clip(6.0 + 2.0 * draws[10], 1.0, 11.0)),
        hip_shoot_propensity=float(np.exp(0.5 * draws[11])),
    )


def plan_reps(
    lifter: Lifter,
    lift: str,
    pct_1rm: float,
    *,
    n_reps: int,
    rng: np.random.Generator,
    rom_m: float,
    population: Population = Population(),
) -> tuple[list[RepPlan], float]:
    """Timing and load behaviour of ``n_reps`` reps at ``pct_1rm``; returns (reps, clip duration s).

    Ascent duration = proxy range of motion / mean concentric velocity, the
    velocity from the lifter's load-velocity profile plus within-person noise
    (:data:`LOAD_VELOCITY` ``residual_sd_m_s``), floored at 0.1 m/s. Sticking
    probability is logistic in %1RM, ``1 / (1 + exp(-(pct - pct50_i) / scale))``.
    """
    if n_reps < 1:
        raise InputError(f"n_reps must be >= 1, got {n_reps}")
    pop = population
    t = float(rng.uniform(0.5, 0.8))
    reps = []
    for k in range(1, n_reps + 1):
        # every draw happens whatever the options, so switching a fault on or
        # off leaves the rest of the rep (and of the clip) unchanged
        z_mv, u_chest, u_stick, z_depth, z_hd, u_shoot, u_shoot_deg, z_desc, u_hold, u_centre, u_chest_deg, u_rest = (
            rng.standard_normal(), rng.random(), rng.random(), rng.standard_normal(), rng.standard_normal(),
            rng.random(), rng.uniform(6.0, 14.0), rng.standard_normal(), rng.uniform(0.3, 0.6),
            rng.uniform(0.34, 0.42), rng.uniform(6.0, 12.0), rng.uniform(0.6, 1.0),
        )  # fmt: skip
        mv = (
            float(lifter.mean_velocity_m_s(pct_1rm, lift)) + LOAD_VELOCITY["residual_sd_m_s"] * z_mv
        )
        mv = max(mv, 0.10)
        p_stick = 1.0 / (
            1.0 + math.exp(-(pct_1rm - lifter.sticking_pct50) / pop.sticking_scale_pct)
        )
        chest_up = u_chest < pop.chest_up_probability
        sticking = chest_up or u_stick < p_stick
        depth = 0.0
        if sticking:
            depth = pop.dip_depth_at_pct50 + pop.dip_depth_per_pct * (
                pct_1rm - lifter.sticking_pct50
            )
            depth = float(
                np.clip(
                    depth + pop.dip_depth_sd * z_depth + (0.15 if chest_up else 0.0), 0.18, 0.75
                )
            )
        hd = (lifter.hip_drive_at_70_deg + lifter.hip_drive_slope_deg_per_10pct * (pct_1rm - 70.0) / 10.0
              + pop.hip_drive_rep_sd_deg * z_hd)  # fmt: skip
        shoot = 0.0
        descent = float(max(0.6, lifter.descent_s + pop.descent_rep_sd_s * z_desc))
        if lift == "deadlift":
            hd *= pop.deadlift_hip_drive_factor
            p_shoot = (
                pop.hip_shoot_probability_at_100
                * lifter.hip_shoot_propensity
                * np.clip((pct_1rm - 50) / 50, 0, 1)
            )
            shoot = float(u_shoot_deg) if u_shoot < p_shoot else 0.0
            descent = 0.7 * descent  # lowering a deadlift is quicker than a squat descent
        plan = RepPlan(
            rep=k, pct_1rm=float(pct_1rm), t_start=t, descent_s=descent,
            pause_s=pop.pause_s if lift == "squat" else 0.0, ascent_s=rom_m / mv,
            hold_s=(float(u_hold) if pop.deadlift_hold_s is None else pop.deadlift_hold_s)
            if lift == "deadlift" else 0.0,
            mean_velocity_m_s=mv,
            dip_depth=depth, dip_centre=float(u_centre), hip_drive_deg=float(hd),
            chest_up_deg=float(u_chest_deg) if chest_up else 0.0, hip_shoot_deg=shoot,
        )  # fmt: skip
        reps.append(plan)
        t = plan.t_start + plan.descent_s + plan.pause_s + plan.ascent_s + plan.hold_s
        t += float(u_rest) if k < n_reps else float(u_rest - 0.1)
    return reps, t


def _sample_value(sample: Mapping[str, Any], key: str, default=None):
    v = sample.get(key, default)
    if (
        v is None
        or (isinstance(v, float) and math.isnan(v))
        or (isinstance(v, str) and v.strip() == "")
    ):
        return default
    return v


def build_motion(
    sample: Mapping[str, Any],
    *,
    seed: int,
    effect_slope_deg_per_10pct: float,
    n_reps: int = 3,
    population: Population = Population(),
) -> tuple[Lifter, LifterMotion]:
    """The lifter and the clip's motion for one manifest row (no I/O)."""
    vid = _sample_value(sample, "video_id")
    if vid is None:
        raise InputError("sample has no video_id")
    where = f"sample {vid}"
    missing = [
        k for k in ("lifter_id", "lift", "load_kg", "one_rm_kg") if _sample_value(sample, k) is None
    ]
    if missing:
        raise InputError(
            f"{where}: missing {', '.join(missing)} (the simulator needs load and 1RM)"
        )
    lift = str(sample["lift"])
    variant = normalize_variant(lift, _sample_value(sample, "variant"))
    load, one_rm = float(sample["load_kg"]), float(sample["one_rm_kg"])
    if not (one_rm > 0 and 0 < load <= 1.05 * one_rm):
        raise InputError(
            f"{where}: load_kg {load} must be in (0, 1.05 x one_rm_kg = {1.05 * one_rm:g}]"
        )
    height = _sample_value(sample, "height_m")
    lifter = make_lifter(str(sample["lifter_id"]), seed=seed, effect_slope_deg_per_10pct=effect_slope_deg_per_10pct,
                         height_m=None if height is None else float(height), population=population)  # fmt: skip
    style = lifter.style(lift, variant)
    rom = reference_path(lifter.anthro, style).rom_m
    reps, duration = plan_reps(lifter, lift, 100.0 * load / one_rm, n_reps=n_reps, rng=_rng(seed, "video", vid),
                               rom_m=rom, population=population)  # fmt: skip
    return lifter, LifterMotion(lifter.anthro, style, reps, duration)


#: Rendering options :func:`simulate_video` accepts; the first six also shape the truth.
RENDER_OPTIONS = ("orientation", "width", "height", "yaw_deg", "shake_px", "offset_x_frac",
                  "rotation", "noise_sd", "motion_blur", "spotter", "crf")  # fmt: skip


def simulate_video(
    sample: Mapping[str, Any],
    *,
    seed: int,
    effect_slope_deg_per_10pct: float,
    fps: float = 30.0,
    n_reps: int = 3,
    video_path: str | Path | None,
    truth_dir: str | Path,
    population: Population = Population(),
    **render_options: Any,
) -> None:
    """Simulate one manifest row: true keypoints, true reps and (optionally) the mp4.

    Parameters
    ----------
    sample : mapping
        One manifest row: ``video_id, lifter_id, lift, variant, load_kg,
        one_rm_kg, height_m, camera_side``.
    seed : int
        Study seed; the lifter derives from ``(seed, lifter_id)``, rep noise from
        ``(seed, video_id)``.
    effect_slope_deg_per_10pct : float
        Population slope of hip drive on load, degrees per 10 %1RM.
    fps : float
        Frame rate (frame ``i`` is at ``i / fps`` s).
    n_reps : int
    video_path : path or None
        Where to write the H.264 mp4; None for keypoints-only.
    truth_dir : path
        Receives ``{video_id}.keypoints.parquet`` and ``{video_id}.reps.parquet``.
    population : Population
    **render_options
        ``width``, ``height`` (default 540 x 960 portrait; or
        ``orientation="landscape"`` for 960 x 540), ``yaw_deg`` (camera turned
        towards the lifter's front, default 0), ``shake_px`` (camera shake
        amplitude, default 0), ``offset_x_frac``; rendering-only options are
        passed to :func:`hipdrive.simulate.render.render_video`.
    """
    if not (fps > 0 and np.isfinite(fps)):
        raise InputError(f"fps must be positive, got {fps!r}")
    vid = str(sample.get("video_id"))
    unknown = sorted(set(render_options) - set(RENDER_OPTIONS))
    if unknown:
        raise InputError(
            f"sample {vid}: unknown render option(s) {', '.join(unknown)} (known: {', '.join(RENDER_OPTIONS)})"
        )
    if render_options.get("orientation", "portrait") not in ("portrait", "landscape"):
        raise InputError(f"sample {vid}: orientation must be portrait or landscape")
    if int(render_options.get("rotation", 0)) not in (0, 90, 180, 270):
        raise InputError(
            f"sample {vid}: rotation must be 0, 90, 180 or 270, got {render_options['rotation']!r}"
        )
    lifter, motion = build_motion(sample, seed=seed, effect_slope_deg_per_10pct=effect_slope_deg_per_10pct,
                                  n_reps=n_reps, population=population)  # fmt: skip
    facing = str(_sample_value(sample, "camera_side", "right"))
    if facing not in ("left", "right"):
        raise InputError(f"sample {vid}: camera_side must be left or right, got {facing!r}")
    opts = dict(render_options)
    orientation = opts.pop("orientation", "portrait")
    w_default, h_default = (540, 960) if orientation == "portrait" else (960, 540)
    width, height = int(opts.pop("width", w_default)), int(opts.pop("height", h_default))
    camera = default_camera(lifter.anthro.height_m, facing=facing, width=width, height=height,
                            yaw_deg=float(opts.pop("yaw_deg", 0.0)),
                            offset_x_frac=float(opts.pop("offset_x_frac", 0.0)))  # fmt: skip
    n_frames = int(math.ceil(motion.duration_s * fps))
    # presentation times as the mp4 stores them (1 ms time base; hipdrive.video.write_video)
    time_s = np.round(np.arange(n_frames) / fps * 1000.0) / 1000.0
    kp = project_keypoints(motion.pose(time_s), camera, lifter.anthro.height_m)
    shake = camera_shake(n_frames, amplitude_px=float(opts.pop("shake_px", 0.0)), fps=fps,
                         rng=_rng(seed, "shake", vid))  # fmt: skip
    # the render mirrors a facing-right image for a lifter facing left, shake included
    kp = kp + (shake * np.array([-1.0 if camera.facing == "left" else 1.0, 1.0]))[:, None, :]
    truth_dir = Path(truth_dir)
    video_sha = None
    rotation = int(opts.get("rotation", 0))
    if video_path is not None:
        from hipdrive.contracts.files import sha256_file
        from hipdrive.simulate.render import Appearance, render_video

        look = Appearance.draw(_rng(seed, "appearance", str(sample["lifter_id"])))
        render_video(motion, camera, video_path, fps=fps, time_s=time_s, shake_px=shake, appearance=look,
                     rng=_rng(seed, "render", vid), **opts)  # fmt: skip
        video_sha = sha256_file(video_path)
    meta = {
        "video_id": vid, "video_sha256": video_sha, "width": width, "height": height, "rotation": rotation,
        "fps": float(fps), "n_frames": n_frames, "backend": "truth", "model": "hipdrive.simulate",
        "checkpoint_sha256": None, "seed": int(seed), "camera": camera.to_dict(),
    }  # fmt: skip
    write_truth_keypoints(kp, time_s, truth_dir / f"{vid}.keypoints.parquet", metadata=meta)
    reps = truth_rep_table(motion, camera, video_id=vid, fps=fps, n_frames=n_frames)
    write_rep_table(reps, truth_dir / f"{vid}.reps.parquet",
                    metadata={"video_id": vid, "backend": "truth", "seed": int(seed),
                              "reps": [r.to_dict() for r in motion.reps],
                              "reach_scale": motion.reach_scale})  # fmt: skip


def camera_shake(
    n_frames: int, *, amplitude_px: float, fps: float, rng: np.random.Generator
) -> np.ndarray:
    """Hand-held camera shake: smooth random drift, ``(n_frames, 2)`` pixels.

    Sum of a few random sinusoids below 3 Hz (hand tremor and sway of a
    hand-held phone), scaled so the RMS offset per axis is ``amplitude_px``.
    """
    if amplitude_px <= 0:
        return np.zeros((n_frames, 2))
    t = np.arange(n_frames) / fps
    f = rng.uniform(0.2, 3.0, (2, 4))
    ph = rng.uniform(0, 2 * np.pi, (2, 4))
    a = rng.uniform(0.5, 1.0, (2, 4))
    s = np.einsum("ak,akt->ta", a, np.sin(2 * np.pi * f[..., None] * t + ph[..., None]))
    return amplitude_px * s / np.sqrt(0.5 * np.sum(a**2, axis=1))


def study_manifest(
    *,
    n_lifters: int,
    loads_pct: Sequence[float],
    seed: int,
    lifts: Sequence[str] = ("squat",),
    population: Population = Population(),
) -> pd.DataFrame:
    """The manifest of a simulated study (one video per lifter x lift x load)."""
    if n_lifters < 1:
        raise InputError(f"n_lifters must be >= 1, got {n_lifters}")
    loads = [float(p) for p in loads_pct]
    if not loads or any(not 0 < p <= 105 for p in loads):
        raise InputError(f"loads_pct must be in (0, 105], got {loads_pct!r}")
    rows = []
    width = max(2, len(str(n_lifters)))
    for i in range(1, n_lifters + 1):
        lid = f"L{i:0{width}d}"
        rng = _rng(seed, "manifest", lid)
        height = float(
            np.clip(
                population.height_mean_m + population.height_sd_m * rng.standard_normal(), 1.5, 2.05
            )
        )
        side = "right" if rng.random() < 0.5 else "left"
        for lift in lifts:
            normalize_variant(lift, None)
            # 1RM: a plausible strength level, rounded to 2.5 kg plates
            one_rm = 2.5 * round(
                float(
                    rng.uniform(1.0, 2.2)
                    * 75
                    * (height / 1.76) ** 2
                    * (1.2 if lift == "deadlift" else 1.0)
                )
                / 2.5
            )
            variant = normalize_variant(lift, None)
            for p in loads:
                vid = f"{lid}_{lift}_{int(round(p)):03d}"
                rows.append({
                    "video_id": vid, "path": f"videos/{vid}.mp4", "lifter_id": lid, "lift": lift, "variant": variant,
                    "load_kg": round(one_rm * p / 100.0, 2), "one_rm_kg": one_rm, "height_m": round(height, 3),
                    "camera_side": side,
                })  # fmt: skip
    return pd.DataFrame(rows, columns=list(MANIFEST_COLUMNS))


def simulate_study(
    out_dir: str | Path,
    *,
    n_lifters: int,
    loads_pct: Sequence[float],
    n_reps: int,
    seed: int,
    effect_slope_deg_per_10pct: float,
    lifts: Sequence[str] = ("squat",),
    video: bool = True,
    fps: float = 30.0,
    population: Population = Population(),
    progress: bool = False,
    n_jobs: int = 1,
    **render_options: Any,
) -> pd.DataFrame:
    """Simulate a whole study into ``out_dir``; returns the manifest.

    ``n_jobs`` > 1 simulates videos in that many worker processes (the result
    is identical: every video derives its randomness from the seed and ids).

    Writes ``samples.tsv`` (``path`` relative to ``out_dir``), ``videos/*.mp4``
    (unless ``video=False``), ``truth/{video_id}.keypoints.parquet`` and
    ``.reps.parquet``, and ``study.json`` (the true parameters: population
    slope, every lifter's random effects and load-velocity profile, the seed).
    Deterministic for a seed.
    """
    out = Path(out_dir)
    manifest = study_manifest(
        n_lifters=n_lifters, loads_pct=loads_pct, seed=seed, lifts=lifts, population=population
    )
    if n_jobs < 1:
        raise InputError(f"n_jobs must be >= 1, got {n_jobs}")
    jobs = [
        (row, dict(seed=seed, effect_slope_deg_per_10pct=effect_slope_deg_per_10pct, fps=fps, n_reps=n_reps,
                   video_path=out / row["path"] if video else None, truth_dir=out / "truth",
                   population=population, **render_options))
        for row in manifest.to_dict("records")
    ]  # fmt: skip
    if n_jobs == 1:
        done = (simulate_video(row, **kw) for row, kw in jobs)
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(n_jobs, mp_context=multiprocessing.get_context("fork"))
        done = pool.map(_simulate_job, jobs, chunksize=max(1, len(jobs) // (8 * n_jobs)))
    if progress:
        from hipdrive.progress import report_progress

        done = report_progress(done, total=len(jobs), label="simulate", unit="videos")
    try:
        for _ in done:
            pass
    finally:
        if n_jobs > 1:
            pool.shutdown(cancel_futures=True)
    lifters = {}
    for lid, h in manifest.groupby("lifter_id")["height_m"].first().items():
        lifters[lid] = make_lifter(lid, seed=seed, effect_slope_deg_per_10pct=effect_slope_deg_per_10pct,
                                   height_m=h, population=population).to_dict()  # fmt: skip
    study = {
        "seed": int(seed),
        "effect_slope_deg_per_10pct": float(effect_slope_deg_per_10pct),
        "hip_drive_model": "hip_drive_deg = a_i + (beta + b_i) * (pct_1rm - 70) / 10 + e",
        "n_lifters": int(n_lifters), "loads_pct": [float(p) for p in loads_pct], "n_reps": int(n_reps),
        "lifts": list(lifts), "fps": float(fps), "video": bool(video),
        "population": population.to_dict(), "load_velocity": dict(LOAD_VELOCITY),
        "deadlift_velocity_factor": DEADLIFT_VELOCITY_FACTOR,
        "render_options": {k: v for k, v in render_options.items()},
        "lifters": lifters,
        "package_version": package_version(),
    }  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(study, indent=1, sort_keys=True, default=str)
    atomic_write_bytes(text.encode(), out / "study.json")
    tsv = manifest.to_csv(sep="\t", index=False, lineterminator="\n")
    atomic_write_bytes(tsv.encode(), out / "samples.tsv")
    return manifest


def _simulate_job(job: tuple[dict, dict]) -> None:
    row, kw = job
    simulate_video(row, **kw)


__all__ = [
    "MANIFEST_COLUMNS", "RENDER_OPTIONS", "Lifter", "Population", "build_motion", "camera_shake", "make_lifter",
    "plan_reps", "simulate_study", "simulate_video", "study_manifest",
]  # fmt: skip
