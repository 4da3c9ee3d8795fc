"""The one look of every figure: rcParams, colour-blind-safe palettes, load-band labels."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd

LOAD_BANDS = (0.0, 70.0, 80.0, 90.0, np.inf)
"""Edges of the %1RM bands of the curve figures: <70, 70-79, 80-89, >=90."""

PALETTE = "colorblind"
"""seaborn's colour-blind-safe palette for lifts (after Wong 2011, doi:10.1038/nmeth.1618);
ordered load bands use viridis (perceptually uniform, colour-blind safe)."""

LIFT_COLOURS = {"squat": 0, "deadlift": 1}


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


def _empty_panel(ax, message: str) -> None:
    ax.text(
        0.5,
        0.5,
        message,
        ha="center",
        va="center",
        transform=ax.transAxes,
        wrap=True,
        fontsize=11,
        color="0.3",
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
