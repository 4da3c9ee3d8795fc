"""Segment lengths of the synthetic lifter from body height.

Every length is a fixed fraction of standing height (:data:`hipdrive.body.PROPORTIONS`,
Drillis & Contini 1966 as tabulated by Winter 2009, Fig. 4.1), optionally
varied per lifter so that two lifters of one height are not identical
(references in :mod:`hipdrive.body`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np

from hipdrive.body import PROPORTIONS
from hipdrive.errors import InputError


@dataclass(frozen=True)
class Anthropometry:
    """Segment lengths of one lifter, in metres.

    Build it with :meth:`from_height`; the fields are the keys of
    :data:`hipdrive.body.PROPORTIONS` with ``_m`` appended, plus ``height_m``.
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
