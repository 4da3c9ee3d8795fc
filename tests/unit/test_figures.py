"""Tests of hipdrive.figures, the report captions and the notebook."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hipdrive import figures, stats
from hipdrive.stats.power import StudyDesign, simulate_study_tables

ROOT = Path(__file__).resolve().parents[2]


def _stats_dir(tmp: Path, reps: pd.DataFrame, curves: pd.DataFrame) -> Path:
    """The fit-models files the figures read, for the two metrics they draw fits of."""
    r = stats.validate_reps(reps)
    out = tmp / "stats"
    out.mkdir()
    specs = [stats.METRIC_BY_NAME[stats.PRIMARY_METRIC], stats.METRIC_BY_NAME["hip_shoot_index"]]
    stats.fit_models(r, metrics=specs).to_csv(out / "models.csv", index=False)
    stats.lifter_slopes(r, metrics=[stats.PRIMARY_METRIC]).to_csv(
        out / "lifter_slopes.csv", index=False
    )
    stats.spm_slope_curves(curves, r)[0].to_csv(out / "spm.csv", index=False)
    return out


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """2 lifters x 3 loads, squat only: every figure must still draw."""
    tmp = tmp_path_factory.mktemp("tiny")
    reps, curves = simulate_study_tables(
        StudyDesign(n_lifters=2, loads_pct_1rm=(70.0, 80.0, 90.0)), seed=4
    )
    counts = figures.plot_all(
        reps, curves, stats_dir=_stats_dir(tmp, reps, curves), out_dir=tmp / "figures"
    )
    return tmp / "figures", counts, reps


@pytest.fixture(scope="module")
def both_lifts(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("both")
    reps, curves = simulate_study_tables(
        StudyDesign(n_lifters=6, lifts=("squat", "deadlift"), effect_slope_deg_per_10pct=2.0),
        seed=8,
    )
    stats_dir = _stats_dir(tmp, reps, curves)
    counts = figures.plot_all(reps, curves, stats_dir=stats_dir, out_dir=tmp / "figures")
    return tmp / "figures", counts, stats.validate_reps(reps), stats_dir


def test_every_figure_written_for_a_tiny_study(tiny):
    out, counts, reps = tiny
    for name in figures.FIGURES:
        for ext in ("png", "pdf", "counts.rst"):
            assert (out / f"{name}.{ext}").stat().st_size > 0, f"{name}.{ext}"
    assert set(counts) == set(figures.FIGURES)
    assert counts["hip_lead_vs_load"]["n_lifters"] == 2
    assert "too few lifters for SPM" in (out / "spm_trunk_angle.counts.rst").read_text()
    assert "no deadlift reps" in (out / "deadlift_hip_shoot.counts.rst").read_text()
    assert json.loads((out / "figure_counts.json").read_text()) == counts


def test_png_is_an_image(tiny):
    out, _, _ = tiny
    assert (out / "hip_lead_vs_load.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "hip_lead_vs_load.pdf").read_bytes()[:5] == b"%PDF-"


def test_counts_match_the_tables(both_lifts):
    _, counts, reps, _ = both_lifts
    used = reps[reps["used"]]
    c = counts["hip_lead_vs_load"]
    assert c["n_reps"] == len(used)
    assert c["n_lifters"] == used["lifter_id"].nunique() == 6
    assert c["by_lift"]["deadlift"]["n_reps"] == int((used["lift"] == "deadlift").sum())
    assert counts["deadlift_hip_shoot"]["n_reps"] == int((used["lift"] == "deadlift").sum())
    assert counts["slope_forest"]["by_lift"]["squat"]["n_lifters"] == 6


def test_hip_lead_figure_draws_the_model_fit(both_lifts):
    import matplotlib.pyplot as plt

    _, _, reps, stats_dir = both_lifts
    models = pd.read_csv(stats_dir / "models.csv")
    with figures.figure_style():
        fig, _ = figures.plot_hip_lead_vs_load(reps, models)
    r = models[(models["metric"] == stats.PRIMARY_METRIC) & (models["lift"] == "squat")].iloc[0]
    ax = fig.axes[0]
    fit = [line for line in ax.lines if line.get_label() == "model fit"][0]
    x, y = fit.get_data()
    np.testing.assert_allclose(
        y, r["intercept"] + r["slope_per_10pct"] * (x - r["pct_1rm_centre"]) / 10
    )
    assert f"{r['slope_per_10pct']:+.3g}" in ax.get_title()
    plt.close(fig)


def test_load_bands():
    bands = figures.load_band(np.array([50, 70, 79.9, 85, 90, 100]))
    assert list(bands.astype(str)) == ["<70%", "70-79%", "70-79%", "80-89%", ">=90%", ">=90%"]


def test_missing_stats_dir_is_an_input_error(tmp_path):
    from hipdrive.errors import InputError

    reps, _ = simulate_study_tables(StudyDesign(n_lifters=2), seed=0, with_curves=False)
    with pytest.raises(InputError, match="fit-models output folder not found"):
        figures.plot_all(reps, None, stats_dir=tmp_path / "nope", out_dir=tmp_path / "f")


@pytest.mark.parametrize("name", figures.FIGURES)
def test_report_caption_renders_with_counts(both_lifts, name, monkeypatch):
    """The caption is rendered as Snakemake does (Jinja2, then docutils) and includes the counts."""
    from docutils.core import publish_parts
    from jinja2 import Environment

    out, counts, _, _ = both_lifts

    class Output(list):
        pass

    output = Output([str(out / f"{name}.png")])
    setattr(output, name, str(out / f"{name}.png"))
    template = (ROOT / "workflow" / "report" / f"{name}.rst").read_text()
    text = Environment().from_string(template).render(snakemake=type("S", (), {"output": output}))
    html = publish_parts(text, writer="html")["body"]
    assert f"{counts[name]['n_lifters']} lifters" in html


def test_no_pose_library_imported():
    code = (
        "import sys, hipdrive.stats, hipdrive.figures, hipdrive.stats.power, hipdrive.commands.stats;"
        "print([m for m in ('cv2', 'mediapipe', 'torch', 'mmpose') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_notebook_runs_on_results_tables(tmp_path, monkeypatch):
    import nbclient
    import nbformat

    tables = tmp_path / "results" / "tables"
    tables.mkdir(parents=True)
    reps, curves = simulate_study_tables(StudyDesign(n_lifters=5), seed=9)
    reps.to_parquet(tables / "reps.parquet")
    curves.to_parquet(tables / "curves.parquet")
    monkeypatch.setenv("HIPDRIVE_RESULTS", str(tmp_path / "results"))
    nb = nbformat.read(ROOT / "notebooks" / "hip_lead_vs_load.ipynb", as_version=4)
    nbclient.NotebookClient(
        nb, timeout=120, resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = json.dumps([o.get("data", {}).get("text/plain", "") for o in outputs])
    assert "slope_per_10pct" in text and "squat" in text
    assert any("image/png" in o.get("data", {}) for o in outputs)


def test_plot_all_with_no_reps(tmp_path):
    reps, _ = simulate_study_tables(StudyDesign(n_lifters=2), seed=0, with_curves=False)
    empty = stats.validate_reps(reps.iloc[0:0])
    stats.write_stats(stats.run_stats(empty, None, n_bootstrap=10, workers=1), tmp_path / "s")
    counts = figures.plot_all(empty, None, stats_dir=tmp_path / "s", out_dir=tmp_path / "f")
    assert all(c["n_lifters"] == 0 for c in counts.values())
    assert all((tmp_path / "f" / f"{name}.png").is_file() for name in figures.FIGURES)


def test_sticking_figure_when_only_an_unused_rep_has_a_sticking_region():
    """Seen in the bad-input corpus: an empty selection came back as NaN rows and seaborn failed."""
    reps, _ = simulate_study_tables(StudyDesign(n_lifters=3), seed=2, with_curves=False)
    reps = stats.validate_reps(reps)
    reps["sticking_pct_ascent"] = np.nan
    reps.loc[reps.index[0], "sticking_pct_ascent"] = 55.0
    reps.loc[reps.index[0], "used"] = False
    assert figures._used(reps, "sticking_pct_ascent").empty
    fig, counts = figures.plot_sticking_vs_load(reps)
    assert "no reps with a sticking region" in [t.get_text() for t in fig.axes[1].texts]
    assert counts["n_reps"] == int(reps["used"].sum())
