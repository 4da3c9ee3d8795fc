"""The report figures: one seaborn style, colour-blind-safe, PNG + PDF.

Eight figures, each drawn by a ``plot_<name>`` function that takes tables and
returns ``(figure, counts)``; :data:`FIGURES` (module ``registry``) lists them
with their report titles and inputs, and the Snakemake rules read it.
:func:`plot_all` draws them all from the collected tables and the
``fit-models`` output folder, as the ``hipdrive plot-figures`` command does.
Modules: ``style`` (rcParams, palettes, load bands), one per figure family
(``curves``, ``vs_load``, ``sticking``, ``spm``, ``forest``), ``stage``
(:func:`plot_all`, files and captions).

====================== ===========================================================
name                   content
====================== ===========================================================
trunk_curves_by_load   mean trunk-angle curves over the ascent by %1RM band, 95% CI
hip_lead_vs_load       primary hip-lead index vs %1RM, per-lifter lines, model fit
sticking_vs_load       sticking-region presence and position vs load
load_velocity          load-velocity profile per lifter
moment_arm_ratio_curves hip/knee moment-arm ratio through the ascent by load band
spm_trunk_angle        SPM{t} of the per-lifter trunk-angle slope curves
deadlift_hip_shoot     deadlift hip-shoot index vs load
slope_forest           per-lifter slopes of the primary index (forest plot)
====================== ===========================================================

Captions: the Snakemake report uses the static RST captions in
``workflow/report/{name}.rst``; each includes ``{name}.counts.rst``, a one-line
RST paragraph with the numbers of lifters and reps that this module writes next
to the figure (the same numbers are in ``figure_counts.json``).

A lift without data gets no panel; a figure without any data is one panel that
says why (no curves, no deadlifts) instead of failing. Lines across load join
means per 5 %1RM bin; below ``MIN_LIFTERS_BAND`` lifters, curves show each
lifter instead of a 95% band. PNGs are 300 dpi; PDFs embed TrueType fonts.
"""

from hipdrive.figures.curves import (
    CURVE_VARIABLES_USED,
    plot_moment_arm_ratio_curves,
    plot_trunk_curves_by_load,
)
from hipdrive.figures.forest import MAX_FOREST_LABELS, plot_slope_forest
from hipdrive.figures.registry import FIGURE_NAMES, FIGURES, Figure
from hipdrive.figures.spm import plot_spm_trunk_angle
from hipdrive.figures.stage import counts_rst, plot_all, save_figure
from hipdrive.figures.sticking import plot_sticking_vs_load
from hipdrive.figures.style import (
    LIFT_COLOURS,
    LOAD_BANDS,
    MIN_LIFTERS_BAND,
    PALETTE,
    PCT_BIN,
    figure_style,
    load_band,
    pct_bin,
)
from hipdrive.figures.subsets import _used  # noqa: F401  (tests check which reps count)
from hipdrive.figures.vs_load import (
    plot_deadlift_hip_shoot,
    plot_hip_lead_vs_load,
    plot_load_velocity,
)

__all__ = [
    "CURVE_VARIABLES_USED",
    "FIGURES",
    "FIGURE_NAMES",
    "LIFT_COLOURS",
    "LOAD_BANDS",
    "MAX_FOREST_LABELS",
    "MIN_LIFTERS_BAND",
    "PALETTE",
    "PCT_BIN",
    "Figure",
    "counts_rst",
    "figure_style",
    "load_band",
    "pct_bin",
    "plot_all",
    "plot_deadlift_hip_shoot",
    "plot_hip_lead_vs_load",
    "plot_load_velocity",
    "plot_moment_arm_ratio_curves",
    "plot_slope_forest",
    "plot_spm_trunk_angle",
    "plot_sticking_vs_load",
    "plot_trunk_curves_by_load",
    "save_figure",
]
