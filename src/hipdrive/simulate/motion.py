"""The planar (sagittal) lifter: reference paths, rep timing, load behaviour, poses.

Coordinates are metres in the sagittal plane: ``x`` forward (towards the toes),
``y`` up, the ankle joint at ``x = 0``, the floor at ``y = 0``. The feet stay
flat and fixed.

How a pose is made
------------------
A lifter's technique for one lift is a *reference path* over a depth parameter
``s`` (0 = standing / lockout, 1 = squat bottom / deadlift set-up): knee flexion,
trunk angle and (deadlift) arm angle change smoothly with ``s``, and the hip's
horizontal position follows from keeping the bar over the mid-foot, the balance
condition of a loaded barbell lift (Hales 2010; Kilgore & Rippetoe 2007).
The bar proxy's height along the path, ``y(s)``, is monotonic, so a motion is
specified by the proxy's vertical trajectory over time plus a trunk-angle
perturbation (hip drive, chest-up, hip shoot): at every instant the proxy height
and trunk angle fix the shoulder, the balance condition fixes the bar and the
hip, and the knee follows from two-link inverse kinematics between ankle and
hip. Segment lengths are therefore constant by construction.

Rep timing and load behaviour
-----------------------------
Concentric mean velocity falls linearly with relative load (the load-velocity
relationship; Gonzalez-Badillo & Sanchez-Medina 2010) with a per-lifter
intercept and slope (:data:`LOAD_VELOCITY`), so the ascent lasts
``range of motion / mean velocity``. A sticking region (a dip in upward bar
velocity after the first peak; van den Tillaar & Ettema 2009, van den Tillaar
et al. 2014, Larsen et al. 2021) appears with a probability and depth that grow
with %1RM. Hip drive (the trunk-angle change from the bottom to the velocity
minimum, or to 30 % of ascent time without one) grows with %1RM by a
configurable slope with per-lifter random effects.

References
----------
Gonzalez-Badillo JJ, Sanchez-Medina L (2010). Movement velocity as a measure of
loading intensity in resistance training. Int J Sports Med 31:347-352.
doi:10.1055/s-0030-1248333
Hales M (2010). Improving the deadlift: understanding biomechanical constraints
and physiological adaptations to resistance exercise. Strength Cond J
32(4):44-51. doi:10.1519/SSC.0b013e3181e5e300
Kilgore L, Rippetoe M (2007). Redefining fitness for health and fitness
professionals. J Exerc Physiol Online 10(1):34-39.
Larsen S, Kristiansen E, van den Tillaar R (2021). Effects of subjective and
objective autoregulation methods for intensity and volume on enhancing maximal
strength during resistance-training interventions: a systematic review. PeerJ
9:e10663. (and Larsen S et al. 2021, New insights about the sticking region in
back squats, Sports 9:53. doi:10.3390/sports9040053)
van den Tillaar R, Ettema G (2009). Analysis of the sticking region in the
bench press. J Sports Sci 27:1047-1054. doi:10.1080/02640410903144428
van den Tillaar R, Andersen V, Saeterbakken AH (2014). The existence of a
sticking region in free weight squats. J Hum Kinet 42:63-71.
doi:10.2478/hukin-2014-0061
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np

from hipdrive.errors import InputError
from hipdrive.simulate.anthropometry import Anthropometry
from hipdrive.simulate.timing import (
    AscentShape,
    bump,
    descent_fraction,
    descent_time_at_fraction,
    descent_velocity_shape,
)

#: Variants per lift; the first is the default when the manifest leaves it empty.
VARIANTS: dict[str, tuple[str, ...]] = {
    "squat": ("high_bar", "low_bar", "front"),
    "deadlift": ("conventional",),
}
_VARIANT_ALIASES = {
    "back": "high_bar",
    "highbar": "high_bar",
    "lowbar": "low_bar",
    "front_squat": "front",
}

#: Population load-velocity profile of the free-weight back squat, mean
#: concentric velocity ``MV = intercept + slope * pct_1rm`` (m/s, pct in %).
#: Derived by an ordinary least-squares line per person through the 52 people
#: of ``squat_loadvelocity_silvhua_data_freeweight.csv`` (20/40/60/80/90/100
#: %1RM); ``benchmarks/bench_simulate.py`` re-derives these numbers when the
#: table is present. Mean MV there: 1.07 m/s at 20 %, 0.28 m/s at 100 %.
LOAD_VELOCITY: dict[str, float] = {
    "intercept_m_s": 1.2871,  # mean of per-person intercepts
    "intercept_sd_m_s": 0.0508,  # between-person SD of intercepts
    "slope_m_s_per_pct": -0.009868,  # mean of per-person slopes
    "slope_sd_m_s_per_pct": 0.000557,  # between-person SD of slopes
    "intercept_slope_corr": -0.963,  # correlation of intercept and slope across people
    "residual_sd_m_s": 0.0326,  # within-person residual SD around each person's line (df = 6 - 2 per person)
}
#: Deadlift mean velocities are lower than the squat's at equal %1RM (the
#: minimal velocity threshold of the deadlift is ~0.15-0.2 m/s against ~0.3 for
#: the squat; Moran-Navarro et al. 2021, Sports Biomech,
#: doi:10.1080/14763141.2019.1597156). Assumed, not fitted: squat profile x 0.75.
DEADLIFT_VELOCITY_FACTOR = 0.75

#: Bar and hand positions relative to the shoulder joint in the trunk frame
#: (``a`` along the chest normal, forward positive; ``b`` along the trunk, up
#: positive), as fractions of body height. High bar rests on the upper
#: trapezius, low bar on the posterior deltoids ~5 cm lower, front squat on
#: the anterior deltoids (Glassbrook et al. 2017, J Strength Cond Res
#: 31:2618-2634, doi:10.1519/JSC.0000000000002005).
BAR_OFFSET_BH: dict[str, tuple[float, float]] = {
    "high_bar": (-0.046, 0.022),
    "low_bar": (-0.058, -0.012),
    "front": (0.060, 0.008),
}
#: Wrist relative to the bar (back squats; trunk frame, fractions of height).
WRIST_OFFSET_BH: dict[str, tuple[float, float]] = {
    "high_bar": (-0.030, -0.025),
    "low_bar": (-0.040, -0.050),
}
#: Plate radius (IWF/IPF 450 mm plates) and bar radius in metres.
PLATE_RADIUS_M = 0.225
BAR_RADIUS_M = 0.014

#: Names of the sagittal points :func:`solve_pose` returns.
POSE_POINTS = (
    "ankle",
    "heel",
    "toe",
    "knee",
    "hip",
    "shoulder",
    "elbow",
    "wrist",
    "bar",
    "ear",
    "eye",
    "nose",
    "head",
)


def normalize_variant(lift: str, variant: str | None) -> str:
    """Canonical variant name for ``lift`` (empty -> the lift's default)."""
    if lift not in VARIANTS:
        raise InputError(f"lift must be one of {sorted(VARIANTS)}, got {lift!r}")
    v = (variant or "").strip().lower().replace("-", "_").replace(" ", "_")
    if v in ("", "nan", "none"):
        return VARIANTS[lift][0]
    v = _VARIANT_ALIASES.get(v, v)
    if v not in VARIANTS[lift]:
        raise InputError(
            f"variant {variant!r} is not a {lift} variant (one of {', '.join(VARIANTS[lift])})"
        )
    return v


@dataclass(frozen=True)
class LiftStyle:
    """One lifter's technique for one lift: the end points of the reference path.

    Angles in degrees. Knee flexion is ``180 - knee angle``; trunk angle is
    mid-hip -> mid-shoulder from vertical (0 = upright, positive = leaning
    forward); arm angle (deadlift) is wrist -> shoulder from vertical, positive
    with the shoulders in front of the bar.
    """

    lift: str
    variant: str
    knee_flexion_top_deg: float
    knee_flexion_bottom_deg: float
    trunk_top_deg: float
    trunk_bottom_deg: float
    trunk_lean_exponent: float = 1.0
    arm_top_deg: float = 0.0
    arm_bottom_deg: float = 0.0
    trunk_hold_exponent: float = 1.0

    def trunk_profile(self, s):
        """Trunk angle along the path: ``top + (bottom - top) * (1 - (1 - s**p)**q)``.

        ``p = trunk_lean_exponent``, ``q = trunk_hold_exponent``; ``q > 1``
        keeps the back angle nearly constant off the floor and extends the hips
        late, the deadlift pattern (Hales 2010); ``p = q = 1`` is linear.
        """
        g = (
            1.0
            - (1.0 - np.asarray(s, float) ** self.trunk_lean_exponent) ** self.trunk_hold_exponent
        )
        return self.trunk_top_deg + (self.trunk_bottom_deg - self.trunk_top_deg) * g

    def to_dict(self) -> dict:
        return asdict(self)


def _unit(deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r = np.deg2rad(deg)
    return np.sin(r), np.cos(r)


def knee_by_inverse_kinematics(
    ankle: np.ndarray, hip: np.ndarray, *, shank_m: float, thigh_m: float
) -> np.ndarray:
    """Knee position of the two-link leg ankle -> knee -> hip, knee forward (+x).

    Distances beyond full extension are clipped to a straight leg.
    """
    d_vec = hip - ankle
    d = np.linalg.norm(d_vec, axis=-1)
    d = np.clip(d, abs(shank_m - thigh_m) + 1e-9, (shank_m + thigh_m) * (1 - 1e-9))
    ux, uy = d_vec[..., 0] / d, d_vec[..., 1] / d
    cos_g = np.clip((shank_m**2 + d**2 - thigh_m**2) / (2 * shank_m * d), -1.0, 1.0)
    sin_g = np.sqrt(1 - cos_g**2)
    # rotate the unit ankle->hip vector clockwise by gamma: the knee points forward
    return ankle + shank_m * np.stack([ux * cos_g + uy * sin_g, -ux * sin_g + uy * cos_g], axis=-1)


def _elbow_by_inverse_kinematics(shoulder, wrist, upper_m, fore_m, *, counter_clockwise: bool):
    d_vec = wrist - shoulder
    d = np.clip(
        np.linalg.norm(d_vec, axis=-1),
        abs(upper_m - fore_m) + 1e-9,
        (upper_m + fore_m) * (1 - 1e-9),
    )
    ux, uy = d_vec[..., 0] / d, d_vec[..., 1] / d
    cos_g = np.clip((upper_m**2 + d**2 - fore_m**2) / (2 * upper_m * d), -1.0, 1.0)
    sin_g = np.sqrt(1 - cos_g**2) * (1.0 if counter_clockwise else -1.0)
    # rotate the shoulder->wrist line by +-gamma (x forward, y up)
    return shoulder + upper_m * np.stack(
        [ux * cos_g - uy * sin_g, ux * sin_g + uy * cos_g], axis=-1
    )


def _trunk_offset(off_bh: tuple[float, float], height_m: float, trunk_deg):
    """World (dx, dy) of an offset (a, b) given in the trunk frame."""
    s, c = _unit(trunk_deg)
    a, b = off_bh[0] * height_m, off_bh[1] * height_m
    # chest normal n = (cos, -sin), trunk axis t = (sin, cos)
    return a * c + b * s, -a * s + b * c


def _arm_lengths(anthro: Anthropometry, variant: str) -> tuple[float, float]:
    """Projected upper-arm and forearm lengths in the side view.

    With the hands on a squat bar the grip is ~1.5-2x shoulder width, so the
    arms point sideways and their sagittal projection is shorter (factor 0.92,
    an approximation); for the deadlift the arms hang in the sagittal plane.
    """
    k = 0.92 if variant in ("high_bar", "low_bar") else 1.0
    return anthro.upper_arm_m * k, anthro.forearm_m * k


def _hand_offsets_bh(anthro: Anthropometry, variant: str):
    """Wrist (and, for the front rack, elbow) offsets from the shoulder in the trunk frame.

    Back squats: the wrist is fixed relative to the bar (:data:`WRIST_OFFSET_BH`)
    and the elbow found by inverse kinematics. Front rack: the upper arm points
    forward at 75 deg from the trunk axis (elbows up), the forearm runs from the
    elbow towards the bar, so both points are rigid in the trunk frame.
    """
    H = anthro.height_m
    ba, bb = BAR_OFFSET_BH[variant]
    if variant != "front":
        wa, wb = WRIST_OFFSET_BH[variant]
        return (ba + wa, bb + wb), None
    ang = np.deg2rad(105.0)  # from the trunk's up axis towards the chest normal
    ea, eb = anthro.upper_arm_m / H * np.sin(ang), anthro.upper_arm_m / H * np.cos(ang)
    da, db = ba - ea, bb - eb
    norm = np.hypot(da, db)
    fo = anthro.forearm_m / H
    return (ea + fo * da / norm, eb + fo * db / norm), (ea, eb)


def _deadlift_grip_m(anthro: Anthropometry) -> float:
    """Wrist -> bar centre distance with the bar in the hands (0.4 hand length)."""
    return 0.4 * anthro.hand_m


def solve_pose(
    anthro: Anthropometry, style: LiftStyle, proxy_y_m, trunk_deg, arm_deg=None
) -> dict[str, np.ndarray]:
    """Sagittal joint positions for given bar-proxy heights and trunk angles.

    Parameters
    ----------
    anthro : Anthropometry
    style : LiftStyle
    proxy_y_m : (n,) array
        Height of the bar proxy (mid-shoulder for back squats, wrist for front
        squats and deadlifts; docs/definitions.md, "Bar proxy") above the floor, metres.
    trunk_deg : (n,) array
        Trunk angle from vertical, degrees (0 = upright).
    arm_deg : (n,) array, optional
        Deadlift arm angle from vertical (shoulders in front of the bar positive).

    Returns
    -------
    dict
        ``name -> (n, 2)`` arrays for :data:`POSE_POINTS`, metres.

    Notes
    -----
    The bar stays vertically over the mid-foot (balance); the hip is the
    shoulder minus the trunk vector; the knee comes from
    :func:`knee_by_inverse_kinematics`.
    """
    H = anthro.height_m
    p = np.atleast_1d(np.asarray(proxy_y_m, dtype=float))
    phi = np.broadcast_to(np.asarray(trunk_deg, dtype=float), p.shape)
    n = p.shape[0]
    x_mf = anthro.midfoot_x_m
    ts, tc = _unit(phi)
    if style.lift == "deadlift":
        alpha = (
            np.zeros(n) if arm_deg is None else np.broadcast_to(np.asarray(arm_deg, float), p.shape)
        )
        a_s, a_c = _unit(alpha)
        g = _deadlift_grip_m(anthro)
        arm = anthro.upper_arm_m + anthro.forearm_m
        wrist = np.stack([x_mf + g * a_s, p], axis=-1)
        bar = np.stack([np.full(n, x_mf), p - g * a_c], axis=-1)
        shoulder = wrist + arm * np.stack([a_s, a_c], axis=-1)
        elbow = shoulder - anthro.upper_arm_m * np.stack([a_s, a_c], axis=-1)
    else:
        bdx, bdy = _trunk_offset(BAR_OFFSET_BH[style.variant], H, phi)
        w_off, e_off = _hand_offsets_bh(anthro, style.variant)
        wdx, wdy = _trunk_offset(w_off, H, phi)
        sx = x_mf - bdx
        sy = p if style.variant != "front" else p - wdy
        shoulder = np.stack([sx, sy], axis=-1)
        bar = shoulder + np.stack([bdx, bdy], axis=-1)
        wrist = shoulder + np.stack([wdx, wdy], axis=-1)
        if e_off is None:
            up, fo = _arm_lengths(anthro, style.variant)
            elbow = _elbow_by_inverse_kinematics(shoulder, wrist, up, fo, counter_clockwise=True)
        else:
            edx, edy = _trunk_offset(e_off, H, phi)
            elbow = shoulder + np.stack([edx, edy], axis=-1)
    hip = shoulder - anthro.trunk_m * np.stack([ts, tc], axis=-1)
    ankle = np.broadcast_to(np.array([0.0, anthro.ankle_height_m]), (n, 2)).copy()
    knee = knee_by_inverse_kinematics(ankle, hip, shank_m=anthro.shank_m, thigh_m=anthro.thigh_m)
    heel = np.broadcast_to(
        np.array([-anthro.heel_behind_ankle_m, 0.25 * anthro.ankle_height_m]), (n, 2)
    ).copy()
    toe = np.broadcast_to(
        np.array(
            [
                anthro.foot_length_m - anthro.heel_behind_ankle_m - 0.012 * H,
                0.3 * anthro.ankle_height_m,
            ]
        ),
        (n, 2),
    ).copy()
    # head: pitched forward with the trunk, but less (gaze forward-down)
    hs, hc = _unit(0.55 * phi)
    up_h = np.stack([hs, hc], axis=-1)
    fw_h = np.stack([hc, -hs], axis=-1)
    ear = shoulder + anthro.shoulder_to_ear_m * up_h + 0.012 * H * fw_h
    head = ear + 0.022 * H * fw_h + 0.028 * H * up_h
    eye = ear + 0.072 * H * fw_h + 0.006 * H * up_h
    nose = ear + 0.095 * H * fw_h - 0.022 * H * up_h
    return {
        "ankle": ankle, "heel": heel, "toe": toe, "knee": knee, "hip": hip, "shoulder": shoulder,
        "elbow": elbow, "wrist": wrist, "bar": bar, "ear": ear, "eye": eye, "nose": nose, "head": head,
    }  # fmt: skip


def _proxy_height_along(anthro: Anthropometry, style: LiftStyle, knee_flex_deg, trunk_deg, arm_deg):
    """Proxy height for a leg with given knee flexion, trunk and arm angles.

    The hip's horizontal position comes from balance; its height from the
    hip-ankle distance of a leg flexed by ``knee_flex_deg`` (law of cosines).
    NaN where the hip cannot reach the required horizontal position.
    """
    H = anthro.height_m
    Ls, Lt = anthro.shank_m, anthro.thigh_m
    d2 = Ls**2 + Lt**2 + 2 * Ls * Lt * np.cos(np.deg2rad(knee_flex_deg))
    ts, tc = _unit(trunk_deg)
    x_mf = anthro.midfoot_x_m
    if style.lift == "deadlift":
        a_s, a_c = _unit(arm_deg)
        g = _deadlift_grip_m(anthro)
        arm = anthro.upper_arm_m + anthro.forearm_m
        sx = x_mf + (g + arm) * a_s
        hx = sx - anthro.trunk_m * ts
        hy = anthro.ankle_height_m + np.sqrt(np.where(d2 >= hx**2, d2 - hx**2, np.nan))
        sy = hy + anthro.trunk_m * tc
        return sy - arm * a_c  # wrist height
    bdx, bdy = _trunk_offset(BAR_OFFSET_BH[style.variant], H, trunk_deg)
    wdx, wdy = _trunk_offset(_hand_offsets_bh(anthro, style.variant)[0], H, trunk_deg)
    hx = x_mf - bdx - anthro.trunk_m * ts
    hy = anthro.ankle_height_m + np.sqrt(np.where(d2 >= hx**2, d2 - hx**2, np.nan))
    sy = hy + anthro.trunk_m * tc
    return sy if style.variant != "front" else sy + wdy


@dataclass(frozen=True)
class ReferencePath:
    """Tabulated reference path: angles and proxy height over ``s`` in [0, 1]."""

    s: np.ndarray
    knee_flexion_deg: np.ndarray
    trunk_deg: np.ndarray
    arm_deg: np.ndarray
    proxy_y_m: np.ndarray

    @property
    def rom_m(self) -> float:
        """Vertical range of motion of the bar proxy, metres."""
        return float(self.proxy_y_m[0] - self.proxy_y_m[-1])

    def at_depth(self, depth_fraction) -> tuple[np.ndarray, np.ndarray]:
        """Trunk and arm angles where the proxy is ``depth_fraction`` of the ROM down."""
        q = (self.proxy_y_m[0] - self.proxy_y_m) / self.rom_m  # increasing 0..1
        return np.interp(depth_fraction, q, self.trunk_deg), np.interp(
            depth_fraction, q, self.arm_deg
        )


def reference_path(
    anthro: Anthropometry, style: LiftStyle, *, n_points: int = 401
) -> ReferencePath:
    """Tabulate a lifter's reference path (see module notes).

    Knee flexion and arm angle change linearly with ``s``; the trunk angle as
    :meth:`LiftStyle.trunk_profile`.
    """
    s = np.linspace(0.0, 1.0, n_points)
    kf = (
        style.knee_flexion_top_deg
        + (style.knee_flexion_bottom_deg - style.knee_flexion_top_deg) * s
    )
    tr = style.trunk_profile(s)
    ar = style.arm_top_deg + (style.arm_bottom_deg - style.arm_top_deg) * s
    y = _proxy_height_along(anthro, style, kf, tr, ar)
    if np.all(np.isfinite(y)) and np.argmax(y) > 0:
        # a little forward lean can lift the hip over the ankle near the top:
        # the lockout is then the highest point of the path
        top = np.argmax(y)
        s = np.linspace(s[top], 1.0, n_points)
        kf = (
            style.knee_flexion_top_deg
            + (style.knee_flexion_bottom_deg - style.knee_flexion_top_deg) * s
        )
        tr = style.trunk_profile(s)
        ar = style.arm_top_deg + (style.arm_bottom_deg - style.arm_top_deg) * s
        y = _proxy_height_along(anthro, style, kf, tr, ar)
    if not np.all(np.isfinite(y)) or np.any(np.diff(y) >= 0):
        raise InputError(
            f"infeasible {style.lift} technique for a {anthro.height_m:.2f} m lifter "
            f"(trunk {style.trunk_bottom_deg:.0f} deg, knee flexion {style.knee_flexion_bottom_deg:.0f} deg)"
        )
    return ReferencePath(s=s, knee_flexion_deg=kf, trunk_deg=tr, arm_deg=ar, proxy_y_m=y)


def deadlift_setup_knee_flexion(anthro: Anthropometry, trunk_deg: float, arm_deg: float) -> float:
    """Knee flexion (deg) that puts the bar on the floor (plate radius) at set-up."""
    kf = np.linspace(0.0, 160.0, 1601)
    style = LiftStyle("deadlift", "conventional", 0, 0, 0, 0)
    wrist = _proxy_height_along(
        anthro, style, kf, np.full_like(kf, trunk_deg), np.full_like(kf, arm_deg)
    )
    bar = wrist - _deadlift_grip_m(anthro) * np.cos(np.deg2rad(arm_deg))
    ok = np.isfinite(bar)
    if not ok.any() or bar[ok].min() > PLATE_RADIUS_M or bar[ok].max() < PLATE_RADIUS_M:
        raise InputError(f"no deadlift set-up reaches the floor with trunk {trunk_deg:.0f} deg")
    kf, bar = kf[ok], bar[ok]
    return float(np.interp(PLATE_RADIUS_M, bar[::-1], kf[::-1]))


# ----------------------------------------------------------------------------
# velocity shapes
# ----------------------------------------------------------------------------


# ----------------------------------------------------------------------------
# reps and the whole clip
# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RepPlan:
    """Timing and load behaviour of one repetition (all times in seconds).

    Squat: ``t_start`` = descent begins; bottom = ``t_start + descent_s +
    pause_s`` (the instant the ascent begins); lockout = bottom + ``ascent_s``.
    Deadlift: ``t_start`` = lift-off = bottom; lockout = ``t_start + ascent_s``;
    after ``hold_s`` the bar is lowered over ``descent_s`` (end = bar on floor).
    """

    rep: int
    pct_1rm: float
    t_start: float
    descent_s: float
    pause_s: float
    ascent_s: float
    hold_s: float
    mean_velocity_m_s: float
    dip_depth: float
    dip_centre: float
    hip_drive_deg: float
    chest_up_deg: float = 0.0
    hip_shoot_deg: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class LifterMotion:
    """A whole clip of one lifter: anthropometry, technique and the reps.

    :meth:`state` and :meth:`pose` evaluate the motion at any times (vectorised).
    """

    anthro: Anthropometry
    style: LiftStyle
    reps: list[RepPlan]
    duration_s: float
    path: ReferencePath = field(init=False)
    shapes: list[AscentShape] = field(init=False)
    eval_tau: list[float] = field(init=False)
    events_tau: list[tuple[float, float, float] | None] = field(init=False)
    _amp: list[float] = field(init=False)
    reach_scale: list[float] = field(init=False)

    def __post_init__(self):
        self.path = reference_path(self.anthro, self.style)
        self.shapes = [AscentShape(r.dip_depth, r.dip_centre) for r in self.reps]
        self.events_tau = [sh.events() for sh in self.shapes]
        self.eval_tau = [0.3 if ev is None else ev[1] for ev in self.events_tau]
        # amplitude of the hip-drive bump so that trunk(eval) - trunk(bottom) == hip_drive_deg
        self._amp = []
        trunk_bottom = self.path.trunk_deg[-1]
        for r, sh, te in zip(self.reps, self.shapes, self.eval_tau, strict=True):
            ref_at_eval, _ = self.path.at_depth(1.0 - sh.fraction(te))
            # the hip-shoot fault comes on top: it adds to the trunk change at v_min
            self._amp.append(float(r.hip_drive_deg - (ref_at_eval - trunk_bottom)))
        self.reach_scale = [self._fit_reach(i) for i in range(len(self.reps))]

    def _fit_reach(self, i: int) -> float:
        """Shrink rep ``i``'s trunk perturbations until the legs can reach the hip.

        A large hip drive on a nearly straight leg would ask for a hip beyond
        the leg's length. The hip-drive bump is scaled down first (5 % steps),
        then the faults (hip shoot, chest up), until the hip stays within reach
        of the leg (shank + thigh). Returns the scale of the hip-drive bump
        (1.0 when nothing had to change); the truth table is computed from the
        realised motion either way.
        """
        r = self.reps[i]
        t = self.bottom_time(r) + np.linspace(0.0, 1.0, 241) * r.ascent_s
        reach = (1 - 1e-6) * (self.anthro.shank_m + self.anthro.thigh_m)
        amp0 = self._amp[i]

        def fits() -> bool:
            pose = self.pose(t)
            return bool(np.max(np.linalg.norm(pose["hip"] - pose["ankle"], axis=1)) <= reach)

        for scale in np.linspace(1.0, 0.0, 21):
            self._amp[i] = amp0 * scale
            if fits():
                return float(scale)
        for scale in np.linspace(0.95, 0.0, 20):
            self.reps[i] = replace(
                r, hip_shoot_deg=r.hip_shoot_deg * scale, chest_up_deg=r.chest_up_deg * scale
            )
            if fits():
                break
        return 0.0

    @property
    def lift(self) -> str:
        return self.style.lift

    def bottom_time(self, r: RepPlan) -> float:
        return r.t_start + (r.descent_s + r.pause_s if self.lift == "squat" else 0.0)

    def start_time(self, i: int, rom_fraction: float) -> float:
        """When rep ``i``'s bar proxy is ``rom_fraction`` of the ROM from rest.

        Squat: into the descent; deadlift: the lift-off that the analysis
        times (:func:`hipdrive.analysis.segment._left_rest`). The motion itself begins at
        ``t_start`` with zero velocity, so this is a little later.
        """
        r = self.reps[i]
        if self.lift == "squat":
            return r.t_start + r.descent_s * float(descent_time_at_fraction(rom_fraction))
        return r.t_start + r.ascent_s * float(self.shapes[i].time_at_fraction(rom_fraction))

    def ascent_end_time(self, r: RepPlan) -> float:
        """When the ascent ends with the bar at rest at the top (zero velocity)."""
        return self.bottom_time(r) + r.ascent_s

    def arrival_time(self, i: int, rom_fraction: float) -> float:
        """When rep ``i``'s bar proxy comes within ``rom_fraction`` of the ROM of
        the top of its ascent (squat: standing; deadlift: the lockout), as the
        analysis times them (:func:`hipdrive.analysis.segment._back_at_rest`,
        :func:`hipdrive.analysis.segment._arrived_at_top`); the bar slows into
        the top, so this is a little before :meth:`ascent_end_time`.
        """
        r = self.reps[i]
        return self.bottom_time(r) + r.ascent_s * float(
            self.shapes[i].time_at_fraction(1.0 - rom_fraction)
        )

    def landing_time(self, i: int, rom_fraction: float) -> float:
        """Deadlift: when rep ``i``'s lowered bar comes within ``rom_fraction`` of
        the ROM of the floor (:func:`hipdrive.analysis.segment._back_at_rest`)."""
        r = self.reps[i]
        lowering = r.descent_s * float(descent_time_at_fraction(1.0 - rom_fraction))
        return self.ascent_end_time(r) + r.hold_s + lowering

    def end_time(self, r: RepPlan) -> float:
        if self.lift == "squat":
            return self.ascent_end_time(r)
        return self.ascent_end_time(r) + r.hold_s + r.descent_s

    @staticmethod
    def _hip_shoot(tau, r: RepPlan):
        if r.hip_shoot_deg == 0:
            return np.zeros_like(tau, dtype=float)
        # hips rise first off the floor (peak at 20 % of the pull) and the back
        # stays more horizontal until the bar is well past the knees
        return r.hip_shoot_deg * bump(tau, 0.2, 0.7)

    def state(self, t) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Bar-proxy height (m), trunk angle (deg) and arm angle (deg) at times ``t``."""
        t = np.atleast_1d(np.asarray(t, dtype=float))
        rest_depth = 0.0 if self.lift == "squat" else 1.0
        depth = np.full(t.shape, rest_depth)
        extra = np.zeros(t.shape)
        for r, sh, te, amp in zip(self.reps, self.shapes, self.eval_tau, self._amp, strict=True):
            t_b, t_l = self.bottom_time(r), self.ascent_end_time(r)
            if self.lift == "squat":
                m = (t >= r.t_start) & (t < r.t_start + r.descent_s)
                depth[m] = descent_fraction((t[m] - r.t_start) / r.descent_s)
                depth[(t >= r.t_start + r.descent_s) & (t < t_b)] = 1.0
            m = (t >= t_b) & (t <= t_l)
            tau = (t[m] - t_b) / r.ascent_s
            depth[m] = 1.0 - sh.fraction(tau)
            dphi = amp * bump(tau, te, min(te + 0.45, 0.97)) + self._hip_shoot(tau, r)
            if r.chest_up_deg:
                dphi -= r.chest_up_deg * np.sin(np.pi * np.clip((tau - te) / (1 - te), 0, 1)) ** 2
            extra[m] = dphi
            if self.lift == "deadlift":
                depth[(t > t_l) & (t < t_l + r.hold_s)] = 0.0
                m = (t >= t_l + r.hold_s) & (t < t_l + r.hold_s + r.descent_s)
                depth[m] = descent_fraction((t[m] - t_l - r.hold_s) / r.descent_s)
        trunk, arm = self.path.at_depth(depth)
        proxy = self.path.proxy_y_m[0] - depth * self.path.rom_m
        return proxy, trunk + extra, arm

    def proxy_velocity(self, t) -> np.ndarray:
        """Upward velocity of the bar proxy (m/s) at times ``t``, analytic."""
        t = np.atleast_1d(np.asarray(t, dtype=float))
        v = np.zeros(t.shape)
        rom = self.path.rom_m
        for r, sh in zip(self.reps, self.shapes, strict=True):
            t_b, t_l = self.bottom_time(r), self.ascent_end_time(r)
            if self.lift == "squat":
                m = (t >= r.t_start) & (t < r.t_start + r.descent_s)
                v[m] = -rom / r.descent_s * descent_velocity_shape((t[m] - r.t_start) / r.descent_s)
            m = (t >= t_b) & (t <= t_l)
            v[m] = rom / r.ascent_s * sh.velocity((t[m] - t_b) / r.ascent_s)
            if self.lift == "deadlift":
                m = (t >= t_l + r.hold_s) & (t < t_l + r.hold_s + r.descent_s)
                v[m] = (
                    -rom
                    / r.descent_s
                    * descent_velocity_shape((t[m] - t_l - r.hold_s) / r.descent_s)
                )
        return v

    def pose(self, t) -> dict[str, np.ndarray]:
        """Sagittal joint positions (metres) at times ``t``; see :func:`solve_pose`."""
        proxy, trunk, arm = self.state(t)
        return solve_pose(self.anthro, self.style, proxy, trunk, arm)
