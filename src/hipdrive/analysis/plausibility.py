"""Physical plausibility of each rep's numbers: a value no lifter can produce is flagged.

Why: a video whose rotation tag disagrees with its pixels, a hidden ankle or a
body proxy that left the bar gives numbers that look like data. Each check
below is a physical bound, far outside what the lifts produce (the ranges and
their references: docs/definitions.md, "Plausibility"), so a rep that fails
one is a measurement failure, not an unusual lifter. A failed check sets
``flag_implausible``, names itself in ``implausible_reason`` (and so in
``results/qc/excluded.tsv``) and keeps the rep out of the models.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hipdrive.contracts.reps import MAX_SIDE_VIEW_YAW_DEG


@dataclass(frozen=True)
class Bound:
    """A range a rep's value must lie in, and what failing it means."""

    column: str
    lifts: tuple[str, ...]
    low: float
    high: float
    label: str
    meaning: str


#: The checks, in the order their reasons are listed (docs/definitions.md, "Plausibility").
BOUNDS = (
    Bound("camera_yaw_deg", ("squat", "deadlift"), -MAX_SIDE_VIEW_YAW_DEG, MAX_SIDE_VIEW_YAW_DEG,
          "camera turn from the side view (deg)",
          "2-D joint angles are off by more than 5 deg unless the camera films the lifter's side"),
    Bound("trunk_angle_lockout_deg", ("squat", "deadlift"), -45.0, 45.0, "trunk at lockout",
          "a lifter stands upright at lockout: the video's orientation or the body points look wrong"),
    Bound("trunk_angle_bottom_deg", ("squat",), -10.0, 80.0, "trunk at the bottom",
          "a squatting trunk leans forward, short of horizontal"),
    Bound("trunk_angle_liftoff_deg", ("deadlift",), 0.0, 90.0, "trunk at lift-off",
          "a pulling trunk leans forward, short of horizontal"),
    Bound("shin_angle_liftoff_deg", ("deadlift",), -10.0, 40.0, "shin at lift-off",
          "the shins are near vertical when the bar leaves the floor: the ankle or knee is misplaced"),
    Bound("mean_concentric_velocity_m_s", ("squat", "deadlift"), 0.05, 2.0,
          "mean concentric velocity (m/s)",
          "loaded squats and pulls rise at 0.1-1.5 m/s: the bar proxy does not follow the bar"),
    Bound("mean_concentric_velocity_bh_s", ("squat", "deadlift"), 0.03, 1.2,
          "mean concentric velocity (body heights/s)",
          "loaded squats and pulls rise at 0.06-0.85 body heights/s: the bar proxy does not follow the bar"),
    Bound("body_size_ratio", ("squat", "deadlift"), 0.8, 1.25, "the lifter's size against the clip's",
          "seen from the side, shin, thigh and trunk keep their lengths: the camera zoomed or moved, "
          "or another person was tracked"),
    Bound("hands_up_at_bar_floor", ("deadlift",), 0.0, 0.25, "the hands' height at the bar's lift-off or landing",
          "the hands hold the bar, so they are near their lowest when it is on the floor: the bar "
          "track lifts off late or lands early"),
    Bound("shoulder_bar_travel_ratio", ("squat", "deadlift"), 0.5, 2.0, "shoulders' travel / bar's travel",
          "the bar rests on the shoulders or hangs from straight arms, so both move alike: the bar "
          "proxy left the bar, or a standing lifter's bar was read at the floor"),
)  # fmt: skip


def implausible_reasons(row: pd.Series | dict) -> list[str]:
    """The checks one rep fails, each as a sentence with its value and range.

    A missing value (NaN: a joint never seen, a column another lift does not
    have) fails nothing: it is already out of every model that uses it.
    """
    out = []
    for b in BOUNDS:
        if row.get("lift") not in b.lifts:
            continue
        value = row.get(b.column)
        if value is None or not np.isfinite(value):
            continue
        if not b.low <= value <= b.high:
            out.append(f"{b.label} {value:.3g} outside {b.low:.3g}..{b.high:.3g} ({b.meaning})")
    return out


def check_plausibility(reps: pd.DataFrame) -> pd.DataFrame:
    """``reps`` with ``flag_implausible`` and ``implausible_reason`` filled in and
    ``quality_ok`` cleared where a check fails (in place; returned for chaining)."""
    if not len(reps):
        return reps
    reasons = [implausible_reasons(row) for _, row in reps.iterrows()]
    bad = np.array([bool(r) for r in reasons])
    reps["flag_implausible"] = bad
    reps["implausible_reason"] = np.array(["; ".join(r) for r in reasons], dtype=object)
    reps["quality_ok"] = reps["quality_ok"].to_numpy() & ~bad
    return reps
