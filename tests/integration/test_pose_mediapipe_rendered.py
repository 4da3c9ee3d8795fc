"""The MediaPipe backend on the simulator's rendered lifter (slow: renders and runs pose)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip(
    "mediapipe", reason="the mediapipe backend needs mediapipe 0.10.21 (envs/pose-cpu.yaml)"
)

from hipdrive.contracts.keypoints import KEYPOINT_NAMES, long_to_frames, read_keypoints
from hipdrive.pose import estimate_poses

from ..conftest import other_side


def _rendered_squat(tmp_path, video_id: str):
    """One rendered squat rep (270x480, 30 fps), its truth in ``tmp_path / "truth"``."""
    simulate = pytest.importorskip(
        "hipdrive.simulate.study", reason="the simulator is not installed"
    )
    sample = {"video_id": video_id, "lifter_id": "L01", "lift": "squat", "variant": "high_bar",
              "load_kg": 120, "one_rm_kg": 140, "height_m": 1.8, "camera_side": "right"}  # fmt: skip
    video = tmp_path / f"{video_id}.mp4"
    simulate.simulate_video(sample, seed=1, effect_slope_deg_per_10pct=1.5, fps=30, n_reps=1,
                            video_path=video, truth_dir=tmp_path / "truth", width=270, height=480)  # fmt: skip
    return video


@pytest.mark.slow
def test_simulated_lifter_is_found_on_the_truth_timeline(tmp_path):
    """On the simulator's rendered lifter: same frames and timestamps as the truth, legs close."""
    video = _rendered_squat(tmp_path, "S1")
    meta = estimate_poses(video, tmp_path / "S1.parquet", video_id="S1")
    _, t_truth, xy_truth, _ = long_to_frames(
        read_keypoints(tmp_path / "truth" / "S1.keypoints.parquet")[0]
    )
    _, t_mp, xy_mp, _ = long_to_frames(read_keypoints(tmp_path / "S1.parquet")[0])
    assert (meta["width"], meta["height"], meta["n_frames"]) == (270, 480, len(t_truth))
    np.testing.assert_allclose(t_mp, t_truth, atol=1e-3)
    assert meta["n_frames_lost"] <= 0.05 * meta["n_frames"]
    legs = [
        KEYPOINT_NAMES.index(f"{s}_{j}")
        for s in ("left", "right")
        for j in ("hip", "knee", "ankle")
    ]
    err = np.linalg.norm(xy_mp[:, legs] - xy_truth[:, legs], axis=-1)
    assert np.nanmedian(err) < 0.05 * 480  # within 5 % of the image height


@pytest.mark.slow
def test_flip_test_reads_a_clip_and_its_mirror_image_alike(tmp_path):
    """MediaPipe reads a lifter filmed from the left and from the right differently;
    with the flip test a clip's mirror image gives the clip's keypoints mirrored."""
    from hipdrive.pose.mediapipe_backend import MediaPipeBackend
    from hipdrive.video import iter_frames

    frames = [rgb for _, _, rgb in iter_frames(_rendered_squat(tmp_path, "S2"))]
    swap = [KEYPOINT_NAMES.index(other_side(n)) for n in KEYPOINT_NAMES]

    def mirror_gap(flip_test: bool) -> np.ndarray:
        xy = []
        for clip in (frames, [np.ascontiguousarray(f[:, ::-1]) for f in frames]):
            backend = MediaPipeBackend(flip_test=flip_test, min_tracking_confidence=0.1)
            try:
                people = backend.predict(clip)
            finally:
                backend.close()
            xy.append(np.stack([p[0][0] if len(p[0]) else np.full((21, 2), np.nan) for p in people]))
        back = xy[1][:, swap].copy()
        back[..., 0] = 270 - back[..., 0]
        return np.linalg.norm(xy[0] - back, axis=-1)

    assert np.nanmedian(mirror_gap(False)) > 1.0  # the model alone: px apart
    gap = mirror_gap(True)
    assert np.isfinite(gap).mean() > 0.95
    assert np.nanmax(gap) < 0.01
