# hipdrive: hip drive vs relative load from barbell squat and deadlift videos.
# Wiring only; every step is a `python -m hipdrive` sub-command (src/hipdrive), see CONTRIBUTING.md.
import os

from snakemake.utils import min_version

min_version("9.0")


configfile: os.path.join(workflow.basedir, "config", "config.yaml")  # from any working directory


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"


if not config["from_tables"]:  # from videos: the manifest and every per-video stage

    include: "workflow/rules/samples.smk"
    include: "workflow/rules/simulate.smk"
    include: "workflow/rules/pose.smk"
    include: "workflow/rules/analyze.smk"
    include: "workflow/rules/qc.smk"


include: "workflow/rules/stats.smk"
include: "workflow/rules/figures.smk"


rule all:
    input:
        get_final_output(),
