"""The contract layer: parameters and schemas declared once, files written alike."""

from __future__ import annotations

import ast
import json
import os
import re
import shlex

import pandas as pd
import pytest
import yaml

from hipdrive.cli import main as cli
from hipdrive.contracts.curves import CURVE_SCHEMA, CURVE_VARIABLES
from hipdrive.contracts.files import atomic_parquet_writer, atomic_write_bytes, atomic_write_table
from hipdrive.contracts.manifest import COLUMNS as MANIFEST_COLUMNS
from hipdrive.contracts.params import HEAVY_PCT_1RM, STATS_DEFAULTS
from hipdrive.contracts.reps import REP_COLUMNS
from hipdrive.figures import sticking as figures
from hipdrive.stats.power import StudyDesign, simulate_study_tables

from ..conftest import REPO
from .conftest import snakemake


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
    """Given 80 both commands use 80; given nothing both use the one default. Files are 0644."""
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
    extra = [] if heavy is None else ["--heavy-pct-1rm", str(heavy)]
    plot = ["plot-figures", *common, "--stats-dir", str(stats_dir), "--out-dir", str(tmp_path / "f")]
    old = os.umask(0o077)  # outputs are shared files whatever the user's umask
    try:
        assert cli(["fit-models", *common, "--params", json.dumps(params), "--out-dir", str(stats_dir)]) == 0
        assert cli([*plot, *extra, "--workers", "1"]) == 0
    finally:
        os.umask(old)
    written = [*stats_dir.iterdir(), *(tmp_path / "f").iterdir()]
    assert len(written) > 30 and {p.stat().st_mode & 0o777 for p in written} == {0o644}
    used = set(pd.read_csv(stats_dir / "always.csv")["heavy_pct_1rm"])
    expected = HEAVY_PCT_1RM if heavy is None else heavy
    assert used == {expected}
    assert drawn == [expected]


def _string_literals(tree: ast.AST):
    """Every tuple/list/set literal of strings in a module, as a set of its strings."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            strings = {e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
            if strings:
                yield node.lineno, strings


def test_table_columns_are_declared_in_the_contracts_only():
    """No module outside hipdrive.contracts spells out a table's columns or an Arrow schema."""
    copies = []
    for path in sorted((REPO / "src/hipdrive").rglob("*.py")):
        if "contracts" in path.parts:
            continue
        text = path.read_text()
        if "pa.schema(" in text or "pa.field(" in text:
            copies.append(f"{path.name}: an Arrow schema")
        for line, strings in _string_literals(ast.parse(text)):
            if len(strings & set(REP_COLUMNS)) > len(REP_COLUMNS) // 2:
                copies.append(f"{path.name}:{line}: the per-rep columns")
            if strings == set(CURVE_VARIABLES) or strings >= set(CURVE_SCHEMA.names):
                copies.append(f"{path.name}:{line}: the curve variables or columns")
            if strings >= set(MANIFEST_COLUMNS):
                copies.append(f"{path.name}:{line}: the manifest columns")
    assert not copies


def test_every_stage_uses_the_same_schema_objects():
    """The analysis, the aggregation, the statistics and the simulator's truth share one object."""
    from hipdrive import stats, tables
    from hipdrive.analysis import metrics
    from hipdrive.contracts import curves, reps
    from hipdrive.simulate import truth
    from hipdrive.stats import power

    assert truth.REP_COLUMNS is reps.REP_COLUMNS
    assert metrics.typed_reps is reps.typed_reps and metrics.CURVE_VARIABLES is curves.CURVE_VARIABLES
    assert tables.REP_SCHEMA is reps.REP_SCHEMA and tables.REPS_TABLE_SCHEMA is reps.REPS_TABLE_SCHEMA
    assert tables.CURVE_SCHEMA is curves.CURVE_SCHEMA
    assert stats.validate_reps is reps.validate_reps and stats.LIFTS is reps.LIFTS
    assert power.CURVE_VARIABLES is curves.CURVE_VARIABLES
    sim = power.SIMULATED_CURVE_VARIABLES
    assert sim == tuple(v for v in curves.CURVE_VARIABLES if v in sim)  # a subset, in contract order
    assert tuple(reps.REP_SCHEMA.names) == reps.REP_COLUMNS
    assert reps.REPS_TABLE_SCHEMA.names[: len(reps.REP_COLUMNS)] == list(reps.REP_COLUMNS)
    assert curves.CURVES_TABLE_SCHEMA.names[: len(curves.CURVE_SCHEMA)] == curves.CURVE_SCHEMA.names


def test_atomic_writes_are_0644_whatever_the_umask(tmp_path):
    import pyarrow as pa

    old = os.umask(0o077)
    try:
        atomic_write_table(pa.table({"a": [1]}), tmp_path / "t.parquet")
        atomic_write_bytes(b"x", tmp_path / "b.txt")
        with atomic_parquet_writer(tmp_path / "s.parquet", pa.schema([("a", pa.int64())])) as writer:
            writer.write_table(pa.table({"a": [1]}))
    finally:
        os.umask(old)
    assert {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()} == dict.fromkeys(
        ("t.parquet", "b.txt", "s.parquet"), 0o644
    )
