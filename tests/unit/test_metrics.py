"""Per-rep metrics on constructed kinematics with answers worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from hipdrive.analysis import metrics
from hipdrive.analysis.kinematics import SERIES, Kinematics
from hipdrive.contracts import curves as curves_contract
from hipdrive.contracts import reps as reps_contract

FPS = 100.0


def velocity_with_dip(n, *, depth, centre=0.4, width=0.08):
    tau = np.linspace(0, 1, n)
    return tau**1.3 * (1 - tau) ** 1.8 * (1 - depth * np.exp(-0.5 * ((tau - centre) / width) ** 2))


def test_rep_columns_are_the_agreed_contract():
    from hipdrive.simulate import REP_COLUMNS as TRUTH_COLUMNS

    assert reps_contract.REP_COLUMNS == tuple(TRUTH_COLUMNS)
    assert len(reps_contract.REP_COLUMNS) == 60
    empty = reps_contract.empty_reps()
    assert list(empty.columns) == list(reps_contract.REP_COLUMNS) and len(empty) == 0
    arrow = pa.Table.from_pandas(empty, schema=reps_contract.REP_SCHEMA, preserve_index=False)
    assert arrow.schema.equals(reps_contract.REP_SCHEMA)


def test_sticking_region_found_at_the_analytic_extremes():
    v = velocity_with_dip(401, depth=0.5)
    present, i1, im, i2 = metrics.find_sticking_region(v, prominence_bh_s=1e-4)
    assert present
    d = np.diff(np.sign(np.diff(v)))
    maxima, minima = np.flatnonzero(d < 0) + 1, np.flatnonzero(d > 0) + 1
    assert (i1, im, i2) == (maxima[0], minima[0], maxima[1])


@pytest.mark.parametrize(
    ("depth", "prominence", "expected"),
    [(0.0, 1e-4, False), (0.5, 1.0, False), (0.5, 1e-4, True)],
)
def test_sticking_region_absent_without_a_deep_enough_dip(depth, prominence, expected):
    present, *idx = metrics.find_sticking_region(
        velocity_with_dip(401, depth=depth), prominence_bh_s=prominence
    )
    assert present is expected
    assert all(i is None for i in idx) is (not expected)


def test_dip_near_lockout_is_not_a_sticking_region():
    v = velocity_with_dip(401, depth=0.8, centre=0.85, width=0.02)
    assert metrics.find_sticking_region(v, prominence_bh_s=1e-6, search_fraction=0.8)[0] is False
    assert metrics.find_sticking_region(v, prominence_bh_s=1e-6, search_fraction=1.0)[0] is True


def test_time_normalise_is_exact_for_linear_signals():
    t = np.sort(np.random.default_rng(0).uniform(0, 2, 50))
    y = np.column_stack([3 * t + 1, -t])
    out = metrics.time_normalise(y, t, 5, 40)
    grid = np.linspace(t[5], t[40], 101)
    np.testing.assert_allclose(out, np.column_stack([3 * grid + 1, -grid]), atol=1e-12)


def make_kinematics():
    """One squat rep on a 100 Hz grid with hand-set series.

    bottom at 1.0 s, lockout at 2.0 s (ascent 1 s), start at 0.2 s. Trunk angle
    rises linearly by 10 deg/s in the ascent from 40 deg; hip height rises 0.3 t,
    shoulder 0.2 t (bh) in the ascent; bar = shoulder, its descent from 0.2 s the
    mirror image of its ascent (so the bar turns at 1.0 s).
    """
    t = np.arange(0, 3, 1 / FPS)
    n = t.size
    s = {name: np.zeros(n) for name in SERIES}
    asc = (t >= 1.0) & (t <= 2.0)
    tau = np.clip(t - 1.0, 0, 1)
    shape = np.zeros(n)
    shape[asc] = velocity_with_dip(int(asc.sum()), depth=0.6)
    shape *= 0.3 / (shape.sum() / FPS)  # integrates to the 0.3 bh rise
    v = shape
    s["bar_velocity_bh_s"] = v
    s["shoulder_velocity_bh_s"] = v
    s["bar_height_bh"] = 0.5 + np.cumsum(v) / FPS
    down = (t >= 0.2) & (t < 1.0)
    s["bar_height_bh"][down] = s["bar_height_bh"][200 - np.flatnonzero(down)]
    s["bar_height_bh"][t < 0.2] = s["bar_height_bh"][180]
    s["shoulder_height_bh"] = s["bar_height_bh"]
    hip_v = np.zeros(n)
    hip_v[asc] = np.roll(v[asc], -5) * 1.5  # hips peak 5 frames (0.05 s) earlier
    s["hip_velocity_bh_s"] = hip_v
    s["hip_height_bh"] = 0.4 + np.cumsum(hip_v) / FPS
    s["trunk_angle_deg"] = np.where(t < 1.0, 40.0, 40.0 + 10.0 * tau)
    s["hip_angle_deg"] = 60.0 + 50 * tau
    s["knee_angle_deg"] = 70.0 + 40 * tau
    s["moment_arm_ratio"] = 2.0 + tau
    s["knee_x_bh"] = np.where(
        t <= 1.0, 0.1 * np.sin(np.pi * np.clip((t - 0.2) / 0.8, 0, 1) * 0.75), 0.0
    )
    events = pd.DataFrame(
        {"start_frame": [20], "bottom_frame": [100], "lockout_frame": [200], "end_frame": [200],
         "complete": [True], "failed": [False], "paused": [False], "hold_start_frame": [100],
         "hold_end_frame": [100]}
    )  # fmt: skip
    return Kinematics(time_s=t, series=s, body_height_px=700.0, height_m=1.8), events


FLAGS = {k: np.zeros(300, bool) for k in ("low_confidence", "gap", "swap", "lifter_lost")}


def test_rep_metrics_match_hand_calculation():
    kin, events = make_kinematics()
    reps = metrics.rep_metrics(
        kin, events, video_id="v", lift="squat", facing="left", side_used="mean", frame_flags=FLAGS,
        sticking_prominence_bh_s=0.01,
    )  # fmt: skip
    r = reps.iloc[0]
    assert list(reps.columns) == list(reps_contract.REP_COLUMNS)
    assert (r["start_s"], r["bottom_s"], r["lockout_s"]) == pytest.approx((0.2, 1.0, 2.0))
    assert r["descent_duration_s"] == pytest.approx(0.8) and r[
        "ascent_duration_s"
    ] == pytest.approx(1.0)
    assert r["sticking_present"]
    t_min = r["v_min_s"]
    assert r["v_max1_s"] < t_min < r["v_max2_s"]
    assert r["sticking_pct_ascent"] == pytest.approx(100 * (t_min - 1.0), rel=1e-9)
    # trunk rises 10 deg/s from the bottom: the primary index is 10 x (t_vmin - t_bottom)
    assert r["hip_lead_trunk_change_deg"] == pytest.approx(10.0 * (t_min - 1.0), abs=1e-6)
    assert r["trunk_angle_vmin_deg"] == pytest.approx(40 + 10 * (t_min - 1.0), abs=1e-6)
    assert r["hip_angle_vmin_deg"] == pytest.approx(60 + 50 * (t_min - 1.0), abs=1e-6)
    assert r["mean_concentric_velocity_bh_s"] == pytest.approx(0.3, rel=0.02)
    assert r["mean_concentric_velocity_m_s"] == pytest.approx(
        r["mean_concentric_velocity_bh_s"] * 1.8
    )
    assert r["peak_concentric_velocity_bh_s"] == pytest.approx(kin["bar_velocity_bh_s"].max())
    assert r["hip_lead_peak_velocity_lag_s"] == pytest.approx(0.05, abs=0.005)
    assert r["moment_arm_ratio_bottom"] == pytest.approx(2.0)
    assert not r["chest_rose_early"]
    assert r["knee_forward_pct_descent"] == pytest.approx(100 * 2 / 3, abs=1.5)
    assert np.isnan(r["hip_shoot_index"]) and np.isnan(r["trunk_angle_liftoff_deg"])
    assert r["quality_ok"] and r["complete"] and not r["failed"]
    assert isinstance(reps["v_min_frame"].dtype, pd.Int32Dtype)


def test_without_a_sticking_region_the_index_uses_30_percent_of_the_ascent():
    kin, events = make_kinematics()
    reps = metrics.rep_metrics(
        kin, events, video_id="v", lift="squat", facing="left", side_used="mean", frame_flags=FLAGS,
        sticking_prominence_bh_s=10.0,
    )  # fmt: skip
    r = reps.iloc[0]
    assert not r["sticking_present"] and pd.isna(r["v_min_frame"]) and np.isnan(r["v_min_s"])
    assert r["hip_lead_trunk_change_deg"] == pytest.approx(3.0, abs=1e-9)  # 10 deg/s x 0.3 s
    hip_rise = kin["hip_height_bh"][130] - kin["hip_height_bh"][100]
    sh_rise = kin["shoulder_height_bh"][130] - kin["shoulder_height_bh"][100]
    assert r["hip_lead_rise_ratio"] == pytest.approx(hip_rise / sh_rise, rel=1e-9)
    assert np.isnan(r["moment_arm_ratio_vmin"]) and np.isnan(r["trunk_angle_vmin_deg"])


def test_a_squats_bottom_is_the_bars_turning_point_between_frames():
    # 30 fps; the bar turns 0.4 frame after frame 30 while the trunk turns at
    # 30 deg/s: frame 30's trunk is 0.4 deg off the turning point's 40 deg.
    fps, t0 = 30.0, 1.0 + 0.4 / 30.0
    t = np.arange(0, 2.5, 1 / fps)
    s = {name: np.zeros(t.size) for name in SERIES}
    phase = np.clip((t - t0) / 0.8, -1, 1)
    s["bar_height_bh"] = s["shoulder_height_bh"] = 0.6 - 0.15 * (1 + np.cos(np.pi * phase))
    s["hip_height_bh"] = s["bar_height_bh"] - 0.3
    for part in ("bar", "shoulder", "hip"):
        s[f"{part}_velocity_bh_s"] = np.gradient(s[f"{part}_height_bh"], t)
    s["trunk_angle_deg"] = 40.0 + 30.0 * (t - t0)
    bottom = int(np.argmin(s["bar_height_bh"]))
    assert bottom == 30
    events = pd.DataFrame(
        {"start_frame": [6], "bottom_frame": [bottom], "lockout_frame": [54], "end_frame": [54],
         "complete": [True], "failed": [False], "paused": [False],
         "hold_start_frame": [bottom], "hold_end_frame": [bottom]}
    )  # fmt: skip
    kin = Kinematics(time_s=t, series=s, body_height_px=700.0, height_m=1.8)
    flags = {k: np.zeros(t.size, bool) for k in FLAGS}
    r = metrics.rep_metrics(
        kin, events, video_id="v", lift="squat", facing="left", side_used="mean",
        frame_flags=flags, sticking_prominence_bh_s=10.0, fs_hz=fps,
    ).iloc[0]  # fmt: skip
    assert r["bottom_frame"] == bottom and r["bottom_s"] == pytest.approx(t0, abs=0.002)
    assert r["ascent_duration_s"] == pytest.approx(t[54] - t0, abs=0.002)
    assert r["trunk_angle_bottom_deg"] == pytest.approx(40.0, abs=0.05)
    # no sticking region: the trunk's turn over the first 30% of the ascent
    assert r["hip_lead_trunk_change_deg"] == pytest.approx(30.0 * 0.3 * (t[54] - t0), abs=0.05)


def test_quality_flags_come_from_the_rep_frames_only():
    kin, events = make_kinematics()
    flags = {k: v.copy() for k, v in FLAGS.items()}
    flags["gap"][250] = True  # after the rep: no flag
    flags["swap"][150] = True
    flags["low_confidence"][20:60] = True  # 40 of 181 frames: > 20 %
    r = metrics.rep_metrics(kin, events, video_id="v", lift="squat", facing="left", side_used="mean",
                            frame_flags=flags).iloc[0]  # fmt: skip
    assert (
        r["flag_swap"]
        and r["flag_low_confidence"]
        and not r["flag_gap"]
        and not r["flag_lifter_lost"]
    )
    assert not r["quality_ok"]


def test_curves_are_101_points_per_phase_and_variable():
    kin, events = make_kinematics()
    curves = metrics.rep_curves(kin, events, video_id="v", lift="squat")
    assert list(curves.columns) == curves_contract.CURVE_SCHEMA.names
    assert len(curves) == 2 * 101 * len(curves_contract.CURVE_VARIABLES)
    trunk = curves[(curves.phase == "ascent") & (curves.variable == "trunk_angle_deg")].sort_values(
        "pct"
    )
    np.testing.assert_allclose(trunk["value"], 40 + 10 * np.linspace(0, 1, 101), atol=1e-9)
    empty = metrics.rep_curves(kin, events.iloc[:0], video_id="v", lift="squat")
    assert list(empty.columns) == curves_contract.CURVE_SCHEMA.names and empty.empty


def test_still_velocity_sd_reads_the_noise_between_reps_only():
    rng = np.random.default_rng(3)
    t = np.arange(1200) / 60.0
    v = rng.normal(0.0, 0.02, len(t))
    reps = [(5.0, 8.0), (12.0, 15.0)]
    for start, end in reps:  # a rep's motion is no noise
        v[(t >= start) & (t <= end)] += 0.8 * np.sin(np.pi * (t[(t >= start) & (t <= end)] - start) / 3.0)
    assert metrics.still_velocity_sd(v, t, reps, cutoff_hz=5.0) == pytest.approx(0.02, rel=0.1)
    # too little still time (under five filter periods) is no measurement
    assert np.isnan(metrics.still_velocity_sd(v, t, [(0.3, 19.5)], cutoff_hz=5.0))
    assert np.isnan(metrics.still_velocity_sd(v, t, reps, cutoff_hz=0.0))


def test_hands_at_the_bar_floor_need_the_hands_seen_at_an_end():
    from hipdrive.analysis.metrics import _hands_up_at_bar_floor

    up_down = np.r_[np.linspace(0.1, 0.4, 20), np.linspace(0.4, 0.1, 20)]
    assert _hands_up_at_bar_floor({"wrist_height_bh": up_down}, 0, 39) == pytest.approx(0.0)
    landed_early = up_down.copy()
    landed_early[-1] = 0.25  # half way up when the bar "lands"
    assert _hands_up_at_bar_floor({"wrist_height_bh": landed_early}, 0, 39) == pytest.approx(0.5)
    unseen = up_down.copy()
    unseen[[0, -1]] = np.nan
    assert np.isnan(_hands_up_at_bar_floor({"wrist_height_bh": unseen}, 0, 39))
