"""Rendering: truth keypoints on the drawn limbs, mirror images, the mp4 and its rotation."""

from __future__ import annotations

import numpy as np
import pytest

from hipdrive.contracts.files import sha256_file
from hipdrive.contracts.keypoints import KEYPOINT_NAMES, long_to_frames, read_keypoints
from hipdrive.simulate import build_motion, simulate_video
from hipdrive.simulate.render import Appearance, render_frames
from hipdrive.simulate.truth import default_camera, project_keypoints

IDX = {n: i for i, n in enumerate(KEYPOINT_NAMES)}
SQUAT = {
    "video_id": "L02_squat_090", "lifter_id": "L02", "lift": "squat", "variant": "high_bar",
    "load_kg": 90.0, "one_rm_kg": 100.0, "height_m": 1.75, "camera_side": "right",
}  # fmt: skip
DEADLIFT = {**SQUAT, "video_id": "L02_deadlift_080", "lift": "deadlift", "variant": "conventional",
            "load_kg": 120.0, "one_rm_kg": 150.0}  # fmt: skip
GREEN = np.array([0, 255, 0], np.uint8)


def _frames(sample, times_fn, facing="right", background=True):
    lifter, motion = build_motion({**sample, "camera_side": facing}, seed=4, effect_slope_deg_per_10pct=1.0,
                                  n_reps=1)  # fmt: skip
    camera = default_camera(lifter.anthro.height_m, facing=facing)
    t = times_fn(motion)
    look = Appearance.draw(np.random.default_rng(1))
    bg = np.broadcast_to(GREEN, (camera.height, camera.width, 3)).copy() if background else None
    imgs = list(render_frames(motion, camera, t, appearance=look, rng=np.random.default_rng(2), noise_sd=0.0,
                              background=bg))  # fmt: skip
    kp = project_keypoints(motion.pose(t), camera, lifter.anthro.height_m)
    return imgs, kp, look, motion


def _phases(motion):
    r = motion.reps[0]
    tb = motion.bottom_time(r)
    return np.array(
        [
            0.1,
            r.t_start + 0.5 * r.descent_s,
            tb,
            tb + 0.3 * r.ascent_s,
            motion.ascent_end_time(r) + 0.05,
        ]
    )


def _pixel(img, xy):
    return img[int(round(xy[1])), int(round(xy[0]))]


@pytest.mark.parametrize("sample", [SQUAT, DEADLIFT])
def test_true_joints_lie_on_the_drawn_body(sample):
    imgs, kp, look, _ = _frames(sample, _phases)
    near = "right"
    for img, pts in zip(imgs, kp, strict=True):
        joints = [
            pts[IDX[f"{near}_{p}"]]
            for p in ("hip", "knee", "ankle", "heel", "big_toe", "shoulder", "wrist")
        ]
        joints += [pts[IDX["nose"]], pts[IDX[f"{near}_eye"]], pts[IDX[f"{near}_ear"]]]
        mids = [0.5 * (pts[IDX[f"{near}_{a}"]] + pts[IDX[f"{near}_{b}"]]) for a, b in
                [("hip", "knee"), ("knee", "ankle"), ("hip", "shoulder"), ("elbow", "wrist")]]  # fmt: skip
        for xy in joints + mids:
            assert not np.array_equal(_pixel(img, xy), GREEN), f"background at true point {xy}"
        # the thigh is clothed: its middle has the shorts' colour (unless a plate is in front)
        thigh = _pixel(img, mids[0]).astype(int)
        plate_near = np.hypot(*(mids[0] - pts[IDX[f"{near}_wrist"]])) < 0.3 * 200
        if not plate_near:  # the cloth's colour, or its highlight (x 1.18)
            shades = [
                np.array(look.shorts),
                np.clip(np.array(look.shorts) * 1.18, 0, 255).astype(int),
            ]
            assert min(np.abs(thigh - c).max() for c in shades) <= 3
    # the whole silhouette hugs the keypoints: nothing drawn far outside their box (plates aside)
    lifter = np.any(imgs[0] != GREEN, axis=2)
    ys, xs = np.nonzero(lifter)
    box = kp[0]
    assert xs.min() > box[:, 0].min() - 120 and xs.max() < box[:, 0].max() + 120
    assert ys.max() < box[:, 1].max() + 25


def test_facing_left_render_is_the_mirror_image():
    right, kp_r, _, _ = _frames(SQUAT, _phases, facing="right", background=False)
    left, kp_l, _, _ = _frames(SQUAT, _phases, facing="left", background=False)
    for a, b in zip(right, left, strict=True):
        np.testing.assert_array_equal(b, a[:, ::-1])
    width = right[0].shape[1]
    np.testing.assert_allclose(
        kp_l[:, IDX["left_knee"], 0], width - 1 - kp_r[:, IDX["right_knee"], 0], atol=1e-6
    )


@pytest.fixture(scope="module")
def small_videos(tmp_path_factory):
    out = tmp_path_factory.mktemp("videos")
    kw = dict(seed=9, effect_slope_deg_per_10pct=1.0, n_reps=1, width=180, height=320)
    simulate_video(SQUAT, video_path=out / "upright.mp4", truth_dir=out, **kw)
    simulate_video(SQUAT, video_path=out / "rot.mp4", truth_dir=out / "rot", rotation=90, **kw)
    return out


def test_mp4_frames_and_times_match_the_truth(small_videos):
    from hipdrive.video import iter_frames, probe_video

    table, meta = read_keypoints(small_videos / f"{SQUAT['video_id']}.keypoints.parquet")
    frames, time_s, _, _ = long_to_frames(table)
    info = probe_video(small_videos / "upright.mp4")
    assert (info.width, info.height, info.rotation) == (180, 320, 0)
    decoded = list(iter_frames(small_videos / "upright.mp4"))
    assert len(decoded) == meta["n_frames"] == len(frames)
    np.testing.assert_allclose([t for _, t, _ in decoded], time_s, atol=1e-6)
    from hipdrive.contracts.files import sha256_file

    assert meta["video_sha256"] == sha256_file(small_videos / "upright.mp4")


def test_phone_rotation_is_seen_by_the_decoder(small_videos):
    from hipdrive.video import iter_frames, probe_video

    info = probe_video(small_videos / "rot.mp4")
    assert info.rotation == 90 and (info.width, info.height) == (180, 320)
    _, meta = read_keypoints(small_videos / "rot" / f"{SQUAT['video_id']}.keypoints.parquet")
    assert meta["rotation"] == 90 and (meta["width"], meta["height"]) == (180, 320)
    up = [f for _, _, f in iter_frames(small_videos / "upright.mp4")]
    rot = [f for _, _, f in iter_frames(small_videos / "rot.mp4")]
    assert rot[0].shape == up[0].shape == (320, 180, 3)
    # same clip, same upright pixels up to compression noise
    diff = np.mean(
        [
            np.abs(a.astype(int) - b.astype(int)).mean()
            for a, b in zip(up[::10], rot[::10], strict=True)
        ]
    )
    assert diff < 3.0


def test_render_options_change_the_image():
    lifter, motion = build_motion(SQUAT, seed=4, effect_slope_deg_per_10pct=1.0, n_reps=1)
    camera = default_camera(lifter.anthro.height_m, facing="right", width=480, height=270)
    t = np.array([0.5, 1.5, 2.5])
    look = Appearance.draw(np.random.default_rng(1))

    def render(**kw):
        bg = np.full((camera.height, camera.width, 3), 128, np.uint8)
        return np.stack(list(render_frames(motion, camera, t, appearance=look, rng=np.random.default_rng(2),
                                           noise_sd=0.0, background=bg, **kw)))  # fmt: skip

    plain = render()
    assert plain.shape == (3, 270, 480, 3)
    kp = project_keypoints(motion.pose(t), camera, lifter.anthro.height_m)
    far_from_lifter = np.ones(plain.shape[1:3], bool)
    far_from_lifter[:, int(kp[..., 0].min()) - 60 : int(kp[..., 0].max()) + 60] = False
    with_spotter = render(spotter=True)
    assert np.any(
        with_spotter[:, far_from_lifter] != plain[:, far_from_lifter]
    )  # someone walks behind
    blurred = render(motion_blur=True)
    assert np.any(blurred[1] != plain[1]) and np.array_equal(
        blurred[:, far_from_lifter], plain[:, far_from_lifter]
    )
    noisy = np.stack(list(render_frames(motion, camera, t, appearance=look, rng=np.random.default_rng(2),
                                        noise_sd=4.0, background=np.full((270, 480, 3), 128, np.uint8))))  # fmt: skip
    assert 2.0 < np.std(noisy[0, :, :20].astype(float)) < 6.0
    shaken = render(shake_px=np.array([[0.0, 0.0], [5.0, -3.0], [0.0, 0.0]]))
    assert np.array_equal(shaken[0], plain[0]) and not np.array_equal(shaken[1], plain[1])


def test_a_render_is_reproducible_to_the_byte(tmp_path):
    """The same row, seed and size give the same mp4 (a study can be rebuilt exactly)."""
    digests = []
    for k in range(3):
        simulate_video(SQUAT, seed=7, effect_slope_deg_per_10pct=1.5, n_reps=1, video_path=tmp_path / f"{k}.mp4",
                       truth_dir=tmp_path / str(k), width=360, height=640)  # fmt: skip
        digests.append(sha256_file(tmp_path / f"{k}.mp4"))
    assert len(set(digests)) == 1
