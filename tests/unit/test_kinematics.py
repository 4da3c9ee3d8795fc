"""Kinematics on hand-built stick figures with known angles, heights and moment arms."""

from __future__ import annotations

import numpy as np
import pytest

from hipdrive import body
from hipdrive.analysis import kinematics as kin
from hipdrive.contracts.keypoints import KEYPOINT_NAMES
from hipdrive.errors import InputError

H_PX = 700.0  # stature in pixels


def stick_figure(
    shin_deg, thigh_deg, trunk_deg, *, facing="right", tilt_deg=0.0, x0=400.0, floor_px=900.0
):
    """Image keypoints (y down) of a sagittal figure with Drillis-Contini segments.

    Angles from vertical in degrees: shin forward, thigh backward from the knee,
    trunk forward. Both sides coincide (a pure side view).
    """
    shin, thigh, trunk = (
        np.radians(np.atleast_1d(a).astype(float)) for a in (shin_deg, thigh_deg, trunk_deg)
    )
    n = len(shin)
    ankle = np.tile([0.0, 0.039 * H_PX], (n, 1))
    knee = ankle + body.SHANK_FRACTION * H_PX * np.c_[np.sin(shin), np.cos(shin)]
    hip = knee + body.THIGH_FRACTION * H_PX * np.c_[-np.sin(thigh), np.cos(thigh)]
    shoulder = hip + body.TRUNK_FRACTION * H_PX * np.c_[np.sin(trunk), np.cos(trunk)]
    parts = {
        "ankle": ankle, "knee": knee, "hip": hip, "shoulder": shoulder,
        "wrist": shoulder + [0.02 * H_PX, -0.03 * H_PX], "elbow": shoulder + [0.05 * H_PX, -0.12 * H_PX],
        "heel": ankle + [-0.035 * H_PX, -0.03 * H_PX], "big_toe": ankle + [0.11 * H_PX, -0.03 * H_PX],
        "ear": shoulder + [0.0, 0.118 * H_PX], "eye": shoulder + [0.04 * H_PX, 0.125 * H_PX],
    }  # fmt: skip
    xy = np.zeros((n, len(KEYPOINT_NAMES), 2))
    for k, name in enumerate(KEYPOINT_NAMES):
        part = "nose" if name == "nose" else name.split("_", 1)[1]
        xy[:, k] = shoulder + [0.07 * H_PX, 0.11 * H_PX] if part == "nose" else parts[part]
    if tilt_deg:
        c, s = np.cos(np.radians(tilt_deg)), np.sin(np.radians(tilt_deg))
        xy = np.stack([c * xy[..., 0] - s * xy[..., 1], s * xy[..., 0] + c * xy[..., 1]], axis=-1)
    sign = 1.0 if facing == "right" else -1.0
    return np.stack([x0 + sign * xy[..., 0], floor_px - xy[..., 1]], axis=-1)


SHIN, THIGH, TRUNK = (
    np.array([5.0, 20.0, 35.0]),
    np.array([10.0, 60.0, 95.0]),
    np.array([8.0, 30.0, 45.0]),
)


@pytest.mark.parametrize("facing", ["right", "left"])
def test_angles_are_exact_and_independent_of_facing(facing):
    xy = stick_figure(SHIN, THIGH, TRUNK, facing=facing)
    assert kin.detect_facing(xy, KEYPOINT_NAMES) == facing
    up = kin.to_body_frame(xy, facing=facing)
    k = kin.compute_kinematics(
        up, np.arange(3) / 30.0, KEYPOINT_NAMES, side="left", bar_proxy="shoulder"
    )
    np.testing.assert_allclose(k["trunk_angle_deg"], TRUNK, atol=1e-9)
    np.testing.assert_allclose(k["shin_angle_deg"], SHIN, atol=1e-9)
    # knee included angle = 180 - (shin + thigh); hip included = 180 - (thigh - ... ) by geometry:
    np.testing.assert_allclose(k["knee_angle_deg"], 180.0 - (SHIN + THIGH), atol=1e-9)
    np.testing.assert_allclose(k["hip_angle_deg"], 180.0 - (THIGH + TRUNK), atol=1e-9)


def test_body_height_and_heights_in_body_heights():
    xy = stick_figure(SHIN, THIGH, TRUNK)
    up = kin.to_body_frame(xy, facing="right")
    assert body.body_height_px(up, KEYPOINT_NAMES, side="mean") == pytest.approx(H_PX, rel=1e-9)
    k = kin.compute_kinematics(
        up, np.arange(3) / 30.0, KEYPOINT_NAMES, side="mean", bar_proxy="shoulder", height_m=1.75
    )
    # upright-ish first frame: hip height above the ankle, exact from the segments
    hip_y = body.SHANK_FRACTION * np.cos(np.radians(SHIN)) + body.THIGH_FRACTION * np.cos(
        np.radians(THIGH)
    )
    np.testing.assert_allclose(k["hip_height_bh"], hip_y, atol=1e-12)
    np.testing.assert_allclose(k.in_units("hip_height_bh", "px"), hip_y * H_PX, atol=1e-9)
    np.testing.assert_allclose(k.in_units("hip_height_bh", "m"), hip_y * 1.75, atol=1e-12)
    np.testing.assert_allclose(k["bar_height_bh"], k["shoulder_height_bh"])
    with pytest.raises(ValueError, match="not in body heights"):
        k.in_units("trunk_angle_deg", "m")


def test_moment_arms_are_horizontal_distances_to_the_bar_line():
    xy = stick_figure(SHIN, THIGH, TRUNK)
    up = kin.to_body_frame(xy, facing="right")
    k = kin.compute_kinematics(
        up, np.arange(3) / 30.0, KEYPOINT_NAMES, side="left", bar_proxy="shoulder"
    )
    bar_x = up[:, KEYPOINT_NAMES.index("left_shoulder"), 0] / H_PX
    hip_x = up[:, KEYPOINT_NAMES.index("left_hip"), 0] / H_PX
    knee_x = up[:, KEYPOINT_NAMES.index("left_knee"), 0] / H_PX
    np.testing.assert_allclose(k["hip_moment_arm_bh"], bar_x - hip_x, atol=1e-12)
    np.testing.assert_allclose(k["knee_moment_arm_bh"], knee_x - bar_x, atol=1e-12)
    ok = np.abs(knee_x - bar_x) >= kin.MIN_KNEE_ARM_BH
    np.testing.assert_allclose(
        k["moment_arm_ratio"][ok],
        np.abs(bar_x - hip_x)[ok] / np.abs(knee_x - bar_x)[ok],
        rtol=1e-12,
    )
    assert np.isnan(k["moment_arm_ratio"][~ok]).all()


def test_velocity_of_t_squared_is_2t():
    t = np.arange(0, 1, 1 / 60)
    trunk = np.full(t.size, 10.0)
    xy = stick_figure(np.full(t.size, 10.0), np.full(t.size, 20.0), trunk)
    xy[..., 1] -= (0.1 * t**2 * H_PX)[:, None]  # the whole figure rises by 0.1 t^2 body heights
    up = kin.to_body_frame(xy, facing="right")
    k = kin.compute_kinematics(up, t, KEYPOINT_NAMES, side="mean", bar_proxy="wrist")
    # the ankles rise too, so the floor (median ankle height) moves; velocities are unaffected
    np.testing.assert_allclose(k["hip_velocity_bh_s"][1:-1], 0.2 * t[1:-1], atol=1e-9)
    np.testing.assert_allclose(k["bar_velocity_bh_s"][1:-1], 0.2 * t[1:-1], atol=1e-9)


def test_floor_tilt_is_measured_and_removed():
    xy = stick_figure(SHIN, THIGH, TRUNK, tilt_deg=4.0)
    up = kin.to_body_frame(xy, facing="right")
    assert kin.floor_tilt_deg(up, KEYPOINT_NAMES) == pytest.approx(4.0, abs=1e-6)
    level = kin.to_body_frame(xy, facing="right", tilt_deg=4.0)
    k = kin.compute_kinematics(
        level, np.arange(3) / 30.0, KEYPOINT_NAMES, side="left", bar_proxy="shoulder"
    )
    np.testing.assert_allclose(k["trunk_angle_deg"], TRUNK, atol=1e-6)
    names_without_feet = tuple(n for n in KEYPOINT_NAMES if "heel" not in n and "toe" not in n)
    cols = [KEYPOINT_NAMES.index(n) for n in names_without_feet]
    assert kin.floor_tilt_deg(up[:, cols], names_without_feet) == 0.0


def test_choose_side_prefers_the_confident_side_or_the_manifest():
    n = 10
    score = np.full((n, len(KEYPOINT_NAMES)), 0.4)
    score[:, [i for i, k in enumerate(KEYPOINT_NAMES) if k.startswith("right_")]] = 0.9
    assert kin.choose_side(score, KEYPOINT_NAMES) == "right"
    assert kin.choose_side(score, KEYPOINT_NAMES, camera_side="left") == "left"
    both = np.full_like(score, 0.95)
    assert kin.choose_side(both, KEYPOINT_NAMES) in ("left", "right")  # near side by default
    assert kin.choose_side(both, KEYPOINT_NAMES, both_confident_score=0.8) == "mean"
    with pytest.raises(InputError, match="camera_side must be left, right or empty"):
        kin.choose_side(score, KEYPOINT_NAMES, camera_side="front")


def test_detect_facing_needs_some_cue():
    xy = np.full((5, len(KEYPOINT_NAMES), 2), np.nan)
    with pytest.raises(InputError, match="cannot tell which way the lifter faces"):
        kin.detect_facing(xy, KEYPOINT_NAMES)


def test_bad_arguments():
    xy = kin.to_body_frame(stick_figure(SHIN, THIGH, TRUNK), facing="right")
    with pytest.raises(ValueError, match="bar_proxy must be"):
        kin.compute_kinematics(xy, np.arange(3.0), KEYPOINT_NAMES, side="left", bar_proxy="hip")
    with pytest.raises(ValueError, match="facing must be"):
        kin.to_body_frame(xy, facing="up")
    missing = xy.copy()
    missing[:, [KEYPOINT_NAMES.index("left_knee"), KEYPOINT_NAMES.index("right_knee")]] = np.nan
    with pytest.raises(InputError, match="knee-hip segment is never visible|ankle-knee segment"):
        body.body_height_px(missing, KEYPOINT_NAMES, side="mean")


def test_downward_trunk_is_a_glitch_not_an_angle():
    hip = np.array([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    shoulder = np.array([[0.0, 1.0], [1.0, 1.0], [0.1, -1.0]])  # upright, 45 deg, pointing down
    angle = kin.angle_from_vertical_deg(hip, shoulder)
    np.testing.assert_allclose(angle[:2], [0.0, 45.0])
    assert np.isnan(angle[2])


def squat_cycle(n=180):
    """A side-view squat and back up, 6 s at 30 fps: shin 0->35, thigh 0->80, trunk 5->40 deg."""
    depth = np.sin(np.linspace(0.0, np.pi, n)) ** 2
    return stick_figure(35 * depth, 80 * depth, 5 + 35 * depth)


def test_no_joint_of_a_side_view_squat_is_misread_whatever_the_posture():
    xy = squat_cycle() + np.random.default_rng(0).normal(0.0, 2.0, (180, len(KEYPOINT_NAMES), 2))
    assert not kin.misread_joints(xy, KEYPOINT_NAMES, fs_hz=30.0, yaw_deg=0.0).any()


def test_a_skeleton_squeezed_to_half_is_misread_whole_and_its_jittery_edges_too():
    xy = squat_cycle()
    sizes = np.r_[0.75, 0.5, 0.7, 0.45, 0.55, 0.8]  # jitters above 0.6 inside the stretch
    for f, size in zip(range(60, 66), sizes, strict=True):
        xy[f] = xy[f, 0] + size * (xy[f] - xy[f, 0])
    misread = kin.misread_joints(xy, KEYPOINT_NAMES, fs_hz=30.0, yaw_deg=0.0)
    margin = round(kin.MISREAD_MARGIN_S * 30.0)  # the frames locking on and off
    np.testing.assert_array_equal(np.flatnonzero(misread.any(axis=1)), np.arange(60 - margin, 66 + margin))
    assert misread[60 - margin : 66 + margin].all()
    for yaw in (40.0, np.nan):  # oblique, or unknown: a shorter chain may be a posture
        assert not kin.misread_joints(xy, KEYPOINT_NAMES, fs_hz=30.0, yaw_deg=yaw).any()


def test_legs_drawn_short_under_a_trunk_of_the_right_length_misread_the_legs_only():
    xy = squat_cycle()
    legs = [i for i, n in enumerate(KEYPOINT_NAMES) if n.split("_", 1)[-1] in kin.LEG_PARTS]
    hip = xy[:, [KEYPOINT_NAMES.index("left_hip")]]
    xy[20:40, legs] = hip[20:40] + 0.15 * (xy[20:40, legs] - hip[20:40])  # knees and feet pulled up
    misread = kin.misread_joints(xy, KEYPOINT_NAMES, fs_hz=30.0, yaw_deg=0.0)
    margin = round(kin.MISREAD_MARGIN_S * 30.0)
    assert misread[20 - margin : 40 + margin, legs].all()
    assert not np.delete(misread, legs, axis=1).any()
    assert not misread[: 20 - margin].any() and not misread[40 + margin :].any()


def test_a_lifter_who_walks_nearer_is_not_misread():
    """Their size grows by 80 % over 4 s: slow, unlike a misread that jumps in a frame
    (against the clip's longest, the first frames would be at 0.56)."""
    xy = squat_cycle()
    grow = np.interp(np.arange(180), [30, 150], [1.0, 1.8])[:, None, None]
    ankle = xy[:, [KEYPOINT_NAMES.index("left_ankle")]]
    xy = ankle + grow * (xy - ankle)
    assert not kin.misread_joints(xy, KEYPOINT_NAMES, fs_hz=30.0, yaw_deg=0.0).any()


def test_a_cut_to_another_shot_puts_the_size_in_doubt_and_drops_nothing():
    """An edited clip: 0.4 s of a closer shot, then the lift filmed from farther away
    with a few misread frames. Against the closer shot's size most frames would read
    short; the size is in doubt, so nothing is dropped (the rep checks flag it)."""
    xy = squat_cycle(45)
    ankle = xy[:, [KEYPOINT_NAMES.index("left_ankle")]]
    scale = np.r_[np.full(12, 1.45), np.ones(33)]
    scale[14:20] = 0.5
    xy = ankle + scale[:, None, None] * (xy - ankle)
    assert not kin.misread_joints(xy, KEYPOINT_NAMES, fs_hz=30.0, yaw_deg=0.0).any()
