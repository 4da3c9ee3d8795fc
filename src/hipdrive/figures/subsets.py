"""Which reps a figure draws, and the counts its caption states."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hipdrive.contracts.reps import LIFTS


def _counts(d: pd.DataFrame) -> dict:
    by_lift = {
        lift: {
            "n_lifters": int(d.loc[d["lift"] == lift, "lifter_id"].nunique()),
            "n_reps": int((d["lift"] == lift).sum()),
        }
        for lift in LIFTS
        if (d["lift"] == lift).any()
    }
    return {"n_lifters": int(d["lifter_id"].nunique()), "n_reps": len(d), "by_lift": by_lift}


def _used(reps: pd.DataFrame, column: str) -> pd.DataFrame:
    if column not in reps.columns:
        return reps.iloc[0:0]
    v = pd.to_numeric(reps[column], errors="coerce").astype(float)
    keep = reps["used"] & np.isfinite(v)
    # v[keep], not v: a column from a longer Series turns an empty frame into NaN rows
    return reps[keep].assign(value=v[keep])
