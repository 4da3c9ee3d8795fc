"""hipdrive: pose estimation on barbell lifts -> back-angle trajectories, sticking
points and hip drive per repetition -> statistics on how hip drive changes with load.

The package is the library every Snakemake rule calls; see README.md for its use,
CONTRIBUTING.md for where each stage lives and docs/definitions.md for the definitions.
"""

__version__ = "0.1.0"
