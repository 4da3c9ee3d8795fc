"""Segment lengths of the synthetic lifter from body height.

Every length is a fixed fraction of standing height (the proportions of
Drillis & Contini 1966 as tabulated by Winter 2009, Fig. 4.1), optionally
varied per lifter so that two lifters of one height are not identical.

References
----------
Drillis R, Contini R (1966). Body segment parameters. Report 1166-03,
Office of Vocational Rehabilitation, New York University.
Winter DA (2009). Biomechanics and Motor Control of Human Movement, 4th ed.,
Wiley, ch. 4, Fig. 4.1. doi:10.1002/9780470549148
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np

from hipdrive.errors import InputError

#: Segment lengths as fractions of standing height H (Winter 2009, Fig. 4.1;
#: joint heights: ankle 0.039 H, knee 0.285 H, hip 0.530 H, shoulder 0.818 H,
#: eye 0.936 H, vertex 1.000 H).
PROPORTIONS: dict[str, float] = {
    "ankle_height": 0.039,  # floor -> lateral malleolus
    "foot_length": 0.152,  # heel -> toe tip
    "heel_behind_ankle": 0.035,  # heel back edge behind the ankle joint (foot length x ~0.23)
    "shank": 0.246,  # knee -> ankle (0.285 - 0.039)
    "thigh": 0.245,  # hip -> knee (0.530 - 0.285)
    "trunk": 0.288,  # hip -> shoulder (0.818 - 0.530)
    "shoulder_to_ear": 0.118,  # shoulder -> tragion (0.936 - 0.818)
    "head_radius": 0.062,  # half the head length (glabella-opisthocranion ~0.125 H)
    "upper_arm": 0.186,  # shoulder -> elbow
    "forearm": 0.146,  # elbow -> wrist
    "hand": 0.108,  # wrist -> fingertip
    "shoulder_width": 0.259,  # biacromial breadth
    "hip_width": 0.191,
    "trunk_depth": 0.110,  # antero-posterior chest depth (approximate, used for drawing)
}


@dataclass(frozen=True)
class Anthropometry:
    """Segment lengths of one lifter, in metres.

    Build it with :meth:`from_height`; the fields are the keys of
    :data:`PROPORTIONS` with ``_m`` appended, plus ``height_m``.
    """

    height_m: float
    ankle_height_m: float
    foot_length_m: float
    heel_behind_ankle_m: float
    shank_m: float
    thigh_m: float
    trunk_m: float
    shoulder_to_ear_m: float
    head_radius_m: float
    upper_arm_m: float
    forearm_m: float
    hand_m: float
    shoulder_width_m: float
    hip_width_m: float
    trunk_depth_m: float

    @classmethod
    def from_height(
        cls,
        height_m: float,
        *,
        rng: np.random.Generator | None = None,
        variation_sd: float = 0.03,
    ) -> Anthropometry:
        """Scale the Winter (2009) proportions to ``height_m``.

        Parameters
        ----------
        height_m : float
            Standing height in metres (1.2 .. 2.3).
        rng : numpy.random.Generator, optional
            When given, each segment's proportion is multiplied by
            ``1 + N(0, variation_sd)`` (clipped to +-2 SD), so lifters of equal
            height differ in build; without it the lengths are exact.
        variation_sd : float
            Relative SD of the per-segment variation (default 3 %, the order of
            the between-person spread of segment proportions).

        Returns
        -------
        Anthropometry
        """
        if not np.isfinite(height_m) or not 1.2 <= height_m <= 2.3:
            raise InputError(f"height_m must be in 1.2..2.3 m, got {height_m!r}")
        if variation_sd < 0:
            raise InputError(f"variation_sd must be >= 0, got {variation_sd!r}")
        factors = np.ones(len(PROPORTIONS))
        if rng is not None and variation_sd > 0:
            factors = 1.0 + np.clip(
                rng.normal(0.0, variation_sd, len(PROPORTIONS)), -2 * variation_sd, 2 * variation_sd
            )
        values = {
            f"{k}_m": float(height_m * p * f)
            for (k, p), f in zip(PROPORTIONS.items(), factors, strict=True)
        }
        return cls(height_m=float(height_m), **values)

    @property
    def midfoot_x_m(self) -> float:
        """Horizontal position of the mid-foot (balance point), ankle at x = 0."""
        return 0.5 * self.foot_length_m - self.heel_behind_ankle_m

    def to_dict(self) -> dict[str, float]:
        return {k: round(v, 5) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict[str, float]) -> Anthropometry:
        return cls(**{f.name: float(values[f.name]) for f in fields(cls)})
