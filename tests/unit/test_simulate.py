"""The synthetic lifter: kinematics, truth tables, studies (keypoints only, fast)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from hipdrive.body import PROPORTIONS
from hipdrive.contracts.keypoints import KEYPOINT_NAMES, long_to_frames, read_keypoints
from hipdrive.errors import InputError
from hipdrive.simulate import (
    REP_COLUMNS,
    Anthropometry,
    build_motion,
    make_lifter,
    simulate_study,
    simulate_video,
)
from hipdrive.simulate.study import study_manifest
from hipdrive.simulate.timing import AscentShape, bump, descent_fraction

SQUAT = {
    "video_id": "L01_squat_080", "lifter_id": "L01", "lift": "squat", "variant": "high_bar",
    "load_kg": 100.0, "one_rm_kg": 125.0, "height_m": 1.80, "camera_side": "right",
}  # fmt: skip
DEADLIFT = {**SQUAT, "video_id": "L01_deadlift_090", "lift": "deadlift", "variant": "",
            "load_kg": 162.0, "one_rm_kg": 180.0}  # fmt: skip
IDX = {n: i for i, n in enumerate(KEYPOINT_NAMES)}


def _truth(tmp_path, sample, **opts):
    simulate_video(
        sample, seed=7, effect_slope_deg_per_10pct=1.5, video_path=None, truth_dir=tmp_path, **opts
    )
    table, meta = read_keypoints(tmp_path / f"{sample['video_id']}.keypoints.parquet")
    reps = pd.read_parquet(tmp_path / f"{sample['video_id']}.reps.parquet")
    return table, meta, reps


# ---------------------------------------------------------------- anthropometry


def test_segment_lengths_scale_with_height():
    a = Anthropometry.from_height(1.80)
    assert a.thigh_m == pytest.approx(PROPORTIONS["thigh"] * 1.80)
    assert a.shank_m == pytest.approx((0.285 - 0.039) * 1.80)
    b = Anthropometry.from_height(1.80, rng=np.random.default_rng(1))
    assert b.thigh_m != a.thigh_m and abs(b.thigh_m / a.thigh_m - 1) <= 0.06 + 1e-12


@pytest.mark.parametrize("height", [0.5, 3.0, float("nan")])
def test_bad_height_refused(height):
    with pytest.raises(InputError, match="height_m"):
        Anthropometry.from_height(height)


# ---------------------------------------------------------------- kinematics


@pytest.mark.parametrize(
    "sample", [SQUAT, {**SQUAT, "variant": "low_bar"}, {**SQUAT, "variant": "front"}, DEADLIFT]
)
def test_segment_lengths_constant_and_bar_over_midfoot(sample):
    lifter, motion = build_motion(sample, seed=3, effect_slope_deg_per_10pct=2.0)
    t = np.linspace(0, motion.duration_s, 600)
    pose = motion.pose(t)
    a = lifter.anthro
    for p, q, length in [
        ("ankle", "knee", a.shank_m),
        ("knee", "hip", a.thigh_m),
        ("hip", "shoulder", a.trunk_m),
    ]:
        d = np.linalg.norm(pose[q] - pose[p], axis=1)
        np.testing.assert_allclose(d, length, rtol=1e-9)
    for p, q in [("shoulder", "elbow"), ("elbow", "wrist")]:
        d = np.linalg.norm(pose[q] - pose[p], axis=1)
        np.testing.assert_allclose(d, d[0], rtol=1e-7)
    # balance: the bar stays vertically over the mid-foot
    np.testing.assert_allclose(pose["bar"][:, 0], a.midfoot_x_m, atol=1e-9)
    # the knee never bends backwards and the hip stays above the floor
    assert np.all(pose["hip"][:, 1] > 0.2)


@pytest.mark.parametrize("sample", [SQUAT, DEADLIFT])
def test_velocities_continuous_and_analytic(sample):
    _, motion = build_motion(sample, seed=3, effect_slope_deg_per_10pct=2.0)
    dt = 1e-3
    t = np.arange(0, motion.duration_s, dt)
    proxy, trunk, _ = motion.state(t)
    v_num = np.gradient(proxy, dt)
    v = motion.proxy_velocity(t)
    peak = np.max(np.abs(v))
    # analytic velocity = derivative of the position (away from the phase joins)
    assert np.median(np.abs(v_num - v)) < 1e-3 * peak
    assert np.max(np.abs(v_num - v)) < 0.02 * peak
    # no jumps: consecutive 1-ms samples differ by far less than the peak
    assert np.max(np.abs(np.diff(v))) < 0.01 * peak
    assert np.max(np.abs(np.diff(trunk))) < 0.2  # deg per ms
    pose = motion.pose(t)
    for name in ("hip", "knee", "shoulder"):
        step = np.linalg.norm(np.diff(pose[name], axis=0), axis=1)
        assert np.max(step) < 0.005  # < 5 m/s anywhere


def test_velocity_shape_and_bump():
    assert descent_fraction(np.array([0.0, 1.0])) == pytest.approx([0.0, 1.0])
    plain = AscentShape(0.0)
    assert plain.events() is None
    assert plain.fraction(1.0) == pytest.approx(1.0)
    dip = AscentShape(0.4, 0.38)
    v1, vmin, v2 = dip.events()
    assert v1 < vmin < v2 and dip.velocity(vmin) < dip.velocity(v1)
    b = bump(np.array([0.0, 0.3, 0.75, 0.9]), 0.3, 0.75)
    assert b == pytest.approx([0.0, 1.0, 0.0, 0.0])


def test_facing_left_mirrors_facing_right(tmp_path):
    right, meta_r, reps_r = _truth(tmp_path / "r", SQUAT, yaw_deg=12.0)
    left, meta_l, reps_l = _truth(tmp_path / "l", {**SQUAT, "camera_side": "left"}, yaw_deg=12.0)
    _, _, xy_r, _ = long_to_frames(right)
    _, _, xy_l, _ = long_to_frames(left)
    width = meta_r["width"]
    swap = [
        IDX[n.replace("left_", "tmp_").replace("right_", "left_").replace("tmp_", "right_")]
        for n in KEYPOINT_NAMES
    ]
    np.testing.assert_allclose(xy_l[:, :, 0], (width - 1) - xy_r[:, swap, 0], atol=1e-3)
    np.testing.assert_allclose(xy_l[:, :, 1], xy_r[:, swap, 1], atol=1e-3)
    # yaw separates near and far sides, so the swap is not trivial
    assert np.max(np.abs(xy_r[:, IDX["left_knee"], 0] - xy_r[:, IDX["right_knee"], 0])) > 5
    pd.testing.assert_series_equal(
        reps_r["hip_lead_trunk_change_deg"], reps_l["hip_lead_trunk_change_deg"]
    )
    assert set(reps_l["facing"]) == {"left"}


# ---------------------------------------------------------------- ground truth files


def test_truth_keypoints_follow_the_contract(tmp_path):
    table, meta, reps = _truth(tmp_path, SQUAT, shake_px=3.0)
    assert meta["backend"] == "truth" and meta["video_id"] == SQUAT["video_id"]
    frames, time_s, xy, score = long_to_frames(table)
    assert len(frames) == meta["n_frames"] and np.array_equal(frames, np.arange(meta["n_frames"]))
    np.testing.assert_allclose(time_s, np.round(frames / meta["fps"], 3))
    assert set(table["keypoint"].astype(str)) == set(KEYPOINT_NAMES)
    assert np.all(score == 1) and np.all(np.isfinite(xy))
    assert 0 <= xy[..., 0].min() and xy[..., 0].max() < meta["width"]
    assert 0 <= xy[..., 1].min() and xy[..., 1].max() < meta["height"]
    # camera shake moves every keypoint of a frame together, feet included
    toe = xy[:, IDX["right_big_toe"]]
    assert np.ptp(toe[:, 0]) > 1.0


def test_rep_table_columns_match_the_analysis_contract(tmp_path):
    from hipdrive.contracts.reps import REP_COLUMNS as ANALYSIS_COLUMNS

    _, _, reps = _truth(tmp_path, SQUAT)
    assert tuple(reps.columns) == REP_COLUMNS == tuple(ANALYSIS_COLUMNS)
    assert reps["rep"].dtype == np.int16 and reps["start_frame"].dtype == np.int32
    assert str(reps["v_min_frame"].dtype) == "Int32"


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    out = tmp_path_factory.mktemp("study")
    manifest = simulate_study(out, n_lifters=16, loads_pct=[50, 60, 80, 100], n_reps=2, seed=11,
                              effect_slope_deg_per_10pct=2.0, lifts=("squat", "deadlift"), video=False)  # fmt: skip
    reps = pd.concat(
        [pd.read_parquet(out / "truth" / f"{v}.reps.parquet") for v in manifest["video_id"]]
    )
    reps = reps.merge(manifest, on=["video_id", "lift"])
    reps["pct_1rm"] = 100 * reps["load_kg"] / reps["one_rm_kg"]
    return out, manifest, reps


def test_study_layout(study):
    out, manifest, reps = study
    assert list(manifest.columns) == ["video_id", "path", "lifter_id", "lift", "variant", "load_kg", "one_rm_kg",
                                      "height_m", "camera_side"]  # fmt: skip
    sheet = pd.read_csv(out / "samples.tsv", sep="\t")
    assert (
        len(sheet) == 16 * 4 * 2
        and sheet["path"].str.fullmatch(r"videos/L\d+_(squat|deadlift)_\d{3}\.mp4").all()
    )
    assert not (out / "videos").exists()
    info = json.loads((out / "study.json").read_text())
    assert info["seed"] == 11 and info["effect_slope_deg_per_10pct"] == 2.0
    assert set(info["lifters"]) == set(manifest["lifter_id"])
    assert len(reps) == 16 * 4 * 2 * 2


def test_truth_events_consistent(study):
    _, _, reps = study
    assert (reps["start_frame"] <= reps["bottom_frame"]).all()
    assert (reps["bottom_frame"] < reps["lockout_frame"]).all() and (
        reps["lockout_frame"] <= reps["end_frame"]
    ).all()
    # the ascent ends where the bar comes to rest, a little after the lockout (the
    # bar within 1 % / 2 % of the range of the top): the slow last per cents
    ascent_end = reps["bottom_s"] + reps["ascent_duration_s"]
    tail = (ascent_end - reps["lockout_s"]) / reps["ascent_duration_s"]
    assert (tail > 0.03).all() and (tail < 0.25).all()
    stick = reps[reps["sticking_present"]]
    assert len(stick) > 50
    assert (stick["bottom_s"] < stick["v_max1_s"]).all()
    assert (stick["v_max1_s"] < stick["v_min_s"]).all() and (
        stick["v_min_s"] < stick["v_max2_s"]
    ).all()
    assert (stick["v_max2_s"] < stick["lockout_s"]).all()
    assert (stick["v_max1_frame"] <= stick["v_min_frame"]).all()
    none = reps[~reps["sticking_present"]]
    assert len(none) > 50
    assert (
        none["v_min_frame"].isna().all()
        and none[["v_max1_s", "v_min_s", "v_max2_s"]].isna().all().all()
    )
    assert none["sticking_pct_ascent"].isna().all() and none["trunk_angle_vmin_deg"].isna().all()
    squat, dl = reps[reps["lift"] == "squat"], reps[reps["lift"] == "deadlift"]
    assert squat["hip_shoot_index"].isna().all() and dl["knee_forward_pct_descent"].isna().all()
    assert (
        dl["shin_angle_liftoff_deg"].between(0, 40).all()
        and dl["trunk_angle_liftoff_deg"].between(35, 85).all()
    )
    assert (dl["start_frame"] == dl["bottom_frame"]).all()


def test_hip_lead_truth_equals_the_planned_hip_drive(tmp_path):
    import pyarrow.parquet as pq

    _, _, reps = _truth(tmp_path, SQUAT)
    meta = json.loads(
        pq.read_schema(tmp_path / f"{SQUAT['video_id']}.reps.parquet").metadata[b"hipdrive"]
    )
    planned = [r["hip_drive_deg"] for r in meta["reps"]]
    np.testing.assert_allclose(reps["hip_lead_trunk_change_deg"], planned, atol=1e-6)
    mv = [r["mean_velocity_m_s"] for r in meta["reps"]]
    np.testing.assert_allclose(reps["mean_concentric_velocity_m_s"], mv, rtol=1e-6)


def test_load_behaviour(study):
    _, _, reps = study
    sq = reps[reps["lift"] == "squat"]
    mv = sq.groupby("pct_1rm")["mean_concentric_velocity_m_s"].mean()
    # the 52-person table: ~0.72 m/s at 60 %, ~0.28 m/s at 100 %
    assert mv.loc[60] == pytest.approx(0.70, abs=0.05) and mv.loc[100] == pytest.approx(
        0.30, abs=0.05
    )
    assert mv.is_monotonic_decreasing
    share = reps.groupby("pct_1rm")["sticking_present"].mean()
    assert share.loc[50] < 0.1 < 0.6 < share.loc[100]


def _within_lifter_slope(reps: pd.DataFrame, column: str) -> float:
    """Pooled within-lifter OLS slope of ``column`` on %1RM, per 10 %1RM."""
    g = reps.groupby("lifter_id")
    y = reps[column] - g[column].transform("mean")
    x = reps["pct_1rm"] - g["pct_1rm"].transform("mean")
    return float(10 * np.sum(x * y) / np.sum(x**2))


def test_slope_recovered_from_truth(study):
    out, _, reps = study
    info = json.loads((out / "study.json").read_text())
    realised = np.mean([lf["hip_drive_slope_deg_per_10pct"] for lf in info["lifters"].values()])
    squat = reps[reps["lift"] == "squat"]
    assert _within_lifter_slope(squat, "hip_lead_trunk_change_deg") == pytest.approx(
        realised, abs=0.15
    )
    assert realised == pytest.approx(2.0, abs=0.75)  # 16 lifters, random-slope SD 1
    # deadlift: scaled by deadlift_hip_drive_factor, and attenuated further where the
    # nearly straight legs cannot lift the hips more (LifterMotion.reach_scale)
    factor = info["population"]["deadlift_hip_drive_factor"]
    dl_slope = _within_lifter_slope(reps[reps["lift"] == "deadlift"], "hip_lead_trunk_change_deg")
    assert 0.05 < dl_slope < 1.2 * factor * realised


def test_study_deterministic(tmp_path):
    kw = dict(
        n_lifters=2, loads_pct=[60, 90], n_reps=2, effect_slope_deg_per_10pct=1.0, video=False
    )
    a = simulate_study(tmp_path / "a", seed=5, **kw)
    b = simulate_study(tmp_path / "b", seed=5, **kw)
    simulate_study(tmp_path / "c", seed=6, **kw)
    pd.testing.assert_frame_equal(a, b)
    vid = a["video_id"].iloc[1]
    ra, rb, rc = (pd.read_parquet(tmp_path / d / "truth" / f"{vid}.reps.parquet") for d in "abc")
    pd.testing.assert_frame_equal(ra, rb)
    assert not np.allclose(ra["ascent_duration_s"], rc["ascent_duration_s"])
    ka, kb = (read_keypoints(tmp_path / d / "truth" / f"{vid}.keypoints.parquet")[0] for d in "ab")
    pd.testing.assert_frame_equal(ka, kb)
    assert (tmp_path / "a" / "study.json").read_text() == (
        tmp_path / "b" / "study.json"
    ).read_text()


def test_same_lifter_in_every_video():
    one = make_lifter("L07", seed=1, effect_slope_deg_per_10pct=1.0, height_m=1.7)
    two = make_lifter("L07", seed=1, effect_slope_deg_per_10pct=1.0, height_m=1.7)
    other = make_lifter("L08", seed=1, effect_slope_deg_per_10pct=1.0, height_m=1.7)
    assert one == two and one.anthro == two.anthro
    assert one.hip_drive_at_70_deg != other.hip_drive_at_70_deg


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"load_kg": 200.0}, "load_kg"),
        ({"one_rm_kg": None}, "missing one_rm_kg"),
        ({"variant": "zercher"}, "not a squat variant"),
        ({"lift": "bench"}, "lift must be one of"),
        ({"camera_side": "front"}, "camera_side"),
    ],
)
def test_bad_samples_refused(tmp_path, change, match):
    with pytest.raises(InputError, match=match):
        simulate_video(
            {**SQUAT, **change},
            seed=1,
            effect_slope_deg_per_10pct=1.0,
            video_path=None,
            truth_dir=tmp_path,
        )


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"colour": "red"}, "unknown render option"),
        ({"rotation": 45}, "rotation must be"),
        ({"orientation": "square"}, "orientation must be"),
    ],
)
def test_bad_render_options_refused(tmp_path, options, match):
    with pytest.raises(InputError, match=match):
        simulate_video(
            SQUAT,
            seed=1,
            effect_slope_deg_per_10pct=1.0,
            video_path=None,
            truth_dir=tmp_path,
            **options,
        )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_lifters": 0}, "n_lifters"),
        ({"loads_pct": [0]}, "loads_pct"),
        ({"loads_pct": [120]}, "loads_pct"),
    ],
)
def test_bad_study_arguments(kwargs, match):
    with pytest.raises(InputError, match=match):
        study_manifest(**{"n_lifters": 2, "loads_pct": [60], "seed": 1, **kwargs})


def test_cli_study_and_video(tmp_path, capsys):
    from hipdrive.cli import main

    rc = main(["simulate", "study", "--lifters", "2", "--loads", "60,90", "--reps", "1", "--seed", "3",
               "--effect-slope", "1.5", "--out", str(tmp_path / "s"), "--no-video", "--lift", "both"])  # fmt: skip
    assert rc == 0
    sheet = pd.read_csv(tmp_path / "s" / "samples.tsv", sep="\t")
    assert (
        len(sheet) == 8
        and (tmp_path / "s" / "truth" / f"{sheet.video_id[0]}.reps.parquet").is_file()
    )
    rc = main(["simulate", "video", "--sample-sheet", str(tmp_path / "s" / "samples.tsv"), "--video-id",
               sheet.video_id[1], "--seed", "3", "--effect-slope", "1.5", "--reps", "1", "--truth-dir", str(tmp_path / "v")])  # fmt: skip
    assert rc == 0
    a = pd.read_parquet(tmp_path / "v" / f"{sheet.video_id[1]}.reps.parquet")
    b = pd.read_parquet(tmp_path / "s" / "truth" / f"{sheet.video_id[1]}.reps.parquet")
    pd.testing.assert_frame_equal(a, b)  # one manifest row, one truth, whichever command made it
    rc = main(["simulate", "video", "--sample-sheet", str(tmp_path / "s" / "samples.tsv"), "--video-id", "nope",
               "--seed", "3", "--effect-slope", "1.5", "--truth-dir", str(tmp_path / "v")])  # fmt: skip
    assert rc == 2 and "no row with video_id 'nope'" in capsys.readouterr().err


def _ascent_state(motion, tau):
    r = motion.reps[0]
    t = motion.bottom_time(r) + tau * r.ascent_s
    return motion.state(t)[1], motion.pose(np.atleast_1d(t))


def test_chest_up_fault_moves_hips_forward_and_deepens_the_dip(tmp_path):
    from hipdrive.simulate import Population

    sample = {**SQUAT, "load_kg": 110.0}
    plain = build_motion(sample, seed=2, effect_slope_deg_per_10pct=1.0, population=Population())[1]
    fault = build_motion(
        sample,
        seed=2,
        effect_slope_deg_per_10pct=1.0,
        population=Population(chest_up_probability=1.0),
    )[1]
    assert all(r.chest_up_deg > 0 for r in fault.reps) and all(
        r.chest_up_deg == 0 for r in plain.reps
    )
    assert all(ev is not None for ev in fault.events_tau)
    assert fault.reps[0].dip_depth > plain.reps[0].dip_depth
    trunk_p, pose_p = _ascent_state(plain, 0.7)
    trunk_f, pose_f = _ascent_state(fault, 0.7)
    assert trunk_f[0] < trunk_p[0] - 3  # chest up: a more upright trunk mid-ascent
    assert pose_f["hip"][0, 0] > pose_p["hip"][0, 0] + 0.01  # ... moves the hips forward
    assert pose_f["knee"][0, 0] >= pose_p["knee"][0, 0] - 1e-6
    simulate_video(sample, seed=2, effect_slope_deg_per_10pct=1.0, video_path=None, truth_dir=tmp_path,
                   population=Population(chest_up_probability=1.0))  # fmt: skip
    reps = pd.read_parquet(tmp_path / f"{sample['video_id']}.reps.parquet")
    assert reps["chest_rose_early"].all() and reps["sticking_present"].all()


def test_deadlift_hip_shoot_fault(tmp_path):
    from hipdrive.simulate import Population

    sample = {**DEADLIFT, "load_kg": 180.0}
    out = {}
    for name, p in [("none", 0.0), ("always", 1e6)]:
        pop = Population(hip_shoot_probability_at_100=p)
        simulate_video(sample, seed=2, effect_slope_deg_per_10pct=1.0, video_path=None, truth_dir=tmp_path / name,
                       population=pop)  # fmt: skip
        out[name] = pd.read_parquet(tmp_path / name / f"{sample['video_id']}.reps.parquet")
    # the fault's hip rise starts with the pull; about a fifth of it comes before the
    # bar is 1 % of its ROM off the floor (lift-off), where the index starts counting
    assert (out["always"]["hip_shoot_index"] > out["none"]["hip_shoot_index"] + 0.05).all()
    assert (out["always"]["hip_shoot_index"] > 1).all()


def test_per_video_detection_summary_names_the_worst_phase():
    from hipdrive.simulate.detection import format_detection_report, summarise_videos

    table = pd.DataFrame({
        "video_id": ["A"] * 4 + ["B"] * 4, "lift": "squat", "facing": ["left"] * 4 + ["right"] * 4,
        "phase": ["standing", "bottom", "bottom", "ascent"] * 2,
        "detected": [True, False, True, True] + [True] * 4,
        "kp_err_px": 1.0, "trunk_err_deg": 1.0, "trunk_err_near_deg": [2.0, np.nan, -4.0, 3.0] + [1.0] * 4,
    })  # fmt: skip
    s = summarise_videos(table).set_index("video_id")
    assert s.loc["A", "detected_pct"] == 75.0 and s.loc["B", "detected_pct"] == 100.0
    assert s.loc["A", "worst_phase"] == "bottom" and s.loc["A", "worst_phase_detected_pct"] == 50.0
    assert s.loc["A", "trunk_err_near_median_deg"] == 3.0  # |error|, undetected frames left out
    assert "per video" in format_detection_report(table, per_video=True)
    assert "per video" not in format_detection_report(table)
