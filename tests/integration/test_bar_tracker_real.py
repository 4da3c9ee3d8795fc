"""The bar tracker on the real squat clip with a hand-marked bar end (slow: MediaPipe on
the whole clip)."""

from __future__ import annotations

import numpy as np
import pytest

from ..conftest import REAL


def _real_inputs():
    if not REAL.is_dir():
        pytest.skip(f"{REAL} is absent (real footage lives beside the repository on CI only)")
    return (
        REAL / "videos" / "squat_stynes_small-squat_stabilised.mp4",
        np.loadtxt(
            REAL / "bar" / "squat_stynes_small-squat_bar_manual_annotation.txt", delimiter=","
        ),
    )


@pytest.mark.slow
def test_real_squat_bar_end_matches_the_hand_marked_path(tmp_path) -> None:
    """MediaPipe + the tracker on the real clip, against the hand-marked bar end (<= 10 px)."""
    pytest.importorskip("mediapipe")
    from hipdrive.contracts.keypoints import read_keypoints
    from hipdrive.pose import estimate_poses

    video, marks = _real_inputs()
    out = tmp_path / "kp.parquet"
    meta = estimate_poses(video, out, video_id="stynes", options={"track_bar": True})
    table, _ = read_keypoints(out)
    bar = table[(table["keypoint"] == "bar_end") & (table["track"] == 0)].sort_values("frame")
    xy = bar[["x", "y"]].to_numpy(float)
    n = min(len(xy), len(marks))
    err = np.linalg.norm(xy[:n] - marks[:n], axis=1)
    assert meta["bar_track"]["point"] == "sleeve_end"
    assert np.isfinite(err).mean() >= 0.99
    assert np.nanmean(err) <= 10.0, np.nanmean(err)
