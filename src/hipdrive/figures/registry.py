"""The one list of report figures: name -> title, drawing function, inputs.

``plot_all`` draws from it and the Snakemake rules take their output names and
report labels from it, so adding a figure is one entry here (plus its caption
``workflow/report/{name}.rst``). Drawing functions are named, not imported, so
the workflow reads this list without loading the plotting modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module


@dataclass(frozen=True)
class Figure:
    """One report figure.

    Attributes
    ----------
    title : str
        Label in the Snakemake report; the letter orders the report's list.
    family : str
        Module of :mod:`hipdrive.figures` that draws it.
    function : str
        Its drawing function there: ``function(*inputs, **options) -> (figure, counts)``.
    inputs : tuple of str
        Positional arguments: ``reps``, ``curves`` (the collected tables) or
        ``models``, ``lifter_slopes``, ``spm`` (fit-models files).
    options : tuple of str
        Keyword arguments taken from ``plot_all`` (``heavy_pct_1rm``).
    queue : int
        Drawing order with parallel workers: the slowest first, so the workers
        finish together.
    """

    title: str
    family: str
    function: str
    inputs: tuple[str, ...]
    options: tuple[str, ...] = ()
    queue: int = 0

    def draw(self, *args, **kwargs):
        """Call the drawing function as its module holds it at call time."""
        return getattr(import_module(f"hipdrive.figures.{self.family}"), self.function)(
            *args, **kwargs
        )


FIGURES: dict[str, Figure] = {
    "trunk_curves_by_load": Figure(
        "(a) Trunk angle through the ascent by load",
        "curves",
        "plot_trunk_curves_by_load",
        ("reps", "curves"),
        queue=1,
    ),
    "hip_lead_vs_load": Figure(
        "(b) Hip-lead index vs load",
        "vs_load",
        "plot_hip_lead_vs_load",
        ("reps", "models"),
        queue=4,
    ),
    "sticking_vs_load": Figure(
        "(c) Sticking region vs load",
        "sticking",
        "plot_sticking_vs_load",
        ("reps",),
        options=("heavy_pct_1rm",),
        queue=0,
    ),
    "load_velocity": Figure(
        "(d) Load-velocity profiles", "vs_load", "plot_load_velocity", ("reps",), queue=5
    ),
    "moment_arm_ratio_curves": Figure(
        "(e) Moment-arm ratio through the ascent",
        "curves",
        "plot_moment_arm_ratio_curves",
        ("reps", "curves"),
        queue=2,
    ),
    "spm_trunk_angle": Figure(
        "(f) SPM of trunk angle on load", "spm", "plot_spm_trunk_angle", ("spm",), queue=7
    ),
    "deadlift_hip_shoot": Figure(
        "(g) Deadlift hip-shoot index vs load",
        "vs_load",
        "plot_deadlift_hip_shoot",
        ("reps", "models"),
        queue=6,
    ),
    "slope_forest": Figure(
        "(h) Per-lifter slopes",
        "forest",
        "plot_slope_forest",
        ("lifter_slopes", "models"),
        queue=3,
    ),
}
"""Every report figure, in the order of ``figure_counts.json``; files are
``{name}.png``, ``{name}.pdf`` and ``{name}.counts.rst``."""

FIGURE_NAMES = tuple(FIGURES)
"""Figure names, in the order of :data:`FIGURES`."""
