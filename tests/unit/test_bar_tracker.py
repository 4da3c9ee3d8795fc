"""The bar tracker (hipdrive.pose.bar_tracker) on rendered discs with a known path (the real
squat clip with a hand-marked bar end: tests/integration/test_bar_tracker_real.py)."""

from __future__ import annotations

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2")

from hipdrive.pose.bar_tracker import subpixel_peak, track_bar, track_template  # noqa: E402

SHIFT = 4  # cv2 drawing with 4 fractional bits: sub-pixel centres


def _pt(x: float, y: float) -> tuple[int, int]:
    return int(round(x * (1 << SHIFT))), int(round(y * (1 << SHIFT)))


def render_plate(
    path: np.ndarray,
    *,
    radius: float = 60.0,
    tip: np.ndarray | None = None,
    blob: tuple[np.ndarray, np.ndarray] | None = None,
):
    """RGB frames of a textured plate moving along ``path`` over a static textured background.

    ``tip`` (optional, one row per frame) draws a small sleeve-end disc there;
    ``blob`` (centres, semi-axes: one row each per frame) a dark ellipse, as a
    body part beside the plate.
    """
    rng = np.random.default_rng(0)
    background = cv2.GaussianBlur(rng.integers(0, 255, (420, 560), dtype=np.uint8), (0, 0), 3)
    background = cv2.normalize(background, None, 40, 120, cv2.NORM_MINMAX)
    frames = []
    for i, (x, y) in enumerate(path):
        img = background.copy()
        s = 1 << SHIFT
        cv2.circle(img, _pt(x, y), int(radius * s), 210, -1, cv2.LINE_AA, SHIFT)
        cv2.circle(img, _pt(x, y), int(0.55 * radius * s), 150, 3, cv2.LINE_AA, SHIFT)
        cv2.circle(img, _pt(x, y), int(0.15 * radius * s), 60, -1, cv2.LINE_AA, SHIFT)
        # asymmetric print so the patch has texture in both directions
        cv2.rectangle(img, _pt(x - 30, y - 45), _pt(x + 10, y - 35), 90, -1, cv2.LINE_AA, SHIFT)
        cv2.rectangle(img, _pt(x + 28, y - 10), _pt(x + 38, y + 25), 90, -1, cv2.LINE_AA, SHIFT)
        if blob is not None:
            (bx, by), (ax, ay) = blob[0][i], blob[1][i]
            cv2.ellipse(img, _pt(bx, by), _pt(ax, ay), 0, 0, 360, 15, -1, cv2.LINE_AA, SHIFT)
        if tip is not None:
            cv2.circle(img, _pt(*tip[i]), int(7 * s), 250, -1, cv2.LINE_AA, SHIFT)
            cv2.circle(img, _pt(*tip[i]), int(7 * s), 30, 2, cv2.LINE_AA, SHIFT)
        frames.append(cv2.cvtColor(img, cv2.COLOR_GRAY2RGB))
    return frames


def lift_path(n: int = 60) -> np.ndarray:
    """A deadlift-like path: rest, a smooth 150 px rise with a small horizontal drift, hold."""
    t = np.clip((np.arange(n) - 10) / 35, 0, 1)
    rise = 0.5 - 0.5 * np.cos(np.pi * t)
    return np.column_stack([280 + 6.3 * rise + 0.37 * np.sin(np.arange(n) / 5), 300 - 150.4 * rise])


def test_subpixel_peak_finds_a_parabola_vertex() -> None:
    yy, xx = np.mgrid[0:9, 0:11]
    response = 1.0 - 0.02 * (xx - 4.3) ** 2 - 0.03 * (yy - 5.6) ** 2
    x, y, peak = subpixel_peak(response)
    assert x == pytest.approx(4.3, abs=1e-9) and y == pytest.approx(5.6, abs=1e-9)
    assert peak == pytest.approx(response.max())


def test_tracks_a_moving_disc_within_one_pixel() -> None:
    path = lift_path()
    frames = render_plate(path)
    hands = path + np.array([4.0, 12.0])  # the grip sits near, not on, the hub
    track = track_bar(frames, hands, body_height_px=420.0)
    assert track.point == "hub"
    assert track.radius_px == pytest.approx(60, abs=4)
    err = np.linalg.norm(track.xy - path, axis=1)
    assert np.isfinite(err).all()
    assert err.mean() < 0.8 and err.max() < 1.0, (err.mean(), err.max())
    assert (track.score > 0.9).all()


def test_follows_the_sleeve_end_where_perspective_moves_it() -> None:
    path = lift_path()
    # the tip of a sleeve pointing at the camera moves away from the principal point
    tip = path + 0.25 * (path - np.array([280.0, 260.0]))
    frames = render_plate(path, tip=tip)
    track = track_bar(frames, path + np.array([4.0, 12.0]), body_height_px=420.0)
    assert track.point == "sleeve_end"
    err = np.linalg.norm(track.xy - tip, axis=1)
    assert err.mean() < 1.0, err.mean()


def test_a_body_part_round_in_one_frame_only_is_not_taken_for_the_plate() -> None:
    # A dark blob under the hands, round while the bar rests (where the finder
    # looks) and stretched as it rises, like an arm: nearer the hands than the
    # plate and moving with them, it must still lose to the plate, which stays round.
    path = lift_path()
    rise = (path[0, 1] - path[:, 1]) / 150.4
    centres = path + np.array([0.0, -100.0])
    axes = np.column_stack([40 * (1 + 0.8 * rise), 40 / (1 + 0.8 * rise)])
    frames = render_plate(path, blob=(centres, axes))
    hands = centres + np.array([3.0, 5.0])
    track = track_bar(frames, hands, body_height_px=500.0)
    assert track.radius_px == pytest.approx(60, abs=4)
    err = np.linalg.norm(track.xy - path, axis=1)
    assert np.nanmax(err) < 1.0, np.nanmax(err)


@pytest.mark.parametrize("misread_frames", [5, 12])
def test_a_wrist_misread_below_the_bar_does_not_hide_the_plate(misread_frames: int) -> None:
    # The pose model loses the arm behind the plate at the lockout hold and puts
    # the wrist 250 px below the bar, lower than the hands ever are: the first
    # search, at the lowest hands, lies where no plate is, and the plate is found
    # at another low moment of the hands' running median, for a short misread
    # (5 frames at 30 fps) and for one longer than half the median's window (12).
    path = lift_path()
    frames = render_plate(path)
    hands = path + np.array([4.0, 12.0])
    hands[48 : 48 + misread_frames, 1] += 250.0
    track = track_bar(frames, hands, body_height_px=420.0, fs_hz=30.0)
    assert track.point == "hub"
    err = np.linalg.norm(track.xy - path, axis=1)
    assert np.isfinite(err).all() and err.max() < 1.0, np.nanmax(err)


def test_lost_frames_are_nan_with_score_zero() -> None:
    path = lift_path()
    frames = render_plate(path)
    hidden = range(50, 54)
    for i in hidden:  # the plate leaves the picture: a blank frame
        frames[i] = np.full_like(frames[i], 128)
    track = track_bar(frames, path + np.array([4.0, 12.0]), body_height_px=420.0)
    assert np.isnan(track.xy[list(hidden)]).all()
    assert (track.score[list(hidden)] == 0).all()
    back = np.linalg.norm(track.xy[55:] - path[55:], axis=1)
    assert back.max() < 1.0  # found again when it comes back


def test_a_patch_lost_after_changing_its_look_is_recaptured_by_an_earlier_view() -> None:
    # Two unrelated looks of one patch: look B at the bottom, look A at the top,
    # blended in between (a hub framed by the arms at a squat's bottom and by the
    # shoulders at the top). It rises slowly (followed as its look changes), comes
    # back down, then jumps to the top in one frame: the last template (look B)
    # never matches look A, the view kept at the top does.
    rng = np.random.default_rng(3)

    def texture() -> np.ndarray:
        t = cv2.GaussianBlur(rng.normal(0, 1, (31, 31)), (0, 0), 1.5)
        return 128 + 50 * t / t.std()

    look_a, look_b = texture(), texture()
    background = cv2.GaussianBlur(rng.normal(0, 1, (140, 200)), (0, 0), 2.0)
    background = 128 + 30 * background / background.std()
    top, bottom = 30, 90
    ys = np.concatenate([
        np.linspace(bottom, top, 13), np.full(5, top), np.linspace(top, bottom, 13),
        np.full(4, bottom), np.full(12, top),
    ])  # fmt: skip
    images = []
    for y in ys:
        w = (y - top) / (bottom - top)  # 0 at the top: look A; 1 at the bottom: look B
        img = background.copy()
        img[int(y) - 15 : int(y) + 16, 85:116] = (1 - w) * look_a + w * look_b
        images.append(np.clip(img, 0, 255).astype(np.uint8))
    jump = len(ys) - 12
    xy, score = track_template(images, 0, np.array([100.0, bottom]), half=15, reach_px=8.0)
    assert np.abs(xy[:jump, 1] - ys[:jump]).max() < 0.5  # followed through the change
    assert np.isnan(xy[jump]).all()  # the jump outruns the search...
    after = xy[jump + 5 :]
    assert np.isfinite(after).all(), "not recaptured"  # ... which widens and finds it
    assert np.abs(after - [100.0, top]).max() < 0.5
    assert (score[jump + 5 :] >= 0.8).all()
    # without the views (the sleeve end's candidates) only the last template is asked
    xy, _ = track_template(
        images, 0, np.array([100.0, bottom]), half=15, reach_px=8.0, use_views=False
    )
    assert np.isnan(xy[jump:]).all()


def test_no_plate_gives_an_empty_track() -> None:
    frames = [np.full((200, 300, 3), 90, np.uint8)] * 10
    track = track_bar(frames, np.full((10, 2), 150.0), body_height_px=400.0)
    assert track.point == "none" and track.init_frame == -1
    assert np.isnan(track.xy).all() and (track.score == 0).all()


def squat_path(n: int = 70, *, depth: float = 200.0) -> np.ndarray:
    """A squat-like path: stand, a smooth ``depth`` px descent and ascent, stand."""
    t = np.clip((np.arange(n) - 10) / 50, 0, 1)
    dip = 0.5 - 0.5 * np.cos(2 * np.pi * t)
    return np.column_stack([280 + 3.0 * dip, 140 + depth * dip])


def test_follows_the_plate_on_the_shoulders_where_the_hands_go_unseen() -> None:
    # The hands are lost near the bottom (the plate hides them): their seen range
    # ends high, and the search must still reach the plate riding the shoulders.
    path = squat_path()
    frames = render_plate(path)
    hands = path + np.array([4.0, 12.0])
    hands[path[:, 1] > 170] = np.nan
    track = track_bar(frames, hands, body_height_px=420.0, shoulders=path + np.array([-6.0, 5.0]))
    err = np.linalg.norm(track.xy - path, axis=1)
    assert np.isfinite(err).all()
    assert err.max() < 1.0, err.max()


def test_a_plate_leaving_the_picture_is_lost_at_the_edge() -> None:
    # The hub comes within 15 px of the picture's bottom edge, too near for the
    # template: a match held at the edge while the plate moves on would stall
    # the descent, so every frame given is the plate's or none.
    path = squat_path(depth=265.0)
    frames = render_plate(path)
    hands = path + np.array([4.0, 12.0])
    hands[path[:, 1] > 170] = np.nan
    track = track_bar(frames, hands, body_height_px=420.0, shoulders=path + np.array([-6.0, 5.0]))
    err = np.linalg.norm(track.xy - path, axis=1)
    assert np.isnan(err[np.argmax(path[:, 1])])
    assert np.nanmax(err) < 1.0, np.nanmax(err)
