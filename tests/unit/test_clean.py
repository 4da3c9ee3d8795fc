"""Cleaning: score gating, gaps, Butterworth filtering, noise estimates, outliers, swaps."""

from __future__ import annotations

import numpy as np
import pytest

from hipdrive.analysis import clean, filters
from hipdrive.contracts.keypoints import KEYPOINT_NAMES
from hipdrive.errors import InputError


def test_gate_by_score_drops_low_scores_only():
    xy = np.arange(24, dtype=float).reshape(3, 4, 2)
    score = np.array([[0.9, 0.1, 0.5, 0.29], [0.3, 0.3, 0.0, 1.0], [1.0] * 4])
    out = clean.gate_by_score(xy, score, score_threshold=0.3)
    assert np.isnan(out[[0, 0, 1], [1, 3, 2]]).all()
    assert np.isfinite(out).sum() == 2 * (12 - 3)
    assert np.isfinite(xy).all()  # input untouched


def test_gate_by_score_rejects_bad_threshold():
    with pytest.raises(ValueError, match="score_threshold must be in 0..1"):
        clean.gate_by_score(np.zeros((2, 1, 2)), np.ones((2, 1)), score_threshold=1.5)


def test_short_gap_filled_exactly_long_gap_and_edges_left_missing():
    t = np.arange(100) / 50.0  # 50 Hz
    x = 3.0 * t + 1.0  # linear: interpolation is exact
    x_nan = x.copy()
    x_nan[10:15] = np.nan  # 5 missing -> 0.12 s between good frames
    x_nan[40:60] = np.nan  # 20 missing -> 0.42 s
    x_nan[:3] = np.nan  # leading edge
    filled, long_gap = clean.fill_short_gaps(x_nan[:, None], t, max_gap_s=0.2)
    np.testing.assert_allclose(filled[10:15, 0], x[10:15], rtol=1e-12)
    assert np.isnan(filled[40:60, 0]).all() and long_gap[40:60, 0].all()
    assert np.isnan(filled[:3, 0]).all() and long_gap[:3, 0].all()
    assert not long_gap[3:40, 0].any() and not long_gap[60:, 0].any()


def test_fill_from_donor_keeps_the_carriers_shape_and_meets_both_ends():
    """A bar lost for part of a rep follows the body carrying it (scaled by their
    fitted gain), not a straight line; edges are anchored at their one known end;
    where the carrier is unknown too nothing is made up."""
    t = np.linspace(0.0, 4.0, 241)
    donor = np.stack([0.2 * np.sin(t), np.cos(2.0 * t) ** 2], axis=1)  # (n, 2)
    target = 1.4 * donor + [3.0, -1.0]  # a near plate: farther travel, offset
    lost = target.copy()
    lost[100:130] = np.nan  # half a second inside
    lost[:20] = np.nan  # not found yet
    lost[230:] = np.nan  # lost at the end
    lost[60:70] = np.nan
    donor_gap = donor.copy()
    donor_gap[65] = np.nan  # the carrier unseen inside the 60-70 gap
    out = clean.fill_from_donor(lost, donor_gap)
    np.testing.assert_allclose(out[100:130], target[100:130], atol=1e-9)
    np.testing.assert_allclose(out[:20], target[:20], atol=1e-9)
    np.testing.assert_allclose(out[230:], target[230:], atol=1e-9)
    assert np.isnan(out[60:70]).all()
    # a straight line across the 100-130 gap would miss the path by this much:
    straight = np.interp(t[100:130], t[[99, 130]], target[[99, 130], 1])
    assert np.abs(straight - target[100:130, 1]).max() > 0.05
    # a carrier offset from the truth by a constant still meets both ends
    drift = clean.fill_from_donor(lost[:, 1], donor[:, 1] + 0.01 * t)
    assert drift[99] == lost[99, 1] and abs(drift[129] - target[129, 1]) < 0.01


def test_short_gap_uses_time_not_frames():
    t = np.array([0.0, 0.1, 0.2, 0.5, 0.6])  # uneven spacing
    x = np.array([0.0, 1.0, np.nan, 5.0, 6.0])
    filled, _ = clean.fill_short_gaps(x, t, max_gap_s=1.0)
    assert filled[2] == pytest.approx(1.0 + (5.0 - 1.0) * (0.2 - 0.1) / (0.5 - 0.1))


def test_butterworth_keeps_1hz_removes_30hz_without_lag():
    fs = 200.0
    t = np.arange(0, 10, 1 / fs)
    slow, fast = np.sin(2 * np.pi * 1.0 * t), 0.5 * np.sin(2 * np.pi * 30.0 * t)
    out = filters.butter_lowpass(slow + fast, fs_hz=fs, cutoff_hz=6.0)
    mid = slice(200, -200)
    assert np.max(np.abs(out[mid] - slow[mid])) < 0.01  # 30 Hz gone, 1 Hz kept, no lag
    lags = np.arange(-20, 21)
    xc = [np.dot(np.roll(out, k)[mid], slow[mid]) for k in lags]
    assert lags[int(np.argmax(xc))] == 0


def test_butterworth_is_minus_3db_at_cutoff_after_two_passes():
    fs, fc = 120.0, 6.0
    t = np.arange(0, 20, 1 / fs)
    out = filters.butter_lowpass(np.sin(2 * np.pi * fc * t), fs_hz=fs, cutoff_hz=fc)
    amp = np.sqrt(2) * np.std(out[600:-600])
    assert amp == pytest.approx(1 / np.sqrt(2), abs=0.01)
    raw = filters.butter_lowpass(
        np.sin(2 * np.pi * fc * t), fs_hz=fs, cutoff_hz=fc, correct_for_passes=False
    )
    assert np.sqrt(2) * np.std(raw[600:-600]) == pytest.approx(0.5, abs=0.01)  # |H|^2 at fc


def test_butterworth_filters_around_nan_without_smearing():
    fs = 60.0
    t = np.arange(0, 6, 1 / fs)
    x = np.sin(2 * np.pi * 0.5 * t)
    x[150:170] = np.nan
    out = filters.butter_lowpass(np.column_stack([x, x]), fs_hz=fs, cutoff_hz=6.0)
    assert np.isnan(out[150:170]).all()
    assert np.isfinite(out[:150]).all() and np.isfinite(out[170:]).all()
    np.testing.assert_allclose(out[100:145, 0], x[100:145], atol=2e-3)


@pytest.mark.parametrize("cutoff", [0.0, 29.0, -1.0])
def test_butterworth_rejects_bad_cutoff(cutoff):
    with pytest.raises(ValueError, match="cutoff_hz"):
        filters.butter_lowpass(np.zeros(50), fs_hz=60.0, cutoff_hz=cutoff)


def test_residual_cutoff_tracks_the_noise():
    fs = 100.0
    t = np.arange(0, 20, 1 / fs)
    rng = np.random.default_rng(3)
    signal = np.sin(2 * np.pi * 1.0 * t) + 0.3 * np.sin(2 * np.pi * 3.0 * t)
    quiet = filters.residual_cutoff(signal + rng.normal(0, 0.005, t.size), fs_hz=fs)
    noisy = filters.residual_cutoff(signal + rng.normal(0, 0.05, t.size), fs_hz=fs)
    assert 3.0 <= noisy <= quiet <= 20.0
    assert noisy < quiet


def test_white_noise_sd_and_velocity_gain_match_simulation():
    rng = np.random.default_rng(0)
    for fs in (30.0, 60.0):
        x = rng.normal(0.0, 2.0, 40_000)
        f = filters.butter_lowpass(x, fs_hz=fs, cutoff_hz=6.0)
        assert filters.white_noise_sd(x, f, fs_hz=fs, cutoff_hz=6.0) == pytest.approx(2.0, rel=0.03)
        v_sd = np.std(np.gradient(f, 1 / fs))
        assert 2.0 * filters.velocity_noise_gain(fs_hz=fs, cutoff_hz=6.0) == pytest.approx(
            v_sd, rel=0.03
        )


def test_resample_uniform_undoes_millisecond_rounding():
    fs = 60.0
    t_true = np.arange(120) / fs
    t = np.round(t_true * 1000) / 1000  # a 1 ms container time base
    xy = np.stack([t, t**2], axis=-1)[:, None, :] * 100.0  # positions at the rounded times
    score = np.ones((120, 1))
    t_u, xy_u, score_u, source = clean.resample_uniform(xy, score, t, fs_hz=fs)
    np.testing.assert_allclose(np.diff(t_u), 1 / fs, rtol=1e-9)
    np.testing.assert_allclose(xy_u[:, 0, 0], 100 * t_u, atol=1e-9)  # linear: exact
    np.testing.assert_allclose(xy_u[:, 0, 1], 100 * t_u**2, atol=1e-3)
    assert np.all(np.abs(t[source] - t_u) <= 0.5 / fs)
    same = clean.resample_uniform(xy, score, t_true, fs_hz=fs)
    assert same[1] is not None and np.array_equal(same[3], np.arange(120))


def test_reject_outliers_flags_exactly_the_jumps():
    fs = 60.0
    t = np.arange(0, 5, 1 / fs)
    rng = np.random.default_rng(1)
    xy = np.zeros((t.size, 2, 2))
    xy[:, :, 0] = 300 + 50 * np.sin(2 * np.pi * 0.5 * t)[:, None]
    xy[:, :, 1] = 500 + 80 * np.cos(2 * np.pi * 0.4 * t)[:, None]
    xy += rng.normal(0, 0.5, xy.shape)
    jumps = [(40, 0), (41, 0), (200, 1)]
    for f, k in jumps:
        xy[f, k, 1] += 60.0
    mask = clean.reject_outliers(xy, t, fs_hz=fs, cutoff_hz=6.0, threshold_px=15.0)
    assert sorted(zip(*np.nonzero(mask), strict=True)) == jumps


def _two_leg_track(n=200):
    """Side-view legs 40 px apart that move smoothly; left is the near leg."""
    names = KEYPOINT_NAMES
    t = np.arange(n) / 60.0
    xy = np.zeros((n, len(names), 2))
    for k, name in enumerate(names):
        base = 300.0 + 10 * k
        offset = -20.0 if name.startswith("left_") else 20.0 if name.startswith("right_") else 0.0
        xy[:, k, 0] = base + offset + 30 * np.sin(2 * np.pi * 0.5 * t)
        xy[:, k, 1] = 400.0 + 5 * k + 20 * np.cos(2 * np.pi * 0.5 * t)
    score = np.where([n.startswith("left_") for n in names], 0.95, 0.6)[None, :].repeat(n, 0)
    return xy, score, names


def test_fix_limb_swaps_undoes_and_flags_a_label_swap():
    xy, score, names = _two_leg_track()
    left, right = clean.left_right_pairs(names)
    legs = [
        i
        for i, li in enumerate(left)
        if names[li][5:] in ("hip", "knee", "ankle", "heel", "big_toe")
    ]
    bad = xy.copy()
    bad_score = score.copy()
    rows = np.arange(80, 110)
    cols_l, cols_r = left[legs], right[legs]
    bad[np.ix_(rows, np.r_[cols_l, cols_r])] = xy[np.ix_(rows, np.r_[cols_r, cols_l])]
    bad_score[np.ix_(rows, np.r_[cols_l, cols_r])] = score[np.ix_(rows, np.r_[cols_r, cols_l])]
    fixed, fixed_score, swapped = clean.fix_limb_swaps(bad, bad_score, names, min_separation_px=5.0)
    np.testing.assert_array_equal(np.flatnonzero(swapped), rows)
    np.testing.assert_allclose(fixed, xy)
    np.testing.assert_allclose(fixed_score, score)


def test_fix_limb_swaps_leaves_overlapping_sides_alone():
    xy, score, names = _two_leg_track()
    left, right = clean.left_right_pairs(names)
    xy[:, right] = xy[:, left]  # a pure side view: both sides project to one point
    _, _, swapped = clean.fix_limb_swaps(xy, score, names, min_separation_px=5.0)
    assert not swapped.any()


def test_clean_keypoints_reports_gaps_dropouts_and_lost_frames():
    xy, score, names = _two_leg_track(300)
    t = np.arange(300) / 60.0
    score[100:130] = 0.0  # the lifter is lost for 0.5 s: a long gap everywhere
    xy[100:130] = np.nan
    score[200:203, 11] = 0.05  # left hip low-confidence for 3 frames: bridged
    res = clean.clean_keypoints(
        xy,
        score,
        t,
        names,
        fs_hz=60.0,
        score_threshold=0.3,
        max_gap_s=0.2,
        cutoff_hz=6.0,
        scale_px=500.0,
    )
    assert res.lifter_lost[100:130].all() and not res.lifter_lost[:100].any()
    assert res.long_gap[100:130].all() and not res.long_gap[131:].any()
    assert res.low_confidence[200:203, 11].all() and np.isfinite(res.xy[200:203, 11]).all()
    assert res.cutoff_hz == 6.0
    with pytest.raises(InputError, match="keypoint arrays disagree"):
        clean.clean_keypoints(
            xy[:10], score[:9], t[:10], names, fs_hz=60.0, score_threshold=0.3, max_gap_s=0.2,
            cutoff_hz=6.0, scale_px=500.0,
        )  # fmt: skip
