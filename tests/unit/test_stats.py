"""Tests of hipdrive.stats: mixed models, per-lifter slopes, bootstrap, SPM, outputs.

Oracles: the generative model of hipdrive.power (known slope), exact identities
of balanced designs, and hand-computed shares.
"""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from hipdrive import stats
from hipdrive.cli import main as cli
from hipdrive.contracts.reps import read_reps
from hipdrive.contracts.results import STATS_FILES
from hipdrive.errors import InputError
from hipdrive.stats.power import StudyDesign, simulate_study_tables

TRUE_SLOPE = 2.0


@pytest.fixture(scope="module")
def study():
    design = StudyDesign(
        n_lifters=12, lifts=("squat", "deadlift"), effect_slope_deg_per_10pct=TRUE_SLOPE
    )
    reps, curves = simulate_study_tables(design, seed=11)
    return stats.validate_reps(reps), curves


@pytest.fixture(scope="module")
def balanced():
    design = StudyDesign(n_lifters=10, p_flagged=0.0, effect_slope_deg_per_10pct=1.0)
    reps, _ = simulate_study_tables(design, seed=5, with_curves=False)
    return stats.validate_reps(reps)


# --- mixed model ----------------------------------------------------------------


def test_balanced_mixed_model_equals_two_stage_t_test(balanced):
    """Balanced design: REML fixed slope = mean of per-lifter OLS slopes, SE = SD/sqrt(L)."""
    row = stats.fit_mixed_model(balanced, stats.PRIMARY_METRIC, lift="squat")
    per_lifter = np.array(
        [
            np.polyfit(g["pct_1rm"] / 10, g[stats.PRIMARY_METRIC], 1)[0]
            for _, g in balanced.groupby("lifter_id")
        ]
    )
    n = len(per_lifter)
    assert row["re_structure"] == "intercept+slope"
    assert row["converged"]
    assert row["slope_per_10pct"] == pytest.approx(per_lifter.mean(), abs=1e-6)
    assert row["se"] == pytest.approx(per_lifter.std(ddof=1) / np.sqrt(n), rel=2e-3)
    assert row["df"] == n - 1
    q = sps.t.ppf(0.975, n - 1)
    assert row["ci_low"] == pytest.approx(row["slope_per_10pct"] - q * row["se"])
    assert row["ci_high"] == pytest.approx(row["slope_per_10pct"] + q * row["se"])


def test_mixed_model_ci_covers_true_slope(study):
    reps, _ = study
    row = stats.fit_mixed_model(reps, stats.PRIMARY_METRIC, lift="squat")
    assert row["ci_low"] < TRUE_SLOPE < row["ci_high"]
    assert row["conclusion"] == "increases with load"
    assert row["n_lifters"] == 12
    assert row["n_reps"] == int((reps["used"] & (reps["lift"] == "squat")).sum())


def test_mixed_model_is_scale_equivariant(balanced):
    """Fitting on a standardised outcome must scale back exactly (velocities are tiny)."""
    scaled = balanced.assign(**{stats.PRIMARY_METRIC: balanced[stats.PRIMARY_METRIC] * 1e-3})
    a = stats.fit_mixed_model(balanced, stats.PRIMARY_METRIC, lift="squat")
    b = stats.fit_mixed_model(scaled, stats.PRIMARY_METRIC, lift="squat")
    assert b["slope_per_10pct"] == pytest.approx(a["slope_per_10pct"] * 1e-3, rel=1e-4)
    assert b["se"] == pytest.approx(a["se"] * 1e-3, rel=1e-3)
    assert b["intercept"] == pytest.approx(a["intercept"] * 1e-3, rel=1e-4)


def test_failed_random_slope_fit_falls_back_and_says_so(balanced, monkeypatch):
    from statsmodels.regression.mixed_linear_model import MixedLM
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    original = MixedLM.fit

    def flaky_fit(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        if self.k_re == 2:
            warnings.warn(
                "Gradient optimization failed, |grad| = 3.1", ConvergenceWarning, stacklevel=1
            )
        return result

    monkeypatch.setattr(MixedLM, "fit", flaky_fit)
    row = stats.fit_mixed_model(balanced, stats.PRIMARY_METRIC, lift="squat")
    assert row["re_structure"] == "intercept"
    assert "random intercept only" in row["fallback"]
    assert "Gradient optimization failed" in row["warnings"]
    assert row["converged"]


def test_each_optimiser_starts_afresh_no_absurd_se(balanced, monkeypatch):
    """When L-BFGS stops short, BFGS starts from statsmodels' default start.

    Given a list of methods, statsmodels starts each retry where the failed
    optimiser stopped; on a keypoints-mode power study that "converged" to a
    singular random-effects matrix with an SE of 1.5e7. Here L-BFGS is cut to
    one iteration, so it fails on any machine.
    """
    from statsmodels.regression.mixed_linear_model import MixedLM

    calls, fit = [], MixedLM.fit

    def one_step_lbfgs(self, *args, method=None, **kwargs):
        calls.append((method, kwargs.get("start_params"), args))
        if method == "lbfgs":
            kwargs["maxiter"] = 1
        return fit(self, *args, method=method, **kwargs)

    monkeypatch.setattr(MixedLM, "fit", one_step_lbfgs)
    row = stats.fit_mixed_model(balanced, stats.PRIMARY_METRIC, lift="squat")
    assert [method for method, _, _ in calls] == ["lbfgs", "bfgs"]
    assert all(start is None and not args for _, start, args in calls)
    per_lifter = [
        np.polyfit(g["pct_1rm"] / 10, g[stats.PRIMARY_METRIC], 1)[0]
        for _, g in balanced.groupby("lifter_id")
    ]
    assert row["converged"] and row["re_structure"] == "intercept+slope"
    assert row["se"] == pytest.approx(np.std(per_lifter, ddof=1) / np.sqrt(len(per_lifter)), rel=0.01)
    assert row["slope_per_10pct"] == pytest.approx(np.mean(per_lifter), abs=1e-4)
    assert row["ci_low"] < row["slope_per_10pct"] < row["ci_high"]
    assert "intercept+slope (lbfgs)" in row["warnings"]


def test_both_mixed_models_failing_fall_back_to_clustered_ols(balanced, monkeypatch):
    from statsmodels.regression.mixed_linear_model import MixedLM
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    original = MixedLM.fit

    def failing_fit(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        warnings.warn("MixedLM optimization failed", ConvergenceWarning, stacklevel=1)
        return result

    monkeypatch.setattr(MixedLM, "fit", failing_fit)
    row = stats.fit_mixed_model(balanced, stats.PRIMARY_METRIC, lift="squat")
    assert row["re_structure"] == "none (OLS, lifter-clustered SE)"
    assert "OLS with lifter-clustered SEs" in row["fallback"]
    assert row["converged"]
    # balanced design: the pooled OLS slope equals the mean of the per-lifter slopes
    per_lifter = [
        np.polyfit(g["pct_1rm"] / 10, g[stats.PRIMARY_METRIC], 1)[0]
        for _, g in balanced.groupby("lifter_id")
    ]
    assert row["slope_per_10pct"] == pytest.approx(np.mean(per_lifter))
    # every optimiser of both structures was tried, each named in the warnings
    assert row["warnings"].count("MixedLM optimization failed") == 5
    for attempt in ("intercept+slope (lbfgs)", "intercept+slope (powell)", "intercept (bfgs)"):
        assert attempt in row["warnings"]


@pytest.mark.parametrize(
    ("n_lifters", "loads", "reason"),
    [(2, (60.0, 80.0), "fewer than 3 lifters"), (4, (80.0,), "only one load")],
)
def test_not_estimable_rows_say_why(n_lifters, loads, reason):
    reps, _ = simulate_study_tables(
        StudyDesign(n_lifters=n_lifters, loads_pct_1rm=loads), seed=1, with_curves=False
    )
    row = stats.fit_mixed_model(stats.validate_reps(reps), lift="squat")
    assert row["conclusion"] == f"not estimable: {reason}"
    assert np.isnan(row["slope_per_10pct"])
    assert not row["converged"]


def test_gee_sticking_presence_rises_with_load(study):
    reps, _ = study
    row = stats.fit_gee_logistic(reps, "sticking_present", lift="all")
    assert row["model"] == "gee-binomial-exchangeable"
    assert row["ci_low"] > 0  # generator: +0.8 log odds per 10 %1RM (conditional)
    assert row["converged"]


def test_gee_falls_back_to_independence_and_says_so(study, monkeypatch):
    from statsmodels.genmod.cov_struct import Exchangeable
    from statsmodels.genmod.generalized_estimating_equations import GEE
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    original = GEE.fit

    def flaky_fit(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        if isinstance(self.cov_struct, Exchangeable):
            warnings.warn("Iteration limit reached", ConvergenceWarning, stacklevel=1)
        return result

    monkeypatch.setattr(GEE, "fit", flaky_fit)
    reps, _ = study
    row = stats.fit_gee_logistic(reps, "sticking_present", lift="squat")
    assert row["converged"]
    assert "independence" in row["formula"]
    assert "independence working correlation" in row["fallback"]
    assert "exchangeable: ConvergenceWarning: Iteration limit reached" in row["warnings"]


def test_gee_constant_outcome_is_not_estimable(study):
    reps, _ = study
    row = stats.fit_gee_logistic(reps.assign(sticking_present=True), lift="squat")
    assert row["conclusion"] == "not estimable: sticking_present is always true"


def test_fit_models_table(study):
    reps, _ = study
    models = stats.fit_models(reps, workers=1)
    assert models.iloc[0]["metric"] == stats.PRIMARY_METRIC
    assert set(models["lift"]) == {"squat", "deadlift", "all"}
    assert (models.loc[models["metric"] == "hip_shoot_index", "lift"] == "deadlift").all()
    assert models["converged"].dtype == bool
    # squat-only data: no "all" and no deadlift rows, never a crash
    squat = stats.fit_models(reps[reps["lift"] == "squat"], workers=1)
    assert set(squat["lift"]) == {"squat"}
    assert "hip_shoot_index" not in set(squat["metric"])


# --- per-lifter slopes, bootstrap, "always" -------------------------------------------


def test_lifter_slopes_match_linregress(study):
    reps, _ = study
    slopes = stats.lifter_slopes(reps, metrics=[stats.PRIMARY_METRIC])
    used = reps[reps["used"]]
    for (lifter, lift), g in list(used.groupby(["lifter_id", "lift"]))[:5]:
        fit = sps.linregress(g["pct_1rm"] / 10, g[stats.PRIMARY_METRIC])
        row = slopes[(slopes["lifter_id"] == lifter) & (slopes["lift"] == lift)].iloc[0]
        assert row["slope_per_10pct"] == pytest.approx(fit.slope)
        assert row["se"] == pytest.approx(fit.stderr)
        assert row["n_reps"] == len(g)


def test_lifter_slope_needs_two_loads():
    reps = pd.DataFrame(
        {
            "video_id": ["a", "a", "b", "b"],
            "rep": [1, 2, 1, 2],
            "lift": "squat",
            "lifter_id": ["L1", "L1", "L2", "L2"],
            "pct_1rm": [80.0, 80.0, 60.0, 90.0],
            stats.PRIMARY_METRIC: [1.0, 2.0, 0.0, 3.0],
        }
    )
    slopes = stats.lifter_slopes(stats.validate_reps(reps), metrics=[stats.PRIMARY_METRIC])
    by = slopes.set_index("lifter_id")
    assert np.isnan(by.loc["L1", "slope_per_10pct"])
    assert by.loc["L2", "slope_per_10pct"] == pytest.approx(1.0)  # 3 deg over 30 %1RM
    assert np.isnan(by.loc["L2", "ci_low"])  # two reps: no residual df


def test_pooled_share_interval_follows_lifters_not_reps():
    rng = np.random.default_rng(0)
    # lifter A: 1 heavy rep, hips led; lifter B: 99 heavy reps, never: 2 lifters, not 100 reps
    est, lo, hi = stats.clustered_share_interval(
        np.array([1.0, 0.0]), np.array([1.0, 99.0]), n_bootstrap=2000, rng=rng
    )
    assert est == pytest.approx(0.01)
    assert lo == pytest.approx(0.0, abs=1e-9) and hi > 0.5  # the CI spans what 2 lifters allow
    # 100 reps as 100 independent lifters: a narrow interval
    est, lo, hi = stats.clustered_share_interval(
        np.r_[np.ones(1), np.zeros(99)], np.ones(100), n_bootstrap=2000, rng=rng
    )
    assert hi < 0.1


def test_pooled_share_interval_degenerate_cases():
    rng = np.random.default_rng(0)
    est, lo, hi = stats.clustered_share_interval(np.ones(5), np.ones(5), rng=rng)
    assert est == 1.0 and hi == 1.0 and 0.1 < lo < 0.9  # every rep led: still an interval
    est, lo, hi = stats.clustered_share_interval(np.array([1.0]), np.array([2.0]), rng=rng)
    assert est == 0.5 and np.isnan(lo) and np.isnan(hi)
    assert all(np.isnan(stats.clustered_share_interval(np.zeros(0), np.zeros(0), rng=rng)))


def test_always_shares_by_hand():
    rows = []
    for lifter, heavy_values in (("A", [1, 2]), ("B", [3, 1]), ("C", [2, -1])):
        for k, (pct, value) in enumerate(
            [(60.0, -5.0), (70.0, -4.0), (90.0, heavy_values[0]), (95.0, heavy_values[1])]
        ):
            rows.append(
                {
                    "video_id": f"{lifter}{pct:g}",
                    "rep": k + 1,
                    "lift": "squat",
                    "lifter_id": lifter,
                    "pct_1rm": pct,
                    stats.PRIMARY_METRIC: float(value),
                }
            )
    reps = stats.validate_reps(pd.DataFrame(rows))
    out = stats.always_shares(reps, heavy_pct_1rm=85, n_bootstrap=500).set_index(
        ["quantity", "lift"]
    )
    assert out.loc[("share_heavy_reps_hip_lead", "squat"), "estimate"] == pytest.approx(5 / 6)
    assert out.loc[("share_lifters_always_hip_lead", "squat"), "estimate"] == pytest.approx(2 / 3)
    # C's one heavy rep below 0 (mean 0.5) keeps C in the tolerant share
    assert out.loc[("share_lifters_mean_hip_lead", "squat"), "estimate"] == pytest.approx(1.0)
    assert out.loc[("share_lifters_positive_slope", "squat"), "estimate"] == pytest.approx(1.0)
    assert out.loc[("share_heavy_reps_hip_lead", "squat"), "n_reps"] == 6
    assert ("share_heavy_reps_hip_lead", "deadlift") not in out.index
    # 3 lifters: the pooled share of reps has no bootstrap CI, and the row says why
    pooled = out.loc[out.index.get_level_values(0) == "share_heavy_reps_hip_lead"]
    assert pooled[["ci_low", "ci_high"]].isna().all().all()
    assert (
        pooled["ci_note"]
        .str.startswith("no CI: 3 lifter(s); a cluster bootstrap needs at least 5")
        .all()
    )
    # shares of lifters: a Wilson interval, wide for 3 lifters, never [1, 1]
    lifters = out.loc[out.index.get_level_values(0) != "share_heavy_reps_hip_lead"]
    assert (lifters["ci_method"] == "Wilson score, lifters").all() and (lifters["ci_note"] == "").all()
    always = out.loc[("share_lifters_positive_slope", "squat")]  # 3 of 3
    assert always["ci_low"] == pytest.approx(0.4385, abs=1e-3) and always["ci_high"] == 1.0


def test_always_shares_have_cis_from_five_lifters(study):
    reps, _ = study
    out = stats.always_shares(reps, heavy_pct_1rm=85, n_bootstrap=200)
    assert (out["n_lifters"] >= 5).all() and (out["ci_note"] == "").all()
    assert (out["ci_low"] <= out["estimate"]).all() and (out["estimate"] <= out["ci_high"]).all()


# --- SPM ------------------------------------------------------------------------


def test_spm_finds_the_load_effect_where_it_was_put(study):
    reps, curves = study
    nodes, clusters = stats.spm_slope_curves(curves, reps, alpha=0.05)
    squat = nodes[nodes["lift"] == "squat"]
    assert len(squat) == 101 and (squat["status"] == "ok").all()
    assert squat["n_lifters"].iloc[0] == 12
    # the generator puts the effect in the first 60% of the ascent, peaking at 30%
    assert squat.loc[squat["significant"], "pct"].between(1, 60).all()
    assert squat["significant"].any()
    peak = squat.loc[squat["mean_slope_per_10pct"].idxmax(), "pct"]
    assert 20 <= peak <= 40
    c = clusters[clusters["lift"] == "squat"]
    assert len(c) >= 1 and (c["p_value"] < 0.05).all() and (c["sign"] == "positive").all()


def test_spm_too_few_lifters():
    reps, curves = simulate_study_tables(
        StudyDesign(n_lifters=2, loads_pct_1rm=(70.0, 80.0, 90.0)), seed=3
    )
    nodes, clusters = stats.spm_slope_curves(curves, stats.validate_reps(reps))
    assert nodes["status"].iloc[0].startswith("too few lifters for SPM")
    assert nodes["t"].isna().all() and clusters.empty


def test_lifter_slope_curves_exact():
    """Curves y = a_i + b_i * pct/10 * shape: slope curve must be b_i * shape."""
    shape = np.sin(np.linspace(0, np.pi, 101))
    index = pd.DataFrame({"lifter_id": ["A"] * 3 + ["B"] * 3, "pct_1rm": [60.0, 80.0, 90.0] * 2})
    b = np.array([1.0] * 3 + [-2.0] * 3)
    values = 5 + (b * index["pct_1rm"].to_numpy() / 10)[:, None] * shape
    lifters, slopes = stats.lifter_slope_curves(index, values)
    assert list(lifters["lifter_id"]) == ["A", "B"]
    np.testing.assert_allclose(slopes, np.vstack([shape, -2 * shape]), atol=1e-12)


# --- input validation, outputs, CLI ----------------------------------------------------


def test_validate_reps_names_missing_columns():
    with pytest.raises(InputError, match=r"reps\.parquet: missing column\(s\) lifter_id, pct_1rm"):
        stats.validate_reps(
            pd.DataFrame({"video_id": ["v"], "rep": [1], "lift": ["squat"]}), source="reps.parquet"
        )


def test_validate_reps_names_bad_row():
    reps = pd.DataFrame(
        {
            "video_id": ["v1", "v2"],
            "rep": [1, 1],
            "lift": ["squat", "bench"],
            "lifter_id": ["L1", "L1"],
            "pct_1rm": [80.0, 90.0],
        }
    )
    with pytest.raises(InputError, match=r"row 1 \(video v2\): lift 'bench'"):
        stats.validate_reps(reps)


def test_used_excludes_flagged_incomplete_failed():
    reps = pd.DataFrame(
        {
            "video_id": ["v"] * 4,
            "rep": [1, 2, 3, 4],
            "lift": "squat",
            "lifter_id": "L1",
            "pct_1rm": [80.0, 80.0, 80.0, np.nan],
            "quality_ok": [True, False, True, True],
            "complete": [True, True, False, True],
            "failed": [False, False, False, False],
        }
    )
    assert stats.validate_reps(reps)["used"].tolist() == [True, False, False, False]


def test_read_reps_missing_file(tmp_path):
    with pytest.raises(InputError, match="reps table not found"):
        read_reps(tmp_path / "nope.parquet")


def test_qc_summary_counts_flags(study):
    reps, _ = study
    qc = stats.qc_summary(reps)
    assert qc["n_reps"].sum() == len(reps)
    assert qc["n_flag_gap"].sum() == int(reps["flag_gap"].sum())
    assert qc["n_used"].sum() == int(reps["used"].sum())
    mixed = reps.assign(bar_source="body:shoulder")
    lifter, lift = min(zip(reps["lifter_id"], reps["lift"], strict=True))
    mine = mixed.index[(mixed["lifter_id"] == lifter) & (mixed["lift"] == lift)]
    mixed.loc[mine[:3], "bar_source"] = "track:hub"
    first = stats.qc_summary(mixed).iloc[0]
    assert (first["lifter_id"], first["lift"]) == (lifter, lift)
    assert first["bar_sources"] == f"body:shoulder {len(mine) - 3}, track:hub 3"


def test_cli_fit_models_writes_the_agreed_files(tmp_path, study):
    reps, curves = study
    reps.drop(columns="used").to_parquet(tmp_path / "reps.parquet")
    curves.to_parquet(tmp_path / "curves.parquet")
    out = tmp_path / "stats"
    code = cli(
        [
            "fit-models",
            "--reps",
            str(tmp_path / "reps.parquet"),
            "--curves",
            str(tmp_path / "curves.parquet"),
            "--params",
            '{"heavy_pct_1rm": 85, "n_bootstrap": 200, "seed": 1, "alpha": 0.05, "workers": 1}',
            "--out-dir",
            str(out),
        ]
    )
    assert code == 0
    assert {p.name for p in out.iterdir()} == set(STATS_FILES)
    models = pd.read_csv(out / "models.csv")
    assert models.iloc[0]["metric"] == stats.PRIMARY_METRIC
    assert "\\begin{tabular}" in (out / "models.tex").read_text()
    spm = pd.read_csv(out / "spm.csv")
    assert len(spm) == 2 * 101
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["params"]["n_bootstrap"] == 200
    assert len(prov["inputs"]["reps"]["sha256"]) == 64
    assert "statsmodels" in prov["software"]
    always = pd.read_csv(out / "always.csv")
    assert (always["n_bootstrap"] == 200).all()


@pytest.mark.parametrize(
    ("params", "message"),
    [("{not json", "--params is not valid JSON"), ('{"n_boot": 5}', "unknown key\\(s\\) n_boot")],
)
def test_cli_fit_models_bad_params(tmp_path, capsys, params, message):
    code = cli(
        [
            "fit-models",
            "--reps",
            str(tmp_path / "r.parquet"),
            "--params",
            params,
            "--out-dir",
            str(tmp_path),
        ]
    )
    assert code == 2
    assert re.search(message, capsys.readouterr().err)


def test_run_stats_with_no_usable_reps(study, tmp_path):
    """Every rep flagged: empty tables and a QC summary that says why, never a crash."""
    reps, curves = study
    result = stats.run_stats(
        stats.validate_reps(reps.assign(quality_ok=False)), curves, n_bootstrap=10, workers=1
    )
    assert result.models.empty and result.always.empty and result.spm.empty
    assert result.qc["n_used"].sum() == 0
    assert result.qc["n_reps"].sum() == len(reps)
    stats.write_stats(result, tmp_path)
    assert pd.read_csv(tmp_path / "qc_summary.csv")["n_quality_ok"].sum() == 0
