"""Choosing the lifter (track 0) among several detected people."""

from __future__ import annotations

import numpy as np
import pytest

from hipdrive.pose.lifter import box_iou, link_tracks, select_lifter, track_features

W, H, N, K = 640, 480, 90, 21


def stick(cx: float, top: float, height: float) -> np.ndarray:
    """A person as K points spread over a box of ``height`` x ``height / 3`` centred at cx."""
    u = np.linspace(0, 1, K)
    return np.column_stack([cx + (u - 0.5) * height / 3, top + u * height])


def scene(*, lifter_gap: slice | None = None, shuffle: bool = True):
    """A lifter squatting mid-frame and a larger walker crossing at the edge."""
    rng = np.random.default_rng(1)
    t = np.arange(N)
    lifter_top = 120 + 60 * (1 - np.cos(2 * np.pi * t / 45)) / 2  # down and up twice
    walker_cx = 20 + 1.0 * t  # walks right along the left edge
    people, truth = [], []
    for f in range(N):
        xy = [stick(320, lifter_top[f], 300), stick(walker_cx[f], 60, 330)]
        sc = [np.full(K, 0.9), np.full(K, 0.8)]
        if lifter_gap is not None and lifter_gap.start <= f < lifter_gap.stop:
            xy, sc = xy[1:], sc[1:]
        order = rng.permutation(len(xy)) if shuffle else np.arange(len(xy))
        people.append(
            (np.array(xy)[order].astype(np.float32), np.array(sc)[order].astype(np.float32))
        )
        truth.append(stick(320, lifter_top[f], 300))
    return people, np.array(truth)


def test_the_central_vertically_moving_person_is_track_0_despite_shuffled_detections():
    people, truth = scene()
    tracks, info = select_lifter(people, width=W, height=H)
    assert len(tracks) == 1
    np.testing.assert_allclose(tracks[0][0], truth, atol=1e-4)
    assert info["n_frames_lost"] == 0 and info["n_tracks"] == 2
    assert info["lifter_selection"]["vertical"] > 0.15


def test_keep_others_returns_the_walker_as_track_1():
    people, _ = scene()
    tracks, _ = select_lifter(people, width=W, height=H, keep_others=True)
    assert len(tracks) == 2
    np.testing.assert_allclose(tracks[1][0][:, 0, 0], 20 + np.arange(N) - 55, atol=1e-4)


def test_frames_without_the_lifter_are_nan_score_zero_and_counted():
    people, truth = scene(lifter_gap=slice(30, 40))
    tracks, info = select_lifter(people, width=W, height=H)
    xy, score = tracks[0]
    assert info["n_frames_lost"] == 10
    assert np.isnan(xy[30:40]).all() and (score[30:40] == 0).all()
    # the lifter's track resumes after the gap (not replaced by the walker)
    np.testing.assert_allclose(xy[40:], truth[40:], atol=1e-4)


def test_lifter_track_is_merged_across_a_gap_longer_than_the_linking_window():
    people, truth = scene(lifter_gap=slice(20, 60))  # 40 frames > max_gap_frames=30
    assert len(link_tracks(people)) == 3
    tracks, info = select_lifter(people, width=W, height=H)
    np.testing.assert_allclose(tracks[0][0][:20], truth[:20], atol=1e-4)
    np.testing.assert_allclose(tracks[0][0][60:], truth[60:], atol=1e-4)
    assert info["n_frames_lost"] == 40


def test_single_person_backend_needs_no_tracking():
    xy = np.stack([stick(300, 100 + f, 200) for f in range(5)]).astype(np.float32)
    people = [(xy[f : f + 1], np.ones((1, K), np.float32)) for f in range(5)]
    people[2] = (np.empty((0, K, 2), np.float32), np.empty((0, K), np.float32))
    tracks, info = select_lifter(people, width=W, height=H)
    assert (
        info["n_frames_lost"] == 1 and info["lifter_selection"]["rule"] == "single person per frame"
    )
    assert np.isnan(tracks[0][0][2]).all()
    np.testing.assert_array_equal(tracks[0][0][[0, 1, 3, 4]], xy[[0, 1, 3, 4]])


def test_nobody_anywhere_gives_an_all_lost_track():
    empty = (np.empty((0, K, 2), np.float32), np.empty((0, K), np.float32))
    tracks, info = select_lifter([empty] * 4, width=W, height=H)
    assert tracks[0][0].shape == (4, K, 2) and np.isnan(tracks[0][0]).all()
    assert info["n_frames_lost"] == 4 and info["n_tracks"] == 0


def test_box_iou_by_hand():
    a = np.array([[0, 0, 10, 10]])
    b = np.array([[5, 0, 15, 10], [20, 20, 30, 30], [0, 0, 10, 10]])
    np.testing.assert_allclose(box_iou(a, b), [[50 / 150, 0.0, 1.0]])


def test_track_features_by_hand():
    xy = np.stack([stick(320, 90, 300)] * 10)
    feats = track_features(xy, np.ones((10, K)), width=W, height=H)
    assert feats["presence"] == 1.0
    assert feats["size"] == pytest.approx(300 / H, rel=1e-3)
    assert feats["centrality"] == pytest.approx(1 - 0 / 400, abs=1e-3)  # box centre = image centre
    assert feats["vertical"] == 0.0
