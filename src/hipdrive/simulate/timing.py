"""Velocity-time shapes of the simulated descent and ascent (the timing of a rep).

Unimodal ``tau**a * (1 - tau)**b`` shapes for the descent and the ascent, the
ascent's optional sticking dip (:func:`bump`), and the inverse maps from the
fraction of range travelled to time that the ground truth's event times use.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.signal import find_peaks
from scipy.special import betainc, betaincinv

#: Exponents of the unimodal velocity shapes ``tau**a * (1 - tau)**b``: the
#: descent accelerates late and brakes into the bottom; the ascent peaks at
#: ~40 % of its duration (a = 1.3, b = 1.8).
DESCENT_SHAPE = (1.6, 1.4)
ASCENT_SHAPE = (1.3, 1.8)
_TAU = np.linspace(0.0, 1.0, 2001)


def descent_fraction(tau) -> np.ndarray:
    """Fraction of the descent covered at normalised time ``tau`` (closed form).

    Velocity is proportional to ``tau**a (1-tau)**b``, so position is the
    regularised incomplete beta function ``I_tau(a+1, b+1)``.
    """
    a, b = DESCENT_SHAPE
    return betainc(a + 1, b + 1, np.clip(tau, 0.0, 1.0))


def descent_time_at_fraction(fraction) -> np.ndarray:
    """Normalised time at which the descent has covered ``fraction`` (inverse of :func:`descent_fraction`)."""
    a, b = DESCENT_SHAPE
    return betaincinv(a + 1, b + 1, np.clip(fraction, 0.0, 1.0))


def descent_velocity_shape(tau) -> np.ndarray:
    """d(descent fraction)/d(tau)."""
    from scipy.special import beta as beta_fn

    a, b = DESCENT_SHAPE
    t = np.clip(tau, 0.0, 1.0)
    return t**a * (1 - t) ** b / beta_fn(a + 1, b + 1)


@dataclass(frozen=True)
class AscentShape:
    """Normalised ascent velocity ``w(tau)`` with an optional sticking dip.

    ``w(tau) ∝ tau**a (1-tau)**b * (1 - depth * exp(-0.5 ((tau - centre)/width)**2))``,
    normalised so that its integral over [0, 1] is 1 (so velocity =
    ``ROM / T * w``). Tabulated on 2001 points; position is its cumulative
    trapezoidal integral (interpolation error < 1e-7 of the ROM).
    """

    dip_depth: float = 0.0
    dip_centre: float = 0.38
    dip_width: float = 0.08
    w: np.ndarray = field(init=False, repr=False, compare=False)
    cdf: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        a, b = ASCENT_SHAPE
        w = (
            _TAU**a
            * (1 - _TAU) ** b
            * (1 - self.dip_depth * np.exp(-0.5 * ((_TAU - self.dip_centre) / self.dip_width) ** 2))
        )
        cdf = np.concatenate([[0.0], np.cumsum(0.5 * (w[1:] + w[:-1]) * np.diff(_TAU))])
        object.__setattr__(self, "w", w / cdf[-1])
        object.__setattr__(self, "cdf", cdf / cdf[-1])

    def fraction(self, tau) -> np.ndarray:
        return np.interp(tau, _TAU, self.cdf)

    def velocity(self, tau) -> np.ndarray:
        return np.interp(tau, _TAU, self.w)

    def time_at_fraction(self, fraction) -> np.ndarray:
        """Normalised time at which ``fraction`` of the ROM is covered (inverse of :meth:`fraction`)."""
        return np.interp(fraction, self.cdf, _TAU)

    def events(self) -> tuple[float, float, float] | None:
        """Normalised times of v_max1, v_min, v_max2, or None without a dip.

        v_max1 = first local maximum, v_min = the first local minimum after it,
        v_max2 = the next local maximum (van den Tillaar et al. 2014).
        """
        peaks, _ = find_peaks(self.w)
        troughs, _ = find_peaks(-self.w)
        if len(peaks) < 2:
            return None
        mins = troughs[troughs > peaks[0]]
        if not len(mins):
            return None
        after = peaks[peaks > mins[0]]
        if not len(after):
            return None
        return float(_TAU[peaks[0]]), float(_TAU[mins[0]]), float(_TAU[after[0]])

    def peak(self) -> float:
        return float(_TAU[np.argmax(self.w)])


def bump(tau, peak_tau: float, end_tau: float) -> np.ndarray:
    """Smooth 0 -> 1 -> 0 bump: sin^2 rise to ``peak_tau``, cos^2 fall to ``end_tau``.

    Zero slope at both ends and at the peak, so angles and angular velocities
    stay continuous.
    """
    t = np.asarray(tau, dtype=float)
    rise = np.sin(0.5 * np.pi * np.clip(t / peak_tau, 0, 1)) ** 2
    fall = np.cos(0.5 * np.pi * np.clip((t - peak_tau) / max(end_tau - peak_tau, 1e-9), 0, 1)) ** 2
    return np.where(t <= peak_tau, rise, fall) * (t >= 0) * (t <= max(end_tau, peak_tau))
