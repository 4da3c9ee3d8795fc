"""The one look of every figure: rcParams, colour-blind-safe palettes, load-band labels."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd

from hipdrive.contracts.params import MIN_LIFTERS_BOOTSTRAP

LOAD_BANDS = (0.0, 70.0, 80.0, 90.0, np.inf)
"""Edges of the %1RM bands of the curve figures: <70, 70-79, 80-89, >=90."""

PALETTE = "colorblind"
"""seaborn's colour-blind-safe palette for lifts (after Wong 2011, doi:10.1038/nmeth.1618);
ordered load bands use viridis (perceptually uniform, colour-blind safe)."""

LIFT_COLOURS = {"squat": 0, "deadlift": 1}

PCT_BIN = 5.0
"""Width (%1RM) of the load bins that lines across load join: loads are kg / 1RM,
so a lifter's videos rarely share a %1RM, and a line through every raw value
zig-zags between neighbouring loads."""

MIN_LIFTERS_BAND = MIN_LIFTERS_BOOTSTRAP
"""Fewer lifters than this: per-lifter lines, no 95% band over lifters. A t band
from n lifters is +/- t(0.975, n-1) SD/sqrt(n), with t = 12.7 for 2 lifters and
4.3 for 3: the band spans the whole axis and hides the curves. The same
threshold as the "always" shares' bootstrap CI, so tables and figures agree on
when an interval is given."""


@contextmanager
def figure_style() -> Iterator[None]:
    """The one style of every hipdrive figure (seaborn ``ticks``, paper context)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import seaborn as sns

    rc = {
        **sns.axes_style("ticks"),
        **sns.plotting_context("paper", font_scale=1.1),
        "axes.prop_cycle": matplotlib.cycler(color=sns.color_palette(PALETTE)),
        "figure.dpi": 100,
        "savefig.dpi": 300,  # print resolution
        "pdf.fonttype": 42,  # TrueType, not Type 3: journals require embedded, editable text
        "ps.fonttype": 42,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
    with plt.rc_context(rc):
        yield


def _colours(n: int | None = None) -> list:
    import seaborn as sns

    return sns.color_palette(PALETTE, n)


def _band_colours() -> list:
    """Ordinal colours for the load bands: viridis, perceptually uniform and colour-blind safe."""
    import seaborn as sns

    return sns.color_palette("viridis", len(LOAD_BANDS) - 1)


def _band_labels() -> list[str]:
    labels = []
    for lo, hi in zip(LOAD_BANDS[:-1], LOAD_BANDS[1:], strict=True):
        if lo == 0:
            labels.append(f"<{hi:g}%")
        elif np.isinf(hi):
            labels.append(f">={lo:g}%")
        else:
            labels.append(f"{lo:g}-{hi - 1:g}%")
    return labels


def load_band(pct_1rm: pd.Series | np.ndarray) -> pd.Categorical:
    """%1RM bands of :data:`LOAD_BANDS` as an ordered categorical."""
    return pd.cut(np.asarray(pct_1rm, float), list(LOAD_BANDS), right=False, labels=_band_labels())


def pct_bin(pct_1rm: pd.Series | np.ndarray) -> np.ndarray:
    """Lower edge of the :data:`PCT_BIN`-wide %1RM bin of each load."""
    return np.floor(np.asarray(pct_1rm, float) / PCT_BIN) * PCT_BIN


def _wrap(text: str, width_in: float, fontsize: float) -> str:
    """Wrap ``text`` to lines that fit ``width_in`` inches at ``fontsize`` points."""
    chars = max(12, int(width_in * 72 / (0.6 * fontsize)))
    return "\n".join(textwrap.fill(line, chars) for line in text.split("\n"))


def _suptitle(fig, text: str, fontsize: float = 12.0) -> None:
    """Figure title wrapped to the figure's width, so a one-panel figure does not clip it."""
    fig.suptitle(_wrap(text, fig.get_figwidth() * 0.95, fontsize), fontsize=fontsize)


def _title(ax, text: str, fontsize: float = 10.0) -> None:
    """Panel title wrapped to the panel's share of the figure width."""
    fig = ax.get_figure()
    n_cols = ax.get_subplotspec().get_gridspec().ncols
    ax.set_title(_wrap(text, fig.get_figwidth() / n_cols * 0.9, fontsize), fontsize=fontsize)


def _legend_below(fig, ncols: int = 3) -> None:
    """One legend for the figure, below the panels, where it hides no data."""
    entries = {}
    for ax in fig.axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            entries.setdefault(label, handle)
    if entries:
        _fitting_legend(fig, list(entries.values()), list(entries), ncols)


def _fitting_legend(fig, handles: list, labels: list[str], ncols: int) -> None:
    """A legend below the panels with as many columns as fit the figure's width."""
    renderer = fig.canvas.get_renderer()
    for n in range(min(ncols, len(handles)), 0, -1):
        legend = fig.legend(
            handles, labels, loc="outside lower center", ncols=n, frameon=False, fontsize=8.5
        )
        if n == 1 or legend.get_window_extent(renderer).width <= 0.98 * fig.bbox.width:
            return
        legend.remove()


def _message_figure(message: str, title: str | None = None):
    """A figure with no data: one panel that says why."""
    fig, axes = _subplots(1)
    _empty_panel(axes[0, 0], message)
    if title:
        _suptitle(fig, title)
    return fig, axes


def _empty_panel(ax, message: str) -> None:
    fig = ax.get_figure()
    n_cols = ax.get_subplotspec().get_gridspec().ncols
    text = _wrap(message, fig.get_figwidth() / n_cols * 0.85, 11)
    ax.text(
        0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=11, color="0.3"
    )
    ax.set_xticks([])
    ax.set_yticks([])
    for s in ax.spines.values():
        s.set_visible(False)


def _subplots(n: int, *, width: float = 4.2, height: float = 3.4, nrows: int = 1, sharey=False):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        nrows,
        n,
        figsize=(width * n, height * nrows),
        squeeze=False,
        sharey=sharey,
        layout="constrained",
    )
    return fig, axes
