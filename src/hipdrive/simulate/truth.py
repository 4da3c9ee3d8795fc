"""Ground truth beside each simulated video: keypoints and per-rep metrics.

The camera is orthographic (a telephoto phone far from the lifter), looking at
the lifter's ``camera_side``; ``yaw_deg`` turns it towards the lifter's front.
True keypoints are the model's joints projected into the SAME upright pixel
frame as the rendered video (camera shake included), with COCO-17 names plus
heels and big toes, written through :func:`hipdrive.contracts.keypoints.write_keypoints`
with ``backend="truth"``.

The true per-rep table uses the column names of the analysis
(:data:`REP_COLUMNS`) and the definitions of docs/definitions.md, evaluated on the
noise-free projected keypoints (without camera shake, which is not lifter
motion) at the exact event times of the model, not at frame times.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from hipdrive.analysis.metrics import furthest_from_one
from hipdrive.analysis.segment import LOCKOUT_ROM_FRACTION, REST_ROM_FRACTION
from hipdrive.contracts.files import METADATA_KEY, atomic_write_table
from hipdrive.contracts.keypoints import KEYPOINT_NAMES, frames_to_long, write_keypoints
from hipdrive.contracts.reps import NULLABLE_INT_COLUMNS, REP_COLUMNS, REP_SCHEMA, view_of
from hipdrive.simulate.motion import LifterMotion, RepPlan

#: Dtype groups of the per-rep contract, for the truth rows' ``None`` handling.
_STR = tuple(f.name for f in REP_SCHEMA if f.type == pa.string())
_BOOL = tuple(f.name for f in REP_SCHEMA if f.type == pa.bool_())
_INT32 = tuple(f.name for f in REP_SCHEMA if f.type == pa.int32() and f.name not in NULLABLE_INT_COLUMNS)

#: Which sagittal model point each keypoint is, and its lateral offset (fraction
#: of body height; + = towards the camera for the near side).
_KEYPOINT_SOURCE = {
    "nose": ("nose", 0.0), "eye": ("eye", 0.032), "ear": ("ear", 0.072), "shoulder": ("shoulder", 0.129),
    "elbow": ("elbow", 0.16), "wrist": ("wrist", 0.2), "hip": ("hip", 0.095), "knee": ("knee", 0.11),
    "ankle": ("ankle", 0.085), "heel": ("heel", 0.08), "big_toe": ("toe", 0.1),
}  # fmt: skip


@dataclass(frozen=True)
class CameraView:
    """Orthographic side camera mapping model metres to upright image pixels.

    ``origin_x_px`` is where the ankle (x = 0) lands for a lifter facing right;
    a lifter facing left is the exact mirror image (``x -> width - 1 - x``).
    """

    width: int
    height: int
    px_per_m: float
    origin_x_px: float
    ground_y_px: float
    facing: str  # left | right (= the camera side)
    yaw_deg: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)

    def project(self, x_m, y_m, lateral_m) -> tuple[np.ndarray, np.ndarray]:
        """Pixel (u, v) of points at sagittal (x, y) and lateral offset (towards camera +)."""
        yaw = np.deg2rad(self.yaw_deg)
        u = self.origin_x_px + self.px_per_m * (
            np.asarray(x_m) * np.cos(yaw) - np.asarray(lateral_m) * np.sin(yaw)
        )
        if self.facing == "left":
            u = (self.width - 1) - u
        v = self.ground_y_px - self.px_per_m * np.asarray(y_m)
        return u, v


def default_camera(
    height_m: float,
    *,
    facing: str,
    width: int = 540,
    height: int = 960,
    yaw_deg: float = 0.0,
    offset_x_frac: float = 0.0,
) -> CameraView:
    """Camera that frames a standing lifter of ``height_m`` with the bar and plates.

    The lifter plus 0.1 H of headroom fills ~70 % of the shorter of the image
    height and 1.6x the width; the feet stand at 88 % of the height.
    """
    span_px = min(0.70 * height, 1.6 * width * 0.70)
    px_per_m = span_px / (1.1 * height_m)
    return CameraView(
        width=width, height=height, px_per_m=px_per_m,
        origin_x_px=(0.5 + offset_x_frac) * (width - 1) - 0.05 * height_m * px_per_m,
        ground_y_px=0.88 * height, facing=facing, yaw_deg=yaw_deg,
    )  # fmt: skip


def _keypoint_sources(facing: str) -> tuple[list[str], np.ndarray]:
    """Model point and signed lateral offset (fraction of height) of each keypoint."""
    src, lat = [], []
    for name in KEYPOINT_NAMES:
        side, part = ("", name) if name == "nose" else name.split("_", 1)
        point, offset = _KEYPOINT_SOURCE[part]
        src.append(point)
        lat.append(0.0 if not side else (offset if side == facing else -offset))
    return src, np.array(lat)


def project_keypoints(
    pose: dict[str, np.ndarray], camera: CameraView, height_m: float
) -> np.ndarray:
    """``(n, len(KEYPOINT_NAMES), 2)`` pixel coordinates of the sagittal ``pose``.

    The camera films the lifter's ``camera.facing`` side: those keypoints are
    the near ones (lateral offset towards the camera).
    """
    src, lat = _keypoint_sources(camera.facing)
    xy = np.stack([pose[p] for p in src], axis=1)  # (n, k, 2)
    u, v = camera.project(xy[..., 0], xy[..., 1], lat * height_m)
    return np.stack([u, v], axis=-1)


_IDX = {n: i for i, n in enumerate(KEYPOINT_NAMES)}


def _mid(kp: np.ndarray, part: str) -> np.ndarray:
    return 0.5 * (kp[:, _IDX[f"left_{part}"]] + kp[:, _IDX[f"right_{part}"]])


def _up_forward(vec: np.ndarray, facing: str) -> tuple[np.ndarray, np.ndarray]:
    """Image vector -> (forward, up) components (image y points down)."""
    sign = 1.0 if facing == "right" else -1.0
    return sign * vec[:, 0], -vec[:, 1]


def _angle_from_vertical(a: np.ndarray, b: np.ndarray, facing: str) -> np.ndarray:
    """Angle of the segment a -> b from vertical, degrees, forward lean positive."""
    fwd, up = _up_forward(b - a, facing)
    return np.degrees(np.arctan2(fwd, up))


def _inner_angle(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Angle a-b-c at b, degrees (0..180)."""
    u, w = a - b, c - b
    cos = np.sum(u * w, axis=1) / (np.linalg.norm(u, axis=1) * np.linalg.norm(w, axis=1))
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def body_angles(kp: np.ndarray, facing: str) -> dict[str, np.ndarray]:
    """Trunk, hip, knee and shin angles (deg) from pixel keypoints.

    Definitions: docs/definitions.md, "Trunk angle" and "Joint angles".

    Trunk: mid-hip -> mid-shoulder from vertical (0 upright, forward positive);
    hip: shoulder-hip-knee; knee: hip-knee-ankle; shin: ankle -> knee from
    vertical (knee forward positive). Both sides are averaged (``side_used="mean"``).
    """
    sh, hp, kn, an = (_mid(kp, p) for p in ("shoulder", "hip", "knee", "ankle"))
    return {
        "trunk": _angle_from_vertical(hp, sh, facing),
        "hip": _inner_angle(sh, hp, kn),
        "knee": _inner_angle(hp, kn, an),
        "shin": _angle_from_vertical(an, kn, facing),
    }


def _proxy_joint(lift: str, variant: str) -> str:
    """Bar proxy (docs/definitions.md, "Bar proxy"): shoulders (back squats), else wrists."""
    return "shoulder" if lift == "squat" and variant != "front" else "wrist"


def _proxy(kp: np.ndarray, lift: str, variant: str) -> np.ndarray:
    """The bar proxy's mid point (:func:`_proxy_joint`) per frame."""
    return _mid(kp, _proxy_joint(lift, variant))


def truth_rep_table(
    motion: LifterMotion, camera: CameraView, *, video_id: str, fps: float, n_frames: int
) -> pd.DataFrame:
    """True per-rep events and metrics (columns :data:`REP_COLUMNS`).

    Parameters
    ----------
    motion : LifterMotion
    camera : CameraView
    video_id : str
    fps : float
        Frame rate; event frames are the frames nearest the exact event times
        (frame ``i`` shows time ``i / fps``).
    n_frames : int

    Notes
    -----
    Definitions follow docs/definitions.md and the analysis: a rep starts (squat
    descent, deadlift lift-off = the deadlift's "bottom", where its ascent
    begins) where the bar proxy is ``REST_ROM_FRACTION`` of its ROM from rest
    (:meth:`LifterMotion.start_time`, as :func:`hipdrive.analysis.segment._left_rest`;
    the model starts moving at ``t_start``, a little earlier) and ends back
    within it (squat: standing = lockout; deadlift: on the floor,
    :meth:`LifterMotion.landing_time`); a pull's lockout is where the bar is
    within ``LOCKOUT_ROM_FRACTION`` of its ROM of the top
    (:meth:`LifterMotion.arrival_time`); the ascent, the concentric phase,
    runs from the bottom to where the bar comes to rest at the top, a little
    after the lockout (:meth:`LifterMotion.ascent_end_time`); sticking
    region after the bottom
    (v_max1 = first peak of upward proxy velocity, v_min = the first local
    minimum after it, v_max2 = the next peak; van den Tillaar et al. 2014,
    J Hum Kinet 42:63-71, doi:10.2478/hukin-2014-0061); primary hip-lead index
    = trunk angle at v_min (30 % of ascent time without a sticking region)
    minus trunk angle at the bottom; rise ratio = hip rise / shoulder rise over
    the first 30 % of ascent time; peak-velocity lag = time of peak upward
    shoulder velocity minus that of the hip. Moment arms are horizontal
    distances from the vertical through the bar proxy to the mid-hip and
    mid-knee. ``_bh`` values divide by the lifter's true height in pixels;
    ``_m_s`` values use the true height in metres. With a sticking region
    absent, every ``v_*`` column, ``sticking_pct_ascent``, the angles at v_min
    and ``moment_arm_ratio_vmin`` are NaN.
    """
    lift, variant = motion.lift, motion.style.variant
    H_m = motion.anthro.height_m
    H_px = H_m * camera.px_per_m
    facing = camera.facing

    # every time any rep needs, evaluated in one call
    plans = []
    for i, (r, ev_tau) in enumerate(zip(motion.reps, motion.events_tau, strict=True)):
        t_s = motion.start_time(i, REST_ROM_FRACTION)
        t_b = t_s if lift == "deadlift" else motion.bottom_time(r)  # deadlift: lift-off
        # the concentric phase ends with the bar at rest at the top; the lockout
        # comes just before it: a squat back within REST_ROM_FRACTION of
        # standing, a pull within LOCKOUT_ROM_FRACTION of the top (as the analysis)
        t_top = motion.ascent_end_time(r)
        t_l = motion.arrival_time(
            i, REST_ROM_FRACTION if lift == "squat" else LOCKOUT_ROM_FRACTION
        )
        t_e = t_l if lift == "squat" else motion.landing_time(i, REST_ROM_FRACTION)
        ev_t = (
            None
            if ev_tau is None
            else tuple(motion.bottom_time(r) + x * r.ascent_s for x in ev_tau)
        )
        t_early = t_b + 0.3 * (t_top - t_b)
        key_t = np.array(
            [t_b, ev_t[1] if ev_t else t_early, t_l, t_early] + (list(ev_t) if ev_t else [t_b] * 3)
        )
        tg = np.linspace(t_b, t_top, max(int(r.ascent_s * 500), 200))  # 2-ms grid
        # the descent: a squat's from the start the analysis times, a pull's lowering
        # from the top to the bar on the floor
        td = (
            np.linspace(t_s, r.t_start + r.descent_s, max(int(r.descent_s * 500), 200))
            if lift == "squat"
            else np.linspace(t_top, t_e, 200)
        )
        plans.append((t_b, t_l, t_top, t_e, ev_t, key_t, tg, td))
    all_t = np.concatenate([np.concatenate(p[5:]) for p in plans])
    all_kp = project_keypoints(motion.pose(all_t), camera, H_m)
    chunks, start = [], 0
    for p in plans:
        sizes = [len(x) for x in p[5:]]
        parts = np.split(all_kp[start : start + sum(sizes)], np.cumsum(sizes)[:-1])
        chunks.append(parts)
        start += sum(sizes)

    def frame_of(t):
        return int(np.clip(np.rint(t * fps), 0, n_frames - 1))

    rows = []
    for r, (t_b, t_l, t_top, t_e, ev_t, _, tg, td), (kp, kpg, kpd) in zip(
        motion.reps, plans, chunks, strict=True
    ):
        Ta = t_top - t_b
        ang = body_angles(kp, facing)
        prox, hip, kne = _proxy(kp, lift, variant), _mid(kp, "hip"), _mid(kp, "knee")
        sh = _mid(kp, "shoulder")
        if ev_t is None:
            ang = {k: np.where(np.arange(7) >= 4, np.nan, v) for k, v in ang.items()}
        # fine grid over the ascent: velocities and the deadlift's knee crossing
        up_sh, up_hip, up_px = (
            -_mid(kpg, "shoulder")[:, 1],
            -_mid(kpg, "hip")[:, 1],
            -_proxy(kpg, lift, variant)[:, 1],
        )
        v_px = np.gradient(up_px, tg)
        lag = tg[np.argmax(np.gradient(up_sh, tg))] - tg[np.argmax(np.gradient(up_hip, tg))]
        rise_ratio = (_up_at(hip, 3) - _up_at(hip, 0)) / (_up_at(sh, 3) - _up_at(sh, 0))
        mcv_bh = (up_px[-1] - up_px[0]) / H_px / Ta
        pcv_bh = float(np.max(v_px)) / H_px

        row = {
            "video_id": video_id, "rep": r.rep, "lift": lift,
            "bottom_s": t_b, "lockout_s": t_l, "end_s": t_e,
            "ascent_duration_s": Ta, "complete": True, "failed": False,
            "sticking_present": ev_t is not None,
            "hip_lead_trunk_change_deg": float(ang["trunk"][1] - ang["trunk"][0]),
            "hip_lead_rise_ratio": float(rise_ratio),
            "hip_lead_peak_velocity_lag_s": float(lag),
            "trunk_angle_bottom_deg": float(ang["trunk"][0]),
            "trunk_angle_lockout_deg": float(ang["trunk"][2]),
            "mean_concentric_velocity_bh_s": float(mcv_bh), "peak_concentric_velocity_bh_s": pcv_bh,
            "mean_concentric_velocity_m_s": float(mcv_bh * H_m), "peak_concentric_velocity_m_s": pcv_bh * H_m,
            "shoulder_bar_travel_ratio": furthest_from_one(
                (up_sh[-1] - up_sh[0]) / (up_px[-1] - up_px[0]),
                (_mid(kpd, "shoulder")[0, 1] - _mid(kpd, "shoulder")[-1, 1])
                / (_proxy(kpd, lift, variant)[0, 1] - _proxy(kpd, lift, variant)[-1, 1]),
            ),
            "hands_up_at_bar_floor": 0.0 if lift == "deadlift" else np.nan,
            "moment_arm_ratio_bottom": _moment_arm_ratio(hip[0], kne[0], prox[0]),
            "moment_arm_ratio_vmin": _moment_arm_ratio(hip[5], kne[5], prox[5]) if ev_t else np.nan,
            "chest_rose_early": r.chest_up_deg > 0,
            "facing": facing, "side_used": "mean", "bar_source": f"body:{_proxy_joint(lift, variant)}",
            "view": view_of(camera.yaw_deg), "camera_yaw_deg": float(camera.yaw_deg),
            "body_size_ratio": 1.0,
            "flag_low_confidence": False, "flag_gap": False, "flag_swap": False,
            "flag_lifter_lost": False, "flag_implausible": False, "implausible_reason": "",
            "quality_ok": True,
        }  # fmt: skip
        if ev_t is not None:
            row.update({
                "v_max1_s": ev_t[0], "v_min_s": ev_t[1], "v_max2_s": ev_t[2],
                "v_max1_frame": frame_of(ev_t[0]), "v_min_frame": frame_of(ev_t[1]), "v_max2_frame": frame_of(ev_t[2]),
                "sticking_pct_ascent": 100.0 * (ev_t[1] - t_b) / Ta,
                "hip_angle_vmin_deg": float(ang["hip"][5]), "knee_angle_vmin_deg": float(ang["knee"][5]),
                "trunk_angle_vmax1_deg": float(ang["trunk"][4]), "trunk_angle_vmin_deg": float(ang["trunk"][5]),
            })  # fmt: skip
        if lift == "squat":
            t_s = td[0]
            row["start_s"] = t_s
            row["descent_duration_s"] = t_b - t_s - r.pause_s
            fwd, _ = _up_forward(_mid(kpd, "knee") - _mid(kpd, "ankle"), facing)
            i_max = int(np.argmax(fwd))
            row["knee_forward_pct_descent"] = 100.0 * (td[i_max] - t_s) / (td[-1] - t_s)
            row["knee_travel_after_max_bh"] = float((fwd[i_max] - fwd[-1]) / H_px)
        else:
            row["start_s"] = t_b
            row["descent_duration_s"] = r.descent_s
            passed = np.nonzero(-_proxy(kpg, lift, variant)[:, 1] >= -_mid(kpg, "knee")[:, 1])[0]
            i_k = int(passed[0]) if len(passed) else len(tg) - 1
            hip_rise = -(_mid(kpg, "hip")[i_k, 1] - _mid(kpg, "hip")[0, 1])
            sh_rise = -(_mid(kpg, "shoulder")[i_k, 1] - _mid(kpg, "shoulder")[0, 1])
            angg = body_angles(kpg[[0, i_k]], facing)
            row.update({
                "hip_shoot_index": float(hip_rise / sh_rise) if sh_rise > 0 else np.nan,
                "shin_angle_liftoff_deg": float(angg["shin"][0]),
                "trunk_angle_liftoff_deg": float(angg["trunk"][0]),
                "trunk_angle_at_knee_deg": float(angg["trunk"][1]),
            })  # fmt: skip
        for col in ("start", "bottom", "lockout", "end"):
            row[f"{col}_frame"] = frame_of(row[f"{col}_s"])
        rows.append(row)
    return rep_table_frame(rows)


def _moment_arm_ratio(hip: np.ndarray, knee: np.ndarray, bar: np.ndarray) -> float:
    """Hip moment arm / knee moment arm: horizontal distances from the bar line."""
    knee_arm = abs(knee[0] - bar[0])
    return float(abs(hip[0] - bar[0]) / knee_arm) if knee_arm > 1e-9 else np.nan


def _up_at(points: np.ndarray, i: int) -> float:
    """Upward pixel coordinate (``-y``) of row ``i``."""
    return float(-points[i, 1])


def rep_table_frame(rows: list[dict]) -> pd.DataFrame:
    """Rows -> a DataFrame with exactly :data:`REP_COLUMNS` and their dtypes."""
    cols = {}
    for c in REP_COLUMNS:
        vals = [row.get(c) for row in rows]
        if c in _STR:
            cols[c] = np.array([str(v) for v in vals], dtype=object)
        elif c == "rep":
            cols[c] = np.array(vals, dtype=np.int16)
        elif c in _INT32:
            cols[c] = np.array(vals, dtype=np.int32)
        elif c in NULLABLE_INT_COLUMNS:
            cols[c] = pd.array(vals, dtype="Int32")
        elif c in _BOOL:
            cols[c] = np.array([bool(v) if v is not None else False for v in vals], dtype=bool)
        else:
            cols[c] = np.array([np.nan if v is None else v for v in vals], dtype=np.float64)
    return pd.DataFrame(cols)


def write_rep_table(table: pd.DataFrame, path, *, metadata: dict | None = None) -> None:
    """Write a per-rep table atomically (Parquet, provenance under ``hipdrive``)."""
    import json

    arrow = pa.Table.from_pandas(table, preserve_index=False)
    if metadata:
        arrow = arrow.replace_schema_metadata(
            {**(arrow.schema.metadata or {}), METADATA_KEY: json.dumps(metadata)}
        )
    atomic_write_table(arrow, path)


def write_truth_keypoints(kp_px: np.ndarray, time_s: np.ndarray, path, *, metadata: dict) -> None:
    """Write true keypoints (score 1) through the keypoint contract."""
    score = np.ones(kp_px.shape[:2])
    write_keypoints(frames_to_long(kp_px, score, time_s, KEYPOINT_NAMES), path, metadata)


__all__ = [
    "REP_COLUMNS", "CameraView", "RepPlan", "body_angles", "default_camera", "project_keypoints",
    "truth_rep_table", "write_rep_table", "write_truth_keypoints",
]  # fmt: skip
