"""Defaults of the statistics stage's parameters, which the figures share.

They equal the defaults of ``config/schemas/config.schema.yaml`` (a test
checks), which is what the workflow passes to every rule that reads them, so
a library call, a bare CLI call and the workflow agree, and the figures draw
the heavy threshold the statistics used.
"""

from __future__ import annotations

from types import MappingProxyType

#: Reps at or above this %1RM count as heavy (the "always" shares, the sticking figure).
HEAVY_PCT_1RM = 85.0
#: Cluster-bootstrap resamples (lifters are resampled).
N_BOOTSTRAP = 2000
#: Significance level of CIs, tests and SPM.
ALPHA = 0.05
#: Seed of the bootstrap.
SEED = 1
#: Fewer lifters than this: a model is reported as not estimable, not fitted.
MIN_LIFTERS = 3
#: Fewer lifters than this skips the SPM of trunk-angle curves.
MIN_LIFTERS_SPM = 5
#: Fewer lifters than this: an "always" share is given without a bootstrap CI. With n
#: lifters a cluster bootstrap has at most C(2n-1, n) distinct resamples (3 for 2, 10 for 3),
#: too few for a percentile interval: 2 lifters who both always led give [1.0, 1.0].
MIN_LIFTERS_BOOTSTRAP = 5

#: The config's ``stats`` section with every default (keys as in the schema).
STATS_DEFAULTS = MappingProxyType(
    {
        "heavy_pct_1rm": HEAVY_PCT_1RM,
        "n_bootstrap": N_BOOTSTRAP,
        "alpha": ALPHA,
        "seed": SEED,
        "min_lifters": MIN_LIFTERS,
        "min_lifters_spm": MIN_LIFTERS_SPM,
    }
)
