"""Paper-ready figures and tables: nothing clipped, no empty panels, readable names, print formats."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from hipdrive import figures, stats
from hipdrive.contracts.labels import METRIC_LABELS
from hipdrive.stats.power import StudyDesign, simulate_study_tables
from hipdrive.stats.stage import models_to_latex


@pytest.fixture(scope="module")
def models():
    reps, _ = simulate_study_tables(StudyDesign(n_lifters=4), seed=1, with_curves=False)
    specs = [stats.METRIC_BY_NAME[stats.PRIMARY_METRIC], stats.METRIC_BY_NAME["sticking_present"]]
    return stats.fit_models(stats.validate_reps(reps), metrics=specs)


def test_models_tex_names_metrics_readably(models):
    tex = models_to_latex(models)
    assert "Hip-lead: trunk change (deg)" in tex
    assert "hip\\_lead" not in tex and "hip_lead" not in tex
    assert list(models["metric"]) == [stats.PRIMARY_METRIC, "sticking_present"]


def test_every_modelled_metric_has_a_readable_name():
    assert all(m.column in METRIC_LABELS for m in stats.METRICS)
    assert stats.METRIC_BY_NAME[stats.PRIMARY_METRIC].label == METRIC_LABELS[stats.PRIMARY_METRIC]


def test_figures_and_stats_do_not_import_each_other():
    code = (
        "import sys, importlib; a = sys.argv[1]; importlib.import_module(a);"
        "print(sorted(m for m in sys.modules if m.startswith('hipdrive.')))"
    )
    for mod, other in (
        ("hipdrive.figures", "hipdrive.stats"),
        ("hipdrive.stats", "hipdrive.figures"),
    ):
        out = subprocess.run(
            [sys.executable, "-c", code, mod], capture_output=True, text=True, check=True
        ).stdout
        assert f"'{other}" not in out, (mod, out)


def _tables(reps: pd.DataFrame, curves: pd.DataFrame) -> dict:
    """Every input a registered figure takes, as ``plot_all`` hands them over."""
    r = stats.validate_reps(reps)
    specs = [stats.METRIC_BY_NAME[stats.PRIMARY_METRIC], stats.METRIC_BY_NAME["hip_shoot_index"]]
    return {
        "reps": r,
        "curves": curves,
        "models": stats.fit_models(r, metrics=specs),
        "lifter_slopes": stats.lifter_slopes(r, metrics=[stats.PRIMARY_METRIC]),
        "spm": stats.spm_slope_curves(curves, r)[0] if len(curves) else None,
    }


def _draw(name: str, tables: dict):
    fig_spec = figures.FIGURES[name]
    with figures.figure_style():
        fig, _ = fig_spec.draw(*(tables[i] for i in fig_spec.inputs))
        fig.canvas.draw()
    return fig


@pytest.fixture(scope="module")
def studies():
    """A squat-only study of 2 lifters, both lifts with 6 lifters, and a study with no reps."""
    squat, squat_curves = simulate_study_tables(
        StudyDesign(n_lifters=2, loads_pct_1rm=(70.0, 80.0, 90.0)), seed=4
    )
    both, both_curves = simulate_study_tables(
        StudyDesign(n_lifters=6, lifts=("squat", "deadlift"), effect_slope_deg_per_10pct=2.0),
        seed=8,
    )
    return {
        "squat_2_lifters": _tables(squat, squat_curves),
        "both_6_lifters": _tables(both, both_curves),
        "no_reps": _tables(squat.iloc[0:0], squat_curves.iloc[0:0]),
    }


def _clipped_texts(fig) -> list[tuple[str, tuple]]:
    """Visible text artists whose window extent leaves the figure's bbox.

    Tick labels count only for ticks inside the axis' view interval: matplotlib
    keeps (but does not draw) labels of ticks outside it.
    """
    from matplotlib.text import Text

    renderer = fig.canvas.get_renderer()
    undrawn = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            tol = 1e-9 * max(1.0, abs(hi - lo))
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                if not lo - tol <= tick.get_loc() <= hi + tol:
                    undrawn.update({id(tick.label1), id(tick.label2)})
    box = fig.bbox
    out = []
    for t in fig.findobj(Text):
        if not t.get_visible() or not t.get_text().strip() or id(t) in undrawn:
            continue
        e = t.get_window_extent(renderer)
        if e.x0 < box.x0 - 0.5 or e.y0 < box.y0 - 0.5 or e.x1 > box.x1 + 0.5 or e.y1 > box.y1 + 0.5:
            out.append((t.get_text(), tuple(round(v) for v in e.extents)))
    return out


@pytest.mark.parametrize("study", ["squat_2_lifters", "both_6_lifters", "no_reps"])
def test_no_text_is_clipped(studies, study):
    """Titles, labels, legends, tick labels and messages lie inside every figure."""
    import matplotlib.pyplot as plt

    clipped = {}
    for name in figures.FIGURES:
        fig = _draw(name, studies[study])
        if found := _clipped_texts(fig):
            clipped[name] = found
        plt.close(fig)
    assert not clipped


def _texts(fig) -> str:
    from matplotlib.text import Text

    return " ".join(t.get_text() for t in fig.findobj(Text) if t.get_visible())


def test_no_panel_for_a_lift_without_data(studies):
    """A lift whose reps lack the figure's data gets no panel; a figure without data gets one."""
    import matplotlib.pyplot as plt

    t = dict(studies["both_6_lifters"])
    reps = t["reps"].copy()
    dead = reps["lift"] == "deadlift"
    reps.loc[dead, [stats.PRIMARY_METRIC, "mean_concentric_velocity_bh_s"]] = np.nan
    curves = t["curves"]
    t["reps"] = reps
    t["curves"] = curves[curves["video_id"].isin(reps.loc[~dead, "video_id"])]
    for name in ("hip_lead_vs_load", "load_velocity", "trunk_curves_by_load"):
        fig = _draw(name, t)
        assert len(fig.axes) == 1, name
        assert "deadlift" not in _texts(fig), name
        plt.close(fig)
    squat_only = studies["squat_2_lifters"]
    for name in figures.FIGURES:
        fig = _draw(name, squat_only)
        if name == "deadlift_hip_shoot":
            assert len(fig.axes) == 1 and "no deadlift reps" in _texts(fig)
        else:
            assert "deadlift" not in _texts(fig), name
        plt.close(fig)
    for name in figures.FIGURES:
        fig = _draw(name, studies["no_reps"])
        assert len(fig.axes) == 1, name
        plt.close(fig)


def test_few_lifters_show_each_lifter_not_a_band(studies):
    """2 lifters: one line per lifter and no shaded band; 6 lifters: the 95% band."""
    import matplotlib.pyplot as plt
    from matplotlib.collections import PolyCollection

    for study, banded in (("squat_2_lifters", False), ("both_6_lifters", True)):
        for name in ("trunk_curves_by_load", "moment_arm_ratio_curves", "sticking_vs_load"):
            fig = _draw(name, studies[study])
            ax = fig.axes[0]
            bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
            assert bool(bands) == banded, (study, name)
            if not banded:  # curves: 3 load bands x (2 lifters + mean); share: 2 lifters + mean
                assert len(ax.lines) >= (9 if "curves" in name else 3), name
            plt.close(fig)


def test_lines_across_load_join_binned_means():
    """Loads a few %1RM apart fall into one 5 %1RM bin, so lines do not zig-zag."""
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    loads = (60.0, 61.5, 63.0, 70.0, 71.5, 73.0, 80.0, 81.5, 83.0, 90.0, 91.5, 93.0)
    reps, curves = simulate_study_tables(
        StudyDesign(n_lifters=3, loads_pct_1rm=loads, reps_per_load=2), seed=3, with_curves=False
    )
    t = _tables(reps, pd.DataFrame())
    for name in ("hip_lead_vs_load", "load_velocity", "sticking_vs_load"):
        fig = _draw(name, t)
        xs = [seg[:, 0] for ax in fig.axes for c in ax.collections
              if isinstance(c, LineCollection) for seg in c.get_segments()]  # fmt: skip
        xs += [line.get_xdata() for ax in fig.axes for line in ax.lines
               if line.get_marker() not in ("None", None, "")]  # fmt: skip
        assert xs, name
        for x in xs:
            bins = np.floor(np.asarray(x, float) / 5)
            assert np.all(np.diff(bins) > 0), (name, x)
        plt.close(fig)


def test_velocity_in_metres_per_second_when_heights_are_known(studies):
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    reps = studies["squat_2_lifters"]["reps"].copy()
    assert "body heights/s" in _draw("load_velocity", {"reps": reps}).axes[0].get_ylabel()
    reps["mean_concentric_velocity_m_s"] = reps["mean_concentric_velocity_bh_s"] * 1.8
    fig = _draw("load_velocity", {"reps": reps})
    assert "(m/s)" in fig.axes[0].get_ylabel()
    ys = np.concatenate(
        [
            s[:, 1]
            for c in fig.axes[0].collections
            if isinstance(c, LineCollection)
            for s in c.get_segments()
        ]  # fmt: skip
    )
    used = reps[reps["used"]]
    assert ys.max() == pytest.approx(
        used.groupby(["lifter_id", "pct_1rm"])["mean_concentric_velocity_m_s"].mean().max()
    )
    reps.loc[reps["lifter_id"] == "L01", "mean_concentric_velocity_m_s"] = np.nan
    fig2 = _draw("load_velocity", {"reps": reps})
    assert "body heights/s" in fig2.axes[0].get_ylabel()  # one unit per figure
    plt.close("all")


def test_print_formats(studies, tmp_path):
    """300 dpi PNG; PDF fonts embedded as TrueType (Type 3 fonts are refused by journals)."""
    from PIL import Image

    with figures.figure_style():
        fig = _draw("hip_lead_vs_load", studies["both_6_lifters"])
        png, pdf = figures.save_figure(fig, tmp_path, "f")
    with Image.open(png) as im:
        assert im.info["dpi"] == pytest.approx((300, 300), abs=0.5)
    data = pdf.read_bytes()
    assert b"/Type3" not in data
    assert b"/TrueType" in data or b"/CIDFontType2" in data
