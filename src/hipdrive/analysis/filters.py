"""Zero-lag low-pass filtering of sampled positions and what it does to noise.

Kept apart from :mod:`hipdrive.analysis.clean` because the filter and its noise
gains are used on their own (bar velocity, sticking-region velocity), not only
inside the cleaning chain.

References
----------
Winter DA (2009). Biomechanics and Motor Control of Human Movement, 4th ed.
Wiley. doi:10.1002/9780470549148 (ch. 3: filtering, residual analysis).
"""

from __future__ import annotations

import functools

import numpy as np
from scipy import signal

#: Winter's (2009, eq. 3.20) correction for a filter passed ``n_passes`` times:
#: the -3 dB point of a 2nd-order Butterworth run forward and backward sits at
#: 0.802 x its design cut-off, so the design cut-off is ``cutoff / 0.802``.
WINTER_TWO_PASS_CORRECTION = (2.0 ** (1.0 / 2.0) - 1.0) ** 0.25


def true_runs(missing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start (inclusive) and stop (exclusive) of each run of True in a 1-D mask."""
    padded = np.concatenate(([False], missing, [False]))
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return edges[0::2], edges[1::2]


def butter_lowpass(
    x: np.ndarray,
    *,
    fs_hz: float,
    cutoff_hz: float,
    order: int = 2,
    correct_for_passes: bool = True,
) -> np.ndarray:
    """Zero-lag Butterworth low-pass along axis 0, NaN-safe.

    A Butterworth filter of ``order`` (default 2) is designed as second-order
    sections and run forward and backward with :func:`scipy.signal.sosfiltfilt`,
    which cancels the phase lag and doubles the order: the default is the
    "zero-lag 4th-order Butterworth" of gait and lifting biomechanics
    (Winter 2009, sec. 3.4). With ``correct_for_passes`` the design cut-off is
    raised by Winter's two-pass correction (``cutoff / 0.802`` for order 2), so
    the *combined* filter is -3 dB at ``cutoff_hz``.

    NaN runs (long gaps) split the signal: each finite stretch is filtered on
    its own and NaN are put back, so a gap never smears into good data.
    Stretches too short for the filter's padding are filtered with the longest
    padding they allow; stretches of fewer than 4 samples are left as they are.

    Parameters
    ----------
    x : ndarray, shape (n_samples, ...)
        Signal(s), filtered along axis 0.
    fs_hz : float
        Sampling rate in Hz.
    cutoff_hz : float
        Cut-off of the combined (two-pass) filter, Hz; must be below Nyquist.
    order : int
        Order of the single-pass design (total order is twice this).
    correct_for_passes : bool
        Apply Winter's two-pass cut-off correction.

    Returns
    -------
    ndarray
        Filtered copy of ``x`` (float64).

    References
    ----------
    Winter DA (2009). Biomechanics and Motor Control of Human Movement, 4th ed.,
    sec. 3.4.4.4 (eq. 3.20, cut-off correction for multiple passes).
    """
    design_hz = cutoff_hz / WINTER_TWO_PASS_CORRECTION if correct_for_passes else cutoff_hz
    if fs_hz <= 0 or cutoff_hz <= 0 or design_hz >= fs_hz / 2:
        raise ValueError(
            f"cutoff_hz {cutoff_hz} (design {design_hz:.2f} Hz) must be > 0 and below "
            f"the Nyquist frequency {fs_hz / 2:.2f} Hz of fs_hz {fs_hz}"
        )
    sos, zi = _butter_sos_zi(int(order), float(design_hz), float(fs_hz))
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[0]
    flat = x.reshape(n, -1)
    out = np.full_like(flat, np.nan)
    default_pad = 3 * (2 * len(sos) + 1 - min((sos[:, 2] == 0).sum(), (sos[:, 5] == 0).sum()))
    finite = np.isfinite(flat)
    if finite.all():
        if n >= 4:
            return _sosfiltfilt(sos, zi, flat, min(default_pad, n - 1)).reshape(x.shape)
        return flat.copy().reshape(x.shape)
    # Columns sharing one NaN pattern are filtered together (usually most).
    keys = np.ascontiguousarray(np.packbits(finite, axis=0).T)
    _, first, inverse = np.unique(
        keys.view(np.dtype((np.void, keys.shape[1]))).ravel(),
        return_index=True,
        return_inverse=True,
    )
    for p, col0 in enumerate(first):
        cols = np.flatnonzero(inverse.ravel() == p)
        starts, stops = true_runs(finite[:, col0])
        for a, b in zip(starts, stops, strict=True):
            if b - a < 4:
                out[a:b, cols] = flat[a:b, cols]
                continue
            pad = min(default_pad, b - a - 1)
            out[a:b, cols] = _sosfiltfilt(sos, zi, flat[a:b, cols], pad)
    return out.reshape(x.shape)


def _sosfiltfilt(sos: np.ndarray, zi: np.ndarray, x: np.ndarray, padlen: int) -> np.ndarray:
    """:func:`scipy.signal.sosfiltfilt` (odd padding) of the columns of a 2-D ``x``.

    The same arithmetic as SciPy's, so the same numbers, but with the initial
    state ``zi`` (:func:`scipy.signal.sosfilt_zi`, a linear solve) computed
    once per design instead of on every call, and the columns laid out as rows
    so :func:`scipy.signal.sosfilt` needs no copy: on short clips these two
    overheads were most of the filter's cost.
    """
    xt = x.T
    if padlen > 0:  # odd extension, as scipy.signal._arraytools.odd_ext
        left, right = xt[:, :1], xt[:, -1:]
        xt = np.concatenate(
            (2 * left - xt[:, padlen:0:-1], xt, 2 * right - xt[:, -2 : -(padlen + 2) : -1]), axis=1
        )
    xt = np.ascontiguousarray(xt)
    y, _ = signal.sosfilt(sos, xt, axis=-1, zi=zi[:, None, :] * xt[None, :, :1])
    y = np.ascontiguousarray(y[:, ::-1])
    y, _ = signal.sosfilt(sos, y, axis=-1, zi=zi[:, None, :] * y[None, :, :1])
    y = y[:, ::-1]
    if padlen > 0:
        y = y[:, padlen:-padlen]
    return np.ascontiguousarray(y.T)


def residual_cutoff(
    x: np.ndarray,
    *,
    fs_hz: float,
    candidates_hz: np.ndarray | None = None,
    noise_band_hz: tuple[float, float] | None = None,
) -> float:
    """Choose a low-pass cut-off by Winter's residual analysis.

    For each candidate cut-off ``fc`` the RMS residual between the raw and the
    filtered signal is computed. At high ``fc`` the residual is pure noise and
    falls linearly with ``fc``; a straight line fitted there and extrapolated
    to 0 Hz gives the noise level ``a``. The chosen cut-off is the lowest
    ``fc`` whose residual is at or below ``a`` -- signal distortion then equals
    the noise let through (Winter 2009, sec. 3.4.4.3).

    Parameters
    ----------
    x : ndarray, shape (n_samples, ...)
        Raw signal(s); residuals are pooled (RMS) over all columns. NaN-free
        stretches are used (NaN are ignored in the residual).
    fs_hz : float
        Sampling rate, Hz.
    candidates_hz : ndarray, optional
        Cut-offs to try; default 1..min(20, 0.4 fs) Hz in 0.5 Hz steps.
    noise_band_hz : (float, float), optional
        Range of ``fc`` where the residual is taken as noise-only for the line
        fit; default the top half of the candidates.

    Returns
    -------
    float
        Chosen cut-off in Hz.

    References
    ----------
    Winter DA (2009). Biomechanics and Motor Control of Human Movement, 4th ed.,
    sec. 3.4.4.3, Fig. 3.11.
    """
    x = np.asarray(x, dtype=np.float64)
    top = min(20.0, 0.4 * fs_hz * WINTER_TWO_PASS_CORRECTION)
    if candidates_hz is None:
        candidates_hz = np.arange(1.0, top + 1e-9, 0.5)
    candidates_hz = np.asarray(candidates_hz, dtype=np.float64)
    if len(candidates_hz) < 4:
        raise ValueError("residual analysis needs at least 4 candidate cut-offs")
    residual = np.array(
        [
            np.sqrt(np.nanmean((x - butter_lowpass(x, fs_hz=fs_hz, cutoff_hz=fc)) ** 2))
            for fc in candidates_hz
        ]
    )
    if noise_band_hz is None:
        noise = candidates_hz >= candidates_hz[len(candidates_hz) // 2]
    else:
        noise = (candidates_hz >= noise_band_hz[0]) & (candidates_hz <= noise_band_hz[1])
    slope, intercept = np.polyfit(candidates_hz[noise], residual[noise], 1)
    below = np.flatnonzero(residual <= intercept)
    return float(candidates_hz[below[0]] if len(below) else candidates_hz[-1])


@functools.lru_cache(maxsize=64)
def _butter_sos(order: int, design_hz: float, fs_hz: float) -> np.ndarray:
    """Second-order sections of a Butterworth low-pass (cached: one design per rate)."""
    sos = signal.butter(order, design_hz, btype="lowpass", fs=fs_hz, output="sos")
    sos.setflags(write=False)
    return sos


@functools.lru_cache(maxsize=64)
def _butter_sos_zi(order: int, design_hz: float, fs_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_butter_sos` and its unit-step initial state (cached with it).

    The sections are a writable copy: :func:`scipy.signal.sosfilt` refuses
    read-only ones. Callers must not modify either array.
    """
    sos = _butter_sos(order, design_hz, fs_hz).copy()
    return sos, signal.sosfilt_zi(sos)


@functools.lru_cache(maxsize=64)
def _filtfilt_power_response(*, fs_hz: float, cutoff_hz: float, n_freqs: int = 1024):
    """Angular frequencies (rad/sample, 0..pi) and the power gain |H|^4 of
    :func:`butter_lowpass` (two passes of the 2nd-order design)."""
    sos = _butter_sos(2, cutoff_hz / WINTER_TWO_PASS_CORRECTION, fs_hz)
    w, h = signal.sosfreqz(sos, worN=n_freqs)
    return w, np.abs(h) ** 4


def white_noise_sd(
    raw: np.ndarray, filtered: np.ndarray, *, fs_hz: float, cutoff_hz: float
) -> float:
    """Standard deviation of white measurement noise, from the filter's residual.

    The residual ``raw - filtered`` of a low-pass is, for white noise of
    variance s^2, of variance ``s^2 * mean((1 - |H|^2)^2)`` over frequency
    (the signal itself contributes little above the cut-off; Winter 2009,
    sec. 3.4.4.3). The residual's spread is taken robustly (1.4826 x MAD) so a
    few outliers do not inflate it.

    Parameters
    ----------
    raw, filtered : ndarray, shape (n_samples,)
        One coordinate before and after :func:`butter_lowpass` (NaN ignored).
    fs_hz, cutoff_hz : float
        The filter that made ``filtered``.

    Returns
    -------
    float
        Estimated noise SD in the units of ``raw`` (NaN with < 10 samples).
    """
    r = np.asarray(raw, dtype=np.float64) - np.asarray(filtered, dtype=np.float64)
    r = r[np.isfinite(r)]
    if len(r) < 10:
        return float("nan")
    residual_gain = _residual_gain(fs_hz=fs_hz, cutoff_hz=cutoff_hz)
    mad_sd = 1.4826 * np.median(np.abs(r - np.median(r)))
    return float(mad_sd / np.sqrt(residual_gain))


@functools.lru_cache(maxsize=64)
def _residual_gain(*, fs_hz: float, cutoff_hz: float) -> float:
    """``mean((1 - |H|^2)^2)``: the residual's share of white-noise variance."""
    _, power = _filtfilt_power_response(fs_hz=fs_hz, cutoff_hz=cutoff_hz)
    return float(np.mean((1.0 - np.sqrt(power)) ** 2))


@functools.lru_cache(maxsize=64)
def position_noise_gain(*, fs_hz: float, cutoff_hz: float) -> float:
    """SD that unit white position noise keeps after :func:`butter_lowpass`.

    ``sqrt(mean(|H(w)|^4))`` over ``w`` in 0..pi (Parseval; ``|H|^4`` is the
    zero-phase filter's power response). Multiply by the position noise SD
    (:func:`white_noise_sd`).
    """
    _, power = _filtfilt_power_response(fs_hz=fs_hz, cutoff_hz=cutoff_hz)
    return float(np.sqrt(np.mean(power)))


@functools.lru_cache(maxsize=64)
def velocity_noise_gain(*, fs_hz: float, cutoff_hz: float) -> float:
    """SD of the velocity that unit white position noise leaves after filtering.

    Velocity is :func:`numpy.gradient` (central difference, frequency response
    ``sin(w) * fs``) of the :func:`butter_lowpass` output (power response
    ``|H(w)|^4``), so for white noise of unit SD the velocity SD is
    ``fs * sqrt(mean(|H|^4 sin^2 w))`` over ``w`` in 0..pi (Parseval). Units:
    1/s. Multiply by the position noise SD (:func:`white_noise_sd`).
    """
    w, power = _filtfilt_power_response(fs_hz=fs_hz, cutoff_hz=cutoff_hz)
    return float(fs_hz * np.sqrt(np.mean(power * np.sin(w) ** 2)))
