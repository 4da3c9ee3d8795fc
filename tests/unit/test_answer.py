"""The report's first page states the answer, with its numbers, before any table."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from hipdrive import stats
from hipdrive.answer import answer_page
from hipdrive.contracts.exclusions import excluded_table, write_excluded
from hipdrive.stats.power import StudyDesign, simulate_study_tables


@pytest.fixture(scope="module")
def stats_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("stats")
    reps, curves = simulate_study_tables(StudyDesign(n_lifters=8), seed=3)
    result = stats.run_stats(stats.validate_reps(reps), curves, n_bootstrap=200, workers=1)
    stats.write_stats(result, out)
    return out


def test_the_first_words_are_the_finding_with_its_numbers(stats_dir, tmp_path):
    models = pd.read_csv(stats_dir / "models.csv").set_index(["metric", "lift"])
    row = models.loc[(stats.PRIMARY_METRIC, "squat")]
    table = excluded_table(pd.DataFrame({"video_id": ["v1"], "rep": [2], "failed": [True],
                                         "lift": ["squat"], "pct_1rm": [90.0]}), {})  # fmt: skip
    write_excluded(table, tmp_path / "excluded.tsv", tmp_path / "excluded.html")
    page = answer_page(stats_dir, tmp_path / "excluded.tsv", {"pose": {"backend": "mediapipe"}})
    text = re.sub(r"<[^>]+>", "", page.split("<body>", 1)[1])
    first = text.split("What this study found", 1)[1].strip()
    assert first.startswith(f"Squat: Hip-lead: trunk change (deg) changed by {row['slope_per_10pct']:+.2f} deg")
    assert f"95% CI {row['ci_low']:+.2f} to {row['ci_high']:+.2f}" in first[:300]
    assert "lifters whose hips led on average over their heavy reps" in text
    assert "rep quality: 1" in text and "failed" in text
    # tables inline, configuration and provenance last
    assert text.index("Statistics tables") < text.index("Configuration and provenance")
    assert "mediapipe" in text.split("Configuration and provenance", 1)[1]


def test_too_few_lifters_says_what_was_not_estimated_and_why(tmp_path):
    reps, curves = simulate_study_tables(StudyDesign(n_lifters=2), seed=1)
    stats.write_stats(stats.run_stats(stats.validate_reps(reps), curves, n_bootstrap=50, workers=1), tmp_path)
    text = re.sub(r"<[^>]+>", "", answer_page(tmp_path))
    assert "Squat: Hip-lead: trunk change (deg) was not estimated (fewer than 3 lifters" in text
    assert "Not estimated" in text


def test_a_simulated_study_states_its_truth_and_whether_the_ci_recovers_it(stats_dir):
    row = pd.read_csv(stats_dir / "models.csv").set_index(["metric", "lift"]).loc[(stats.PRIMARY_METRIC, "squat")]
    inside = (row["ci_low"] + row["ci_high"]) / 2
    text = re.sub(r"<[^>]+>", "", answer_page(stats_dir, simulated_slope=inside))
    assert f"simulated with a true slope of {inside:+.2f} deg per 10 %1RM: the 95% CI contains it" in text
    outside = row["ci_high"] + 1.0
    text = re.sub(r"<[^>]+>", "", answer_page(stats_dir, simulated_slope=outside))
    assert "the 95% CI does not contain it" in text
    zero = "excludes zero" if row["ci_low"] > 0 or row["ci_high"] < 0 else "does not exclude zero"
    assert zero in text
    assert "simulated" not in re.sub(r"<[^>]+>", "", answer_page(stats_dir)).split("Statistics tables")[0]


def test_no_model_says_why_when_no_rep_has_a_pct_1rm(tmp_path):
    """Reps without loads: the answer names the missing %1RM, not just "no rep"."""
    from hipdrive.answer import findings

    (tmp_path / "stats").mkdir()
    reps = pd.DataFrame({"video_id": ["v1", "v2"], "rep": [1, 1], "lift": ["squat"] * 2,
                         "pct_1rm": [float("nan")] * 2})  # fmt: skip
    write_excluded(excluded_table(reps, {}), tmp_path / "excluded.tsv", tmp_path / "excluded.html")
    text = findings(tmp_path / "stats", tmp_path / "excluded.tsv")
    assert "No model could be fitted: no rep has a %1RM (the manifest gives no load_kg" in text
    reps["failed"], reps["pct_1rm"] = [True, True], [80.0, float("nan")]  # one has a %1RM but failed
    write_excluded(excluded_table(reps, {}), tmp_path / "excluded.tsv", tmp_path / "excluded.html")
    text = findings(tmp_path / "stats", tmp_path / "excluded.tsv")
    assert "no rep entered the models (2 videos and reps excluded, listed below)" in text
    assert "no rep has a %1RM" not in text
