"""Tests of hipdrive.stats.power: the generative model, the simulation runner and its summary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hipdrive import stats
from hipdrive.cli import main as cli
from hipdrive.contracts.reps import REQUIRED_REP_COLUMNS
from hipdrive.errors import InputError
from hipdrive.stats import power


def test_simulated_tables_have_the_agreed_shape():
    design = power.StudyDesign(n_lifters=3, reps_per_load=2, lifts=("squat", "deadlift"))
    reps, curves = power.simulate_study_tables(design, seed=0)
    assert len(reps) == 3 * 4 * 2 * 2
    for col in (*REQUIRED_REP_COLUMNS, "quality_ok", "sticking_present", "hip_shoot_index"):
        assert col in reps.columns
    assert reps["rep"].dtype == np.int16
    assert reps["pct_1rm"].tolist()[:2] == [60.0, 60.0]
    assert reps.loc[reps["lift"] == "squat", "hip_shoot_index"].isna().all()
    assert reps.loc[reps["lift"] == "deadlift", "hip_shoot_index"].notna().all()
    # the sticking position exists exactly when a sticking region does
    assert (reps["sticking_present"] == reps["sticking_pct_ascent"].notna()).all()
    # 101 nodes per phase per variable per rep
    assert len(curves) == len(reps) * 2 * len(power.SIMULATED_CURVE_VARIABLES) * 101
    assert set(curves["pct"]) == set(range(101))
    assert {"lifter_id", "lift", "variant", "pct_1rm"} <= set(curves.columns)


def test_simulated_trunk_curve_carries_the_primary_index():
    """theta(30 %) - theta(0 %) of the ascent equals the primary index up to curve noise."""
    reps, curves = power.simulate_study_tables(power.StudyDesign(n_lifters=4), seed=1)
    c = curves[(curves["variable"] == "trunk_angle_deg") & (curves["phase"] == "ascent")]
    wide = c.pivot_table(index=["video_id", "rep"], columns="pct", values="value")
    diff = (wide[30] - wide[0]).reset_index(name="diff")
    merged = diff.merge(reps, on=["video_id", "rep"])
    err = merged["diff"] - merged[stats.PRIMARY_METRIC]
    # smooth noise of SD 0.5 deg, zero at t = 0
    assert abs(err.mean()) < 0.2
    assert err.std() < 0.8


def test_simulated_slope_is_recovered_on_average():
    design = power.StudyDesign(n_lifters=200, effect_slope_deg_per_10pct=1.5, p_flagged=0.0)
    reps, _ = power.simulate_study_tables(design, seed=2, with_curves=False)
    x = (reps["pct_1rm"] - 75) / 10
    slope = np.polyfit(x, reps[stats.PRIMARY_METRIC], 1)[0]
    # SE of the pooled slope ~ slope_sd / sqrt(200) = 0.07
    assert slope == pytest.approx(1.5, abs=0.25)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_lifters": 0}, "n_lifters must be >= 1"),
        ({"reps_per_load": 0}, "reps_per_load must be >= 1"),
        ({"lifts": ("bench",)}, "lifts must be squat and/or deadlift"),
        ({"residual_sd_deg": -1.0}, "residual_sd_deg must be >= 0"),
        ({"p_flagged": 1.0}, "p_flagged must be in"),
    ],
)
def test_bad_designs(kwargs, message):
    with pytest.raises(InputError, match=message):
        power.simulate_study_tables(power.StudyDesign(**kwargs))


def test_run_power_is_reproducible_across_workers():
    kwargs = dict(n_studies=4, lifters=(6,), effect_slopes=(0.0, 1.0), seed=7, chunk_size=3)
    a = power.run_power(power.StudyDesign(), workers=1, **kwargs)
    b = power.run_power(power.StudyDesign(), workers=2, **kwargs)
    assert len(a) == 8
    pd.testing.assert_frame_equal(a, b)
    assert set(a["effect_slope"]) == {0.0, 1.0}
    assert a["converged"].all()


def test_run_power_rejects_bad_mode():
    with pytest.raises(InputError, match="mode must be 'fast' or 'keypoints'"):
        power.run_power(power.StudyDesign(), n_studies=1, mode="video")


def test_summarise_power_by_hand():
    studies = pd.DataFrame(
        {
            "mode": "fast",
            "n_lifters": 10,
            "reps_per_load": 3,
            "effect_slope": [0.0] * 4 + [1.0] * 4,
            "study": list(range(4)) * 2,
            "estimate": [0.1, -0.1, 0.2, 0.0, 1.0, 1.2, 0.8, 1.4],
            "ci_low": [-1, -1, 0.1, -1, 0.5, 0.4, -0.1, 1.1],
            "ci_high": [1, 1, 0.5, 1, 1.5, 2.0, 1.7, 1.9],
            "p_value": [0.5, 0.6, 0.01, 0.9, 0.001, 0.01, 0.07, 0.0001],
            "converged": [True] * 8,
            "re_structure": ["intercept+slope"] * 7 + ["intercept"],
            "rejected": [False, False, True, False, True, True, False, True],
            "covered": [True, True, False, True, True, True, True, False],
        }
    )
    s = power.summarise_power(studies).set_index("effect_slope")
    assert s.loc[0.0, "quantity"] == "false_positive_rate"
    assert s.loc[0.0, "rejection_rate"] == 0.25
    assert s.loc[0.0, "coverage"] == 0.75
    assert s.loc[1.0, "quantity"] == "power"
    assert s.loc[1.0, "rejection_rate"] == 0.75
    assert s.loc[1.0, "bias"] == pytest.approx(0.1)
    assert s.loc[1.0, "mean_ci_width"] == pytest.approx((1 + 1.6 + 1.8 + 0.8) / 4)
    assert s.loc[1.0, "share_fallback"] == 0.25
    assert s.loc[0.0, "rejection_ci_low"] < 0.25 < s.loc[0.0, "rejection_ci_high"]


def test_cli_power_fast(tmp_path, capsys):
    out = tmp_path / "power.csv"
    code = cli(
        [
            "power",
            "--studies",
            "3",
            "--lifters",
            "5",
            "--reps",
            "2",
            "--effect-slope",
            "0,2",
            "--workers",
            "1",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    summary = pd.read_csv(out)
    assert list(summary["effect_slope"]) == [0.0, 2.0]
    assert (summary["n_studies"] == 3).all()
    studies = pd.read_csv(tmp_path / "power_studies.csv")
    assert len(studies) == 6
    assert "power (fast): 6/6 studies" in capsys.readouterr().err


def test_cli_power_bad_list(tmp_path, capsys):
    code = cli(["power", "--lifters", "ten", "--out", str(tmp_path / "p.csv")])
    assert code == 2
    assert "--lifters: expected comma-separated numbers" in capsys.readouterr().err


def test_keypoints_mode_runs_the_real_analysis():
    """Simulator keypoints -> hipdrive.analysis -> mixed model, for one small study."""
    design = power.StudyDesign(n_lifters=3, reps_per_load=2, effect_slope_deg_per_10pct=1.5)
    row = power.run_one_study(design, seed=1, mode="keypoints")
    assert row["n_reps_used"] > 0.8 * 3 * 4 * 2  # analysis finds (nearly) every rep
    assert row["converged"]
    assert np.isfinite(row["estimate"]) and row["ci_low"] < row["ci_high"]


def test_keypoints_mode_can_add_pose_model_error():
    """The same study with and without keypoint noise: the analysis sees the noise, the rows record it."""
    base = power.StudyDesign(reps_per_load=2)
    kw = dict(n_studies=1, lifters=[3], reps_per_load=[2], effect_slopes=[1.5], mode="keypoints", workers=1)
    clean = power.run_power(base, **kw)
    noisy = power.run_power(base, **kw, keypoint_noise={"noise_px": 3.0, "noise_corr_s": 0.1})
    assert noisy["noise_px"].tolist() == [3.0] and "noise_px" not in clean
    assert noisy["estimate"].iloc[0] != clean["estimate"].iloc[0]
    with pytest.raises(InputError, match="--mode keypoints only"):
        power.run_power(base, **{**kw, "mode": "fast"}, keypoint_noise={"noise_px": 1.0})
