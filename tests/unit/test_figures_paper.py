"""Paper-ready figures and tables: nothing clipped, no empty panels, readable names, print formats."""

from __future__ import annotations

import subprocess
import sys

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
