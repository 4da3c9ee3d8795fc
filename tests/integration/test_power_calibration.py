"""The power simulation's calibration over 500 studies (slow: minutes)."""

from __future__ import annotations

import pytest

from hipdrive.stats import power


@pytest.mark.slow
def test_calibration_fast_mode_500_studies():
    """Targets of the issue: false-positive rate 5 +/- 2 %, CI coverage >= 93 %."""
    studies = power.run_power(
        power.StudyDesign(), n_studies=500, lifters=(10,), effect_slopes=(0.0, 1.5), seed=2026
    )
    s = power.summarise_power(studies).set_index("effect_slope")
    assert 0.03 <= s.loc[0.0, "rejection_rate"] <= 0.07
    assert s.loc[0.0, "coverage"] >= 0.93
    assert s.loc[1.5, "coverage"] >= 0.93
