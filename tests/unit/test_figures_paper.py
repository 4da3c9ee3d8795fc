"""Paper-ready figures and tables: nothing clipped, no empty panels, readable names, print formats."""

from __future__ import annotations

import subprocess
import sys

import pytest

from hipdrive import stats
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
