"""The figure stage as ``hipdrive plot-figures`` runs it: every figure, its caption counts."""

from __future__ import annotations

import json
import os
from functools import partial
from pathlib import Path

import pandas as pd

from hipdrive.contracts.files import atomic_path, atomic_write_bytes
from hipdrive.contracts.params import HEAVY_PCT_1RM
from hipdrive.contracts.reps import validate_reps
from hipdrive.contracts.results import read_stats_table
from hipdrive.errors import InputError
from hipdrive.figures.registry import FIGURES
from hipdrive.figures.style import figure_style


def counts_rst(name: str, counts: dict) -> str:
    """One RST paragraph naming the lifters and reps a figure rests on."""
    parts = [f"**{counts.get('n_lifters', 0)} lifters**"]
    if counts.get("n_reps"):
        parts.append(f"**{counts['n_reps']} reps**")
    text = "This figure rests on " + " and ".join(parts)
    by = counts.get("by_lift") or {}
    if by:
        detail = "; ".join(
            f"{lift}: {v.get('n_lifters', 0)} lifters"
            + (f", {v['n_reps']} reps" if v.get("n_reps") else "")
            for lift, v in by.items()
        )
        text += f" ({detail})"
    note = counts.get("note")
    return text + "." + (f" {note}" if note else "") + "\n"


def save_figure(fig, out_dir: Path, name: str) -> list[Path]:
    """Write ``{name}.png`` and ``{name}.pdf`` (atomically) and close the figure."""
    import matplotlib.pyplot as plt

    paths = []
    for ext in ("png", "pdf"):
        path = out_dir / f"{name}.{ext}"
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=ext)
        paths.append(path)
    plt.close(fig)
    return paths


def plot_all(
    reps: pd.DataFrame,
    curves: pd.DataFrame | None,
    *,
    stats_dir: str | Path,
    out_dir: str | Path,
    heavy_pct_1rm: float = HEAVY_PCT_1RM,
    workers: int = 2,
) -> dict[str, dict]:
    """Draw every figure of :data:`FIGURES`; write PNG, PDF and ``.counts.rst`` for each.

    Parameters
    ----------
    reps : pandas.DataFrame
        Collected reps table (validated here if needed).
    curves : pandas.DataFrame or None
        Long curves table (ascent rows of :data:`~hipdrive.figures.curves.CURVE_VARIABLES_USED` suffice).
    stats_dir : str or Path
        Output folder of ``hipdrive fit-models`` (``models.csv``,
        ``lifter_slopes.csv``, ``spm.csv``); missing files give empty panels.
    out_dir : str or Path
        Where to write ``{name}.png``, ``{name}.pdf``, ``{name}.counts.rst`` and
        ``figure_counts.json``.
    heavy_pct_1rm : float
        Heavy threshold marked in the sticking figure.
    workers : int
        Processes drawing figures in parallel (forked, so the tables are not
        copied; 1 = in this process).

    Returns
    -------
    dict
        Counts per figure name (as in ``figure_counts.json``).
    """
    if "used" not in reps.columns:
        reps = validate_reps(reps)
    stats_dir, out = Path(stats_dir), Path(out_dir)
    if not stats_dir.is_dir():
        raise InputError(f"{stats_dir}: fit-models output folder not found")
    out.mkdir(parents=True, exist_ok=True)
    models = read_stats_table(stats_dir / "models.csv")
    slopes = read_stats_table(stats_dir / "lifter_slopes.csv")
    spm = read_stats_table(stats_dir / "spm.csv")
    if slopes is not None and len(slopes):
        slopes["lifter_id"] = slopes["lifter_id"].astype(str)
    tables = {
        "reps": reps,
        "curves": curves,
        "models": models,
        "lifter_slopes": slopes,
        "spm": spm,
    }
    options = {"heavy_pct_1rm": heavy_pct_1rm}
    drawers = {
        name: partial(
            fig.draw, *(tables[i] for i in fig.inputs), **{k: options[k] for k in fig.options}
        )
        for name, fig in FIGURES.items()
    }
    state = {"drawers": drawers, "out": out, "spm": spm}
    if workers > 1 and hasattr(os, "fork"):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # fork: the workers inherit the tables; only figure names travel
        _FIGURE_STATE.update(state)
        try:
            ctx = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
                done = dict(pool.map(_draw_and_save, _HEAVY_FIRST))
        finally:
            _FIGURE_STATE.clear()
    else:
        done = dict(_draw_and_save(name, state) for name in FIGURES)
    all_counts = {name: done[name] for name in FIGURES}
    atomic_write_bytes(json.dumps(all_counts, indent=2).encode(), out / "figure_counts.json")
    return all_counts


_FIGURE_STATE: dict = {}
_HEAVY_FIRST = tuple(sorted(FIGURES, key=lambda name: FIGURES[name].queue))


def _draw_and_save(name: str, state: dict | None = None) -> tuple[str, dict]:
    """Draw one figure, save PNG + PDF + counts caption; return ``(name, counts)``."""
    state = _FIGURE_STATE if state is None else state
    out, spm = state["out"], state["spm"]
    with figure_style():
        fig, counts = state["drawers"][name]()
        save_figure(fig, out, name)
    if name == "spm_trunk_angle" and spm is not None and len(spm):
        statuses = spm.groupby("lift")["status"].first()
        bad = [f"{lift}: {st}" for lift, st in statuses.items() if st != "ok"]
        if bad:
            counts["note"] = "Not tested: " + "; ".join(bad) + "."
    if name == "deadlift_hip_shoot" and not counts["n_reps"]:
        counts["note"] = "There are no deadlift reps in this study."
    atomic_write_bytes(counts_rst(name, counts).encode(), out / f"{name}.counts.rst")
    return name, counts
