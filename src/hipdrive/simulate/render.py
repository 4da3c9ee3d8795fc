"""Render a simulated lifter to an H.264 mp4 with numpy and OpenCV.

Side view of a human-like figure: filled torso with chest and back contours,
deltoids, a neck and a head with hair, ear, eye and nose; tapered limbs
(thigh, calf, upper arm, forearm) with clothing colours; shoes; the far-side
limbs darker and drawn first; the bar with plates in correct depth order. The
background is a procedurally drawn gym (wall panels, rubber floor, rack
uprights, a dumbbell rack). Options: pixel noise, camera shake (applied to the
whole image, and to the truth keypoints by the caller), motion blur, a second
person walking behind, lifter facing left or right (an exact mirror image),
phone rotation metadata.

Every drawn joint lies at the projected model joint, so the truth keypoints
(:mod:`hipdrive.simulate.truth`) sit on the drawn limbs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from hipdrive.simulate.motion import PLATE_RADIUS_M, LifterMotion
from hipdrive.simulate.truth import _KEYPOINT_SOURCE, CameraView

_SHIFT = 4  # fixed-point bits for sub-pixel drawing
_LATERAL_BH = {point: offset for point, offset in _KEYPOINT_SOURCE.values()}
_SCALE = 1 << _SHIFT


@dataclass(frozen=True)
class Appearance:
    """Colours (RGB 0..255) of one lifter's body and clothes, and the plates."""

    skin: tuple[int, int, int]
    hair: tuple[int, int, int]
    shirt: tuple[int, int, int]
    shorts: tuple[int, int, int]
    shoes: tuple[int, int, int]
    socks: tuple[int, int, int]
    plate: tuple[int, int, int]
    long_sleeves: bool
    long_pants: bool

    @classmethod
    def draw(cls, rng: np.random.Generator) -> Appearance:
        """Random but plausible colours (skin tones from a light-to-dark range)."""
        skins = [(236, 200, 170), (224, 172, 135), (198, 134, 96), (160, 105, 70), (110, 72, 48)]
        hairs = [(40, 30, 25), (90, 60, 35), (150, 110, 60), (20, 20, 20), (120, 120, 120)]
        shirts = [(40, 60, 140), (150, 30, 40), (30, 30, 35), (230, 230, 230), (60, 120, 70), (210, 120, 40),
                  (110, 110, 120)]  # fmt: skip
        bottoms = [(25, 25, 30), (40, 45, 70), (70, 70, 75), (20, 35, 60), (90, 30, 30)]
        plates = [(30, 30, 32), (180, 30, 35), (30, 70, 170), (35, 35, 40)]
        pick = lambda xs: xs[int(rng.integers(len(xs)))]  # noqa: E731
        return cls(
            skin=pick(skins), hair=pick(hairs), shirt=pick(shirts), shorts=pick(bottoms),
            shoes=pick([(30, 30, 30), (230, 230, 230), (150, 40, 40), (40, 40, 120)]),
            socks=pick([(240, 240, 240), (30, 30, 30)]), plate=pick(plates),
            long_sleeves=bool(rng.random() < 0.25), long_pants=bool(rng.random() < 0.3),
        )  # fmt: skip


def _shade(c, k: float) -> tuple[int, int, int]:
    return tuple(int(np.clip(v * k, 0, 255)) for v in c)


def _fix(pts: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(pts) * _SCALE).astype(np.int32)


def _capsule(img, p, q, r1: float, r2: float, color) -> None:
    """Filled tapered capsule from ``p`` (radius ``r1``) to ``q`` (radius ``r2``), pixels."""
    p, q = np.asarray(p, float), np.asarray(q, float)
    d = q - p
    L = float(np.hypot(*d))
    if L > 1e-6 and L > abs(r1 - r2):
        u = d / L
        n = np.array([-u[1], u[0]])
        # tangent points of the two circles
        s = (r1 - r2) / L
        c = np.sqrt(max(1 - s * s, 0.0))
        a = u * s + n * c
        b = u * s - n * c
        poly = np.array([p + r1 * a, q + r2 * a, q + r2 * b, p + r1 * b])
        cv2.fillPoly(img, [_fix(poly)], color, cv2.LINE_AA, _SHIFT)
    cv2.circle(img, tuple(_fix(p)), int(round(r1 * _SCALE)), color, -1, cv2.LINE_AA, _SHIFT)
    cv2.circle(img, tuple(_fix(q)), int(round(r2 * _SCALE)), color, -1, cv2.LINE_AA, _SHIFT)


def _limb(img, p, q, r1: float, r2: float, color, *, outline: float = 1.2) -> None:
    """A capsule with a darker rim and a lighter highlight along one side.

    The rim and highlight are the occlusion edges and shading a camera sees
    where a limb crosses a body part of the same colour (a sleeve over a shirt).
    """
    _capsule(img, p, q, r1 + outline, r2 + outline, _shade(color, 0.55))
    _capsule(img, p, q, r1, r2, color)
    d = np.asarray(q, float) - np.asarray(p, float)
    n = np.array([d[1], -d[0]]) / max(float(np.hypot(*d)), 1e-6)
    if n[1] > 0:
        n = -n  # the highlight faces up (light from above)
    _capsule(img, p + 0.35 * r1 * n, q + 0.35 * r2 * n, 0.45 * r1, 0.45 * r2, _shade(color, 1.18))


def _poly(img, pts, color) -> None:
    cv2.fillPoly(img, [_fix(pts)], color, cv2.LINE_AA, _SHIFT)


def _chaikin(pts: np.ndarray, n_iter: int = 2) -> np.ndarray:
    """Corner-cutting smoothing of a closed polygon (Chaikin 1974)."""
    for _ in range(n_iter):
        nxt = np.roll(pts, -1, axis=0)
        pts = np.stack([0.75 * pts + 0.25 * nxt, 0.25 * pts + 0.75 * nxt], axis=1).reshape(-1, 2)
    return pts


#: Torso outline in the trunk frame: (along the chest normal, along the trunk
#: from the hip joint), fractions of body height; the shoulder joint is at
#: (0, trunk length). Back side from the glutes up, then the front down.
_TORSO_BACK = [(-0.030, -0.055), (-0.072, -0.030), (-0.080, 0.020), (-0.064, 0.090), (-0.066, 0.160),
               (-0.072, 0.220), (-0.066, 0.265)]  # fmt: skip
_TORSO_TOP = [(-0.045, 0.300), (-0.010, 0.312), (0.025, 0.300)]
_TORSO_FRONT = [(0.058, 0.262), (0.072, 0.215), (0.066, 0.160), (0.056, 0.110), (0.062, 0.060), (0.058, 0.010),
                (0.035, -0.040)]  # fmt: skip


class _Painter:
    """Draws one lifter pose into an RGB image (facing right)."""

    def __init__(self, motion: LifterMotion, camera: CameraView, look: Appearance):
        self.m = motion
        self.cam = replace(camera, facing="right")
        self.look = look
        self.H = motion.anthro.height_m
        self.k = camera.px_per_m  # px per metre

    def px(self, xy_m: np.ndarray, z_m: float = 0.0, shake=(0.0, 0.0)) -> np.ndarray:
        u, v = self.cam.project(xy_m[..., 0], xy_m[..., 1], z_m)
        return np.stack([u + shake[0], v + shake[1]], axis=-1)

    def r(self, frac_h: float) -> float:
        return frac_h * self.H * self.k

    def draw(self, img: np.ndarray, pose: dict[str, np.ndarray], i: int, shake) -> None:
        H = self.H
        P = {k: v[i] for k, v in pose.items()}
        lat = _LATERAL_BH  # the truth's lateral offsets: drawn joints = true keypoints
        plate_z = 0.70  # plate centre from the bar's middle, metres (Olympic bar sleeves)

        def side_px(name, sign):
            return self.px(P[name], sign * lat[name] * H, shake)

        # depth order, back to front: far plate, far arm and leg (darker), torso
        # and head, the bar, near leg, near arm, near plate
        bar_near = self.px(P["bar"], plate_z, shake)
        bar_far = self.px(P["bar"], -plate_z, shake)
        self._plate(img, bar_far, far=True)
        self._arm(img, P, side_px, -1.0, 0.62, shake)
        self._leg(img, P, side_px, -1.0, 0.62)
        self._torso(img, P, shake)
        _capsule(img, bar_far, bar_near, 0.014 * self.k, 0.014 * self.k, (175, 175, 180))
        self._leg(img, P, side_px, 1.0, 1.0)
        self._arm(img, P, side_px, 1.0, 1.0, shake)
        self._plate(img, bar_near, far=False)

    def _plate(self, img, c, *, far: bool) -> None:
        R = PLATE_RADIUS_M * self.k
        yaw = np.deg2rad(self.cam.yaw_deg)
        ax = (max(R * np.cos(yaw), 1.0), R)
        base = _shade(self.look.plate, 0.7 if far else 1.0)
        cc = tuple(int(v) for v in _fix(c))
        cv2.ellipse(
            img,
            cc,
            (int(ax[0] * _SCALE), int(ax[1] * _SCALE)),
            0,
            0,
            360,
            _shade(base, 0.8),
            -1,
            cv2.LINE_AA,
            _SHIFT,
        )
        cv2.ellipse(
            img,
            cc,
            (int(ax[0] * 0.9 * _SCALE), int(ax[1] * 0.9 * _SCALE)),
            0,
            0,
            360,
            base,
            -1,
            cv2.LINE_AA,
            _SHIFT,
        )
        cv2.ellipse(
            img,
            cc,
            (int(ax[0] * 0.35 * _SCALE), int(ax[1] * 0.35 * _SCALE)),
            0,
            0,
            360,
            _shade(base, 0.75),
            -1,
            cv2.LINE_AA,
            _SHIFT,
        )
        cv2.ellipse(
            img,
            cc,
            (int(ax[0] * 0.12 * _SCALE), int(ax[1] * 0.12 * _SCALE)),
            0,
            0,
            360,
            (190, 190, 195),
            -1,
            cv2.LINE_AA,
            _SHIFT,
        )

    def _leg(self, img, P, side_px, sign, k) -> None:
        look = self.look
        hip, knee, ankle = side_px("hip", sign), side_px("knee", sign), side_px("ankle", sign)
        heel, toe = side_px("heel", sign), side_px("toe", sign)
        skin = _shade(look.skin, k)
        bottoms = _shade(look.shorts, k)
        calf = knee + 0.35 * (ankle - knee)
        # the calf bulges towards the back of the shank
        d = ankle - knee
        back = np.array([-d[1], d[0]]) / max(np.hypot(*d), 1e-6)
        if back[0] > 0:
            back = -back
        calf_c = calf + back * self.r(0.008)
        leg_col = bottoms if look.long_pants else skin
        _limb(img, knee, calf_c, self.r(0.030), self.r(0.034), leg_col)
        _limb(img, calf_c, ankle, self.r(0.034), self.r(0.019), leg_col)
        if not look.long_pants:
            _capsule(
                img,
                ankle + 0.25 * (knee - ankle),
                ankle,
                self.r(0.024),
                self.r(0.020),
                _shade(look.socks, k),
            )
        thigh_end = knee if look.long_pants else hip + 0.72 * (knee - hip)
        _limb(img, hip, knee, self.r(0.052), self.r(0.032), bottoms if look.long_pants else skin)
        _limb(img, hip, thigh_end, self.r(0.056), self.r(0.040), bottoms)
        # shoe: heel to toe, sole on the floor
        H = self.H * self.k
        sole_y = max(heel[1], toe[1]) + 0.012 * H
        shoe = np.array([
            [heel[0] - 0.006 * H, sole_y], [heel[0] - 0.010 * H, heel[1] - 0.018 * H],
            [ankle[0] - 0.012 * H, ankle[1] - 0.012 * H], [ankle[0] + 0.025 * H, ankle[1] - 0.004 * H],
            [toe[0] + 0.004 * H, toe[1] - 0.012 * H], [toe[0] + 0.016 * H, sole_y - 0.004 * H],
            [toe[0] + 0.010 * H, sole_y],
        ])  # fmt: skip
        _poly(img, _chaikin(shoe, 1), _shade(look.shoes, k))

    def _arm(self, img, P, side_px, sign, k, shake) -> None:
        look = self.look
        sh, el, wr = side_px("shoulder", sign), side_px("elbow", sign), side_px("wrist", sign)
        skin = _shade(look.skin, k)
        shirt = _shade(look.shirt, k)
        bar = self.px(P["bar"], sign * 0.26 * self.H, shake)
        sleeve = shirt if look.long_sleeves else skin
        # forearm ~7 cm, upper arm ~10 cm thick for a 1.75 m person; a wider deltoid cap
        _limb(img, el, wr, self.r(0.020), self.r(0.014), sleeve)
        _limb(
            img, wr, wr + 0.6 * (bar - wr), self.r(0.016), self.r(0.018), _shade(skin, 0.92)
        )  # fist
        _limb(img, sh, el, self.r(0.028), self.r(0.020), sleeve)
        _limb(img, sh, sh + 0.4 * (el - sh), self.r(0.034), self.r(0.027), shirt)

    def _torso(self, img, P, shake) -> None:
        H, look = self.H, self.look
        hip_m, sh_m = P["hip"], P["shoulder"]
        t = (sh_m - hip_m) / np.hypot(*(sh_m - hip_m))
        n = np.array([t[1], -t[0]])  # chest normal (forward)
        scale_b = self.m.anthro.trunk_m / (0.288 * H)

        def frame(points):
            pts = np.array(points)
            return hip_m + np.outer(pts[:, 0] * H, n) + np.outer(pts[:, 1] * H * scale_b, t)

        pts = frame(_TORSO_BACK + _TORSO_TOP + _TORSO_FRONT)
        poly = _chaikin(self.px(pts, 0.0, shake), 2)
        _poly(img, poly, look.shirt)
        cv2.polylines(img, [_fix(poly)], True, _shade(look.shirt, 0.55), 2, cv2.LINE_AA, _SHIFT)
        # shading: the chest side a little lighter than the back
        front = frame([(0.0, 0.02), (0.045, 0.02), (0.05, 0.15), (0.045, 0.26), (0.0, 0.27)])
        _poly(img, _chaikin(self.px(front, 0.0, shake), 2), _shade(look.shirt, 1.12))
        # waistband / shorts over the pelvis
        pelvis = frame([(-0.030, -0.055), (-0.072, -0.030), (-0.080, 0.020), (-0.070, 0.06), (0.06, 0.06),
                        (0.058, 0.010), (0.035, -0.040)])  # fmt: skip
        _poly(img, _chaikin(self.px(pelvis, 0.0, shake), 2), look.shorts)
        # neck and head
        ear = self.px(P["ear"], 0.0, shake)
        neck_base = self.px(sh_m + 0.012 * H * t, 0.0, shake)
        _capsule(
            img,
            neck_base,
            ear + 0.25 * (neck_base - ear),
            self.r(0.036),
            self.r(0.031),
            _shade(look.skin, 0.95),
        )
        self._head(img, P, shake)

    def _head(self, img, P, shake) -> None:
        """Profile head: cranium, face with nose, lips and chin, hair, ear, eye, brow."""
        H, look = self.H, self.look
        ear_m, head_m = P["ear"], P["head"]
        up = (head_m - ear_m) - 0.022 * H * self._fwd_of(P)
        up = up / np.hypot(*up)
        fw = np.array([up[1], -up[0]])

        def hp(points):
            pts = np.array(points, float)
            return self.px(
                ear_m + np.outer(pts[:, 0] * H, fw) + np.outer(pts[:, 1] * H, up), 0.0, shake
            )

        skin = look.skin
        cranium = [
            (0.015 + 0.064 * np.cos(a), 0.030 + 0.062 * np.sin(a))
            for a in np.linspace(0, 2 * np.pi, 24, endpoint=False)
        ]
        _poly(img, hp(cranium), skin)
        face = [(0.060, 0.060), (0.078, 0.030), (0.080, 0.012), (0.083, 0.002), (0.100, -0.020), (0.098, -0.026),
                (0.086, -0.030), (0.088, -0.040), (0.083, -0.046), (0.086, -0.053), (0.082, -0.068),
                (0.072, -0.080), (0.048, -0.084), (0.020, -0.060), (0.000, -0.040), (-0.010, 0.000),
                (0.020, 0.040)]  # fmt: skip
        _poly(img, hp(face), skin)
        hair = [(0.066, 0.070), (0.045, 0.088), (0.010, 0.095), (-0.030, 0.085), (-0.050, 0.055), (-0.055, 0.015),
                (-0.045, -0.020), (-0.025, -0.025), (-0.012, 0.012), (0.000, 0.032), (0.030, 0.048),
                (0.060, 0.058)]  # fmt: skip
        _poly(img, _chaikin(hp(hair), 1), look.hair)
        ear = hp([(0.0, 0.0)])[0]
        cv2.ellipse(img, tuple(int(v) for v in _fix(ear)), (int(self.r(0.011) * _SCALE), int(self.r(0.018) * _SCALE)),
                    0, 0, 360, _shade(skin, 0.82), -1, cv2.LINE_AA, _SHIFT)  # fmt: skip
        eye = self.px(P["eye"], 0.0, shake)
        cv2.ellipse(img, tuple(int(v) for v in _fix(eye)), (int(self.r(0.007) * _SCALE), int(self.r(0.004) * _SCALE)),
                    0, 0, 360, (235, 235, 235), -1, cv2.LINE_AA, _SHIFT)  # fmt: skip
        cv2.circle(img, tuple(int(v) for v in _fix(eye + np.array([0.25 * self.r(0.007), 0.0]))),
                   int(self.r(0.0035) * _SCALE), (35, 25, 20), -1, cv2.LINE_AA, _SHIFT)  # fmt: skip
        brow = hp([(0.060, 0.020), (0.080, 0.018)])
        cv2.line(img, tuple(_fix(brow[0])), tuple(_fix(brow[1])), _shade(look.hair, 0.9),
                 max(1, int(self.r(0.004))), cv2.LINE_AA, _SHIFT)  # fmt: skip
        mouth = hp([(0.072, -0.047), (0.086, -0.046)])
        cv2.line(
            img,
            tuple(_fix(mouth[0])),
            tuple(_fix(mouth[1])),
            _shade(skin, 0.6),
            1,
            cv2.LINE_AA,
            _SHIFT,
        )

    def _fwd_of(self, P) -> np.ndarray:
        v = P["eye"] - P["ear"]
        return v / np.hypot(*v)


def _background(
    width: int, height: int, camera: CameraView, rng: np.random.Generator
) -> np.ndarray:
    """A procedural gym: wall with panels, rubber floor, rack uprights, dumbbells."""
    wall = np.array(
        [(200, 195, 185), (170, 175, 180), (150, 160, 170), (210, 205, 190), (120, 125, 130)][
            int(rng.integers(5))
        ],
        float,
    )
    floor = np.array([(45, 45, 48), (60, 55, 50), (35, 40, 45)][int(rng.integers(3))], float)
    img = np.empty((height, width, 3))
    horizon = int(camera.ground_y_px - 0.06 * height)
    yy = np.arange(height)[:, None]
    grad = 1.0 - 0.15 * (yy / height)
    img[:] = wall * grad[..., None]
    img[horizon:] = (
        floor * (0.9 + 0.2 * (yy[horizon:] - horizon) / max(height - horizon, 1))[..., None]
    )
    # low-frequency texture
    tex = cv2.resize(
        rng.normal(0, 1, (height // 24 + 1, width // 24 + 1)),
        (width, height),
        interpolation=cv2.INTER_CUBIC,
    )
    img += 6.0 * tex[..., None]
    img = np.clip(img, 0, 255).astype(np.uint8)
    # wall panels and a skirting stripe
    step = int(rng.uniform(0.18, 0.35) * width)
    x0 = int(rng.integers(step))
    for x in range(x0, width, step):
        cv2.line(img, (x, 0), (x, horizon), tuple(int(v) for v in wall * 0.8), 2, cv2.LINE_AA)
    cv2.rectangle(
        img,
        (0, horizon - int(0.02 * height)),
        (width, horizon),
        tuple(int(v) for v in wall * 0.6),
        -1,
    )
    # a mirror or window high on the wall
    if rng.random() < 0.6:
        mx = int(rng.uniform(0.0, 0.6) * width)
        cv2.rectangle(img, (mx, int(0.08 * height)), (mx + int(0.35 * width), int(0.35 * height)),
                      (215, 225, 230), -1)  # fmt: skip
    # floor tiles
    for k in range(1, 5):
        y = horizon + int((height - horizon) * (k / 5) ** 1.4)
        cv2.line(img, (0, y), (width, y), tuple(int(v) for v in floor * 0.7), 1, cv2.LINE_AA)
    # rack uprights behind the lifter
    if rng.random() < 0.7:
        steel = (70, 72, 78)
        cx = camera.origin_x_px
        for dx in (-0.42, 0.42):
            x = int(cx + dx * camera.px_per_m * rng.uniform(0.9, 1.2))
            cv2.rectangle(
                img, (x - 5, int(0.12 * height)), (x + 5, horizon + int(0.02 * height)), steel, -1
            )
            for y in range(int(0.14 * height), horizon, int(0.035 * height)):
                cv2.circle(img, (x, y), 2, (30, 30, 30), -1)
    # dumbbell rack at the side
    if rng.random() < 0.7:
        side = rng.integers(2)
        x0 = 4 if side == 0 else width - int(0.22 * width)
        y0 = horizon - int(0.05 * height)
        for j in range(6):
            cv2.circle(
                img,
                (x0 + int(j * 0.035 * width) + 6, y0),
                int(0.012 * height),
                (35, 35, 38),
                -1,
                cv2.LINE_AA,
            )
    return img


def _spotter_pose(
    t: float, *, width: int, height: int, camera: CameraView, speed_m_s: float, start_x_m: float
):
    """Joint pixels of a walking person (~0.8x scale, farther from the camera)."""
    s = 0.8 * camera.px_per_m
    H = 1.75
    x = start_x_m + speed_m_s * t
    base_u = camera.origin_x_px + x * s
    base_v = camera.ground_y_px - 0.05 * height
    ph = 2 * np.pi * 0.9 * t

    def P(dx, dy):
        return np.array([base_u + dx * s, base_v - dy * s])

    hip = P(0, 0.53 * H)
    sh = P(0.01 * H * np.sign(speed_m_s), 0.82 * H)
    legs = []
    for sgn in (1, -1):
        a = 0.4 * np.sin(ph) * sgn
        knee = hip + s * 0.245 * H * np.array([np.sin(a), np.cos(a)])
        ankle = knee + s * 0.246 * H * np.array([np.sin(a - 0.2 * abs(np.sin(ph))), np.cos(a)])
        legs.append((knee, ankle))
    arms = []
    for sgn in (1, -1):
        a = -0.3 * np.sin(ph) * sgn
        el = sh + s * 0.186 * H * np.array([np.sin(a), np.cos(a)])
        wr = el + s * 0.146 * H * np.array([np.sin(a + 0.2), np.cos(a + 0.2)])
        arms.append((el, wr))
    head = P(0.02 * H * np.sign(speed_m_s), 0.93 * H)
    return hip, sh, legs, arms, head, s * H


def _draw_spotter(img, t, camera, rng_colors, speed_m_s, start_x_m) -> None:
    h, w = img.shape[:2]
    hip, sh, legs, arms, head, Hpx = _spotter_pose(t, width=w, height=h, camera=camera, speed_m_s=speed_m_s,
                                                 start_x_m=start_x_m)  # fmt: skip
    shirt, pants, skin = rng_colors
    for knee, ankle in legs:
        _capsule(img, hip, knee, 0.045 * Hpx, 0.03 * Hpx, pants)
        _capsule(img, knee, ankle, 0.03 * Hpx, 0.02 * Hpx, pants)
    _capsule(img, hip, sh, 0.07 * Hpx, 0.075 * Hpx, shirt)
    for el, wr in arms:
        _capsule(img, sh, el, 0.03 * Hpx, 0.022 * Hpx, shirt)
        _capsule(img, el, wr, 0.02 * Hpx, 0.016 * Hpx, skin)
    cv2.circle(img, tuple(_fix(head)), int(0.06 * Hpx * _SCALE), skin, -1, cv2.LINE_AA, _SHIFT)


def render_frames(
    motion: LifterMotion,
    camera: CameraView,
    time_s: np.ndarray,
    *,
    shake_px: np.ndarray | None = None,
    appearance: Appearance,
    rng: np.random.Generator,
    noise_sd: float = 2.0,
    motion_blur: bool = False,
    spotter: bool = False,
    background: np.ndarray | None = None,
) -> Iterator[np.ndarray]:
    """Yield upright RGB uint8 frames at ``time_s``.

    ``shake_px`` is the per-frame image offset for a lifter facing right
    (mirrored with the image for ``camera.facing == "left"``). Motion blur
    averages three sub-frame renders over half the frame interval (a 180 deg
    shutter).
    """
    n = len(time_s)
    shake = np.zeros((n, 2)) if shake_px is None else np.asarray(shake_px, float)
    painter = _Painter(motion, camera, appearance)
    bg = (
        _background(camera.width, camera.height, replace(camera, facing="right"), rng)
        if background is None
        else background
    )
    dt = (time_s[1] - time_s[0]) if n > 1 else 1 / 30
    offsets = (-dt / 6, 0.0, dt / 6) if motion_blur else (0.0,)
    poses = [motion.pose(np.asarray(time_s) + o) for o in offsets]
    spot_colors = ((90, 90, 100), (50, 50, 60), (200, 160, 130))
    spot_speed = float(rng.choice([-1.0, 1.0]) * rng.uniform(0.7, 1.2))
    spot_start = -1.4 * np.sign(spot_speed) * (camera.width / camera.px_per_m) * 0.6
    noise_bank = None
    if noise_sd > 0:
        # a few noise fields, cut at random offsets per frame: sensor noise that
        # changes every frame without drawing 1.5 M normals per frame
        pad = 32
        noise_bank = np.round(
            rng.normal(0.0, noise_sd, (6, camera.height + pad, camera.width + pad, 3)).astype(
                np.float32
            )
        ).astype(np.int16)
    for i in range(n):
        acc = None
        for pose in poses:
            img = bg.copy()
            if spotter:
                _draw_spotter(
                    img,
                    float(time_s[i]),
                    replace(camera, facing="right"),
                    spot_colors,
                    spot_speed,
                    spot_start,
                )
            if np.any(shake[i]):
                img = cv2.warpAffine(img, np.float32([[1, 0, shake[i, 0]], [0, 1, shake[i, 1]]]),
                                     (camera.width, camera.height), borderMode=cv2.BORDER_REFLECT)  # fmt: skip
            painter.draw(img, pose, i, shake[i])
            acc = img if len(poses) == 1 else (img.astype(np.float32) if acc is None else acc + img)
        img = acc if len(poses) == 1 else np.clip(acc / len(poses) + 0.5, 0, 255).astype(np.uint8)
        img = cv2.GaussianBlur(img, (0, 0), 0.6)  # lens softness
        if noise_bank is not None:
            k, dy, dx = rng.integers(len(noise_bank)), rng.integers(pad), rng.integers(pad)
            noisy = (
                img.astype(np.int16)
                + noise_bank[k, dy : dy + camera.height, dx : dx + camera.width]
            )
            img = np.clip(noisy, 0, 255).astype(np.uint8)
        if camera.facing == "left":
            img = np.ascontiguousarray(img[:, ::-1])
        yield img


def render_video(
    motion: LifterMotion,
    camera: CameraView,
    path: str | Path,
    *,
    fps: float,
    time_s: np.ndarray,
    shake_px: np.ndarray | None = None,
    appearance: Appearance,
    rng: np.random.Generator,
    rotation: int = 0,
    crf: int = 20,
    noise_sd: float = 2.0,
    motion_blur: bool = False,
    spotter: bool = False,
) -> Path:
    """Render and encode an H.264 mp4 (via :func:`hipdrive.video.write_video`).

    With ``rotation`` (counter-clockwise display rotation, as phones store
    portrait clips), the stored pixels are the upright frames turned clockwise
    by ``rotation`` and the display matrix tells a decoder to turn them back.
    """
    from hipdrive.video import write_video

    if rotation not in (0, 90, 180, 270):
        raise ValueError(f"rotation must be 0, 90, 180 or 270, got {rotation}")
    frames = render_frames(motion, camera, time_s, shake_px=shake_px, appearance=appearance, rng=rng,
                           noise_sd=noise_sd, motion_blur=motion_blur, spotter=spotter)  # fmt: skip
    if rotation:
        k = -rotation // 90
        frames = (np.ascontiguousarray(np.rot90(f, k=k)) for f in frames)
    return write_video(frames, path, fps=fps, time_s=time_s, rotation=rotation, crf=crf)
