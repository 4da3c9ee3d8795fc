"""Physical plausibility checks: each bound fires on its own lift, NaN is no evidence,
and a failed check reaches quality_ok and excluded.tsv with its reason."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hipdrive.analysis.plausibility import BOUNDS, check_plausibility, implausible_reasons
from hipdrive.contracts.exclusions import excluded_table

SQUAT = {"lift": "squat", "trunk_angle_lockout_deg": 5.0, "trunk_angle_bottom_deg": 40.0,
         "mean_concentric_velocity_m_s": 0.5, "mean_concentric_velocity_bh_s": 0.28,
         "shin_angle_liftoff_deg": np.nan, "trunk_angle_liftoff_deg": np.nan}  # fmt: skip
DEADLIFT = {**SQUAT, "lift": "deadlift", "trunk_angle_bottom_deg": 60.0,
            "shin_angle_liftoff_deg": 12.0, "trunk_angle_liftoff_deg": 55.0}  # fmt: skip


def test_typical_reps_pass():
    assert implausible_reasons(SQUAT) == [] and implausible_reasons(DEADLIFT) == []


@pytest.mark.parametrize("bound", BOUNDS, ids=lambda b: b.column)
@pytest.mark.parametrize("side", ["low", "high"])
def test_each_bound_fires_on_its_lifts_only(bound, side):
    value = bound.low - 1.0 if side == "low" else bound.high + 1.0
    for row in (SQUAT, DEADLIFT):
        reasons = implausible_reasons({**row, bound.column: value})
        if row["lift"] in bound.lifts:
            assert len(reasons) == 1 and reasons[0].startswith(bound.label), reasons
        else:
            assert reasons == []


def test_missing_values_are_no_evidence():
    row = {**DEADLIFT, **{b.column: np.nan for b in BOUNDS}}
    assert implausible_reasons(row) == []


def test_a_failed_check_leaves_the_models_with_its_reason():
    reps = pd.DataFrame([{**SQUAT, "video_id": "v", "rep": 1, "quality_ok": True},
                         {**SQUAT, "video_id": "v", "rep": 2, "quality_ok": True,
                          "trunk_angle_lockout_deg": -88.0}])  # fmt: skip
    check_plausibility(reps)
    assert reps["flag_implausible"].tolist() == [False, True]
    assert reps["quality_ok"].tolist() == [True, False]
    table = excluded_table(reps.assign(pct_1rm=80.0), {})
    assert table["rep"].tolist() == [2]
    assert table["reason"].iloc[0].startswith("implausible: trunk at lockout -88 outside -45..45")


def test_a_failed_rep_says_what_was_judged_per_lift():
    reps = pd.DataFrame({"video_id": ["s", "d"], "rep": [1, 1], "lift": ["squat", "deadlift"],
                         "failed": [True, True], "complete": [False, False], "pct_1rm": 90.0})  # fmt: skip
    reasons = excluded_table(reps, {})["reason"].tolist()
    assert reasons[0].startswith("failed: the bar never came back to the top")
    assert reasons[1].startswith("failed: never upright at the top")
