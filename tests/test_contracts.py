"""The contract layer: parameters and schemas declared once, files written alike."""

from __future__ import annotations

import json
import re
import shlex

import pandas as pd
import pytest
import yaml

from hipdrive import figures
from hipdrive.cli import main as cli
from hipdrive.contracts.params import HEAVY_PCT_1RM, STATS_DEFAULTS
from hipdrive.power import StudyDesign, simulate_study_tables

from .conftest import REPO
from .test_workflow import snakemake


def test_stats_defaults_are_the_config_schema_defaults():
    schema = yaml.safe_load((REPO / "config/schemas/config.schema.yaml").read_text())
    props = schema["properties"]["stats"]["properties"]
    assert {k: v["default"] for k, v in props.items()} == dict(STATS_DEFAULTS)
    assert HEAVY_PCT_1RM == props["heavy_pct_1rm"]["default"]


def test_the_workflow_passes_the_configured_heavy_threshold_to_stats_and_figures(tmp_path):
    """config stats.heavy_pct_1rm = 80: fit-models and plot-figures are both called with 80."""
    tables = tmp_path / "results/tables"
    tables.mkdir(parents=True)
    for name in ("reps.parquet", "curves.parquet"):
        (tables / name).write_bytes(b"")  # a dry run only needs the inputs to exist
    (tmp_path / "config.yaml").write_text("from_tables: true\nstats: {heavy_pct_1rm: 80}\n")
    proc = snakemake(tmp_path, "--dry-run", "--printshellcmds")
    text = proc.stdout + proc.stderr
    fit = re.search(r"hipdrive fit-models .*", text)
    plot = re.search(r"hipdrive plot-figures .*", text)
    assert fit and plot, text[-3000:]
    fit_args = shlex.split(fit.group(0))
    assert json.loads(fit_args[fit_args.index("--params") + 1])["heavy_pct_1rm"] == 80
    plot_args = shlex.split(plot.group(0))
    assert float(plot_args[plot_args.index("--heavy-pct-1rm") + 1]) == 80


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tables")
    reps, curves = simulate_study_tables(StudyDesign(n_lifters=3), seed=3)
    reps.to_parquet(tmp / "reps.parquet")
    curves.to_parquet(tmp / "curves.parquet")
    return tmp


def _heavy_lines(fig) -> list[float]:
    """x of the vertical lines of the sticking figure's left panel."""
    ax = fig.axes[0]
    return [
        float(line.get_xdata()[0])
        for line in ax.get_lines()
        if len(set(line.get_xdata())) == 1 and line.get_linestyle() == ":"
    ]


@pytest.mark.parametrize("heavy", [None, 80.0])
def test_stats_and_figure_commands_use_the_same_heavy_threshold(tables, tmp_path, monkeypatch, heavy):
    """Given 80 both commands use 80; given nothing both use the one default."""
    drawn = []
    original = figures.plot_sticking_vs_load

    def spy(reps, **kwargs):
        fig, counts = original(reps, **kwargs)
        drawn.extend(_heavy_lines(fig))
        return fig, counts

    monkeypatch.setattr(figures, "plot_sticking_vs_load", spy)
    params = {"n_bootstrap": 100, "workers": 1} | ({} if heavy is None else {"heavy_pct_1rm": heavy})
    stats_dir = tmp_path / "stats"
    common = ["--reps", str(tables / "reps.parquet"), "--curves", str(tables / "curves.parquet")]
    assert cli(["fit-models", *common, "--params", json.dumps(params), "--out-dir", str(stats_dir)]) == 0
    extra = [] if heavy is None else ["--heavy-pct-1rm", str(heavy)]
    plot = ["plot-figures", *common, "--stats-dir", str(stats_dir), "--out-dir", str(tmp_path / "f")]
    assert cli([*plot, *extra, "--workers", "1"]) == 0
    used = set(pd.read_csv(stats_dir / "always.csv")["heavy_pct_1rm"])
    expected = HEAVY_PCT_1RM if heavy is None else heavy
    assert used == {expected}
    assert drawn == [expected]
