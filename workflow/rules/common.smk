# Config validation, the figure list (from hipdrive.figures) and input functions (the manifest: samples.smk). No science here.
import json
import os
import re
import shlex
import sys

from snakemake.utils import validate

import pandas as pd
import yaml

from hipdrive.figures import FIGURE_NAMES, FIGURES  # the one list: name -> title, drawing, inputs


if str(config.get("from_tables")).lower() in ("true", "false"):  # `--config from_tables=true` is a string
    config["from_tables"] = str(config["from_tables"]).lower() == "true"
# Every key checked before any job (backend options and analysis too), one line per problem.
from hipdrive.workflow import config_problems, pose_options

with open(workflow.source_path("../../config/schemas/config.schema.yaml"), encoding="utf-8") as _fh:
    _problems = config_problems(config, yaml.safe_load(_fh))
if _problems:
    raise WorkflowError("the config has problems:\n  " + "\n  ".join(_problems))
validate(config, schema="../../config/schemas/config.schema.yaml")  # fills in the defaults

# Every step runs the package with the interpreter that runs this workflow, never a
# `hipdrive` looked up on PATH (a venv need not be activated). With --sdm conda each
# rule's environment provides it; pose.python names another interpreter for pose jobs.
_IN_CONDA = "conda" in str(workflow.deployment_settings.deployment_method).lower()
HIPDRIVE = "python -m hipdrive" if _IN_CONDA else f"{shlex.quote(sys.executable)} -m hipdrive"
POSE_HIPDRIVE = (
    f"{shlex.quote(os.path.abspath(config['pose']['python']))} -m hipdrive"
    if config["pose"].get("python") and not _IN_CONDA
    else HIPDRIVE
)


wildcard_constraints:
    # The schema's id pattern; ids missing from the sheet fail in the input functions with a
    # clear KeyError. (An alternation of all ids costs O(n) per match: minutes for 10k videos.)
    video_id="[A-Za-z0-9][A-Za-z0-9_.-]*",


def get_final_output():
    outputs = [
        "results/stats/models.csv",
        "results/report/answer.html",  # the report's first page
        "results/report/answer_summary.html",  # and its findings, on the report's landing page
        *expand("results/figures/{name}.png", name=FIGURE_NAMES),
    ]
    if config["from_tables"]:  # the tables are the inputs: nothing per video
        return outputs
    return [
        "results/tables/reps.parquet",
        "results/qc/excluded.tsv",  # every excluded video and rep, with the reason
        *outputs,
        *qc_media_targets(),  # workflow/rules/qc.smk: contact sheets + plots, small runs only
    ]


def qc_media_targets():
    """QC files of every video when QC media are on for this run (else none)."""
    from hipdrive.qc_media import qc_media_enabled

    qc = config.get("qc", {})
    if not qc_media_enabled(qc.get("media", "auto"), len(VIDEO_IDS)):
        return []
    return expand("results/qc/{video_id}.{kind}.png", video_id=VIDEO_IDS, kind=("sheet", "plot"))


def get_video(wildcards):
    """The video as a job input; none when it is missing (its pose job then excludes it)."""
    path = get_video_of(wildcards.video_id)
    return path if path and (os.path.isfile(path) or path.startswith(SIMULATED_ROOT)) else []


def get_video_path(wildcards):
    return get_video_of(wildcards.video_id)


def get_video_option(wildcards):
    """``--video PATH``, or nothing for a row with keypoints but no video."""
    path = get_video_of(wildcards.video_id)
    return f"--video {shlex.quote(path)}" if path else ""


def get_video_of(video_id):
    """The row's video file ("" when the row has keypoints but no video)."""
    path = SAMPLES[video_id]["path"]
    if pd.isna(path):
        return ""
    if str(path).startswith(os.path.join(SIMULATED_ROOT, "")):  # made here by rule simulate_video
        return path
    return os.path.normpath(os.path.join(DATA_ROOT, path))


def get_keypoints_of(video_id):
    """The row's keypoint file or folder (another tool's), inside the data root."""
    return os.path.normpath(os.path.join(DATA_ROOT, SAMPLES[video_id]["keypoints"]))


def get_import_source(wildcards):
    """The row's keypoint file or folder, as a job input when it exists."""
    path = get_keypoints_of(wildcards.video_id)
    return {"source": path} if os.path.exists(path) else {}


def get_import_options(wildcards):
    """The import's source, format and timing: the row's video, else its fps."""
    row = SAMPLES[wildcards.video_id]
    timing = get_video_option(wildcards) or f"--fps {row['fps']}"
    return f"{shlex.quote(get_keypoints_of(wildcards.video_id))} --format {row['keypoints_format']} {timing}"


def get_sample_json(wildcards):
    """The manifest row as JSON: a param, so editing one row re-runs only that video."""
    return get_sample_json_of(wildcards.video_id)


def get_sample_json_of(video_id):
    return json.dumps({k: (None if pd.isna(v) else v) for k, v in SAMPLES[video_id].items()}, sort_keys=True)


def get_pose_inputs(wildcards):
    return get_pose_inputs_of(wildcards.video_id)


def get_pose_inputs_of(video_id):
    path = get_video_of(video_id)
    inputs = {"video": path if path and (os.path.isfile(path) or path.startswith(SIMULATED_ROOT)) else []}
    if config["pose"]["backend"] == "synthetic":
        inputs["truth"] = f"{SIMULATED_ROOT}/truth/{video_id}.keypoints.parquet"
    return inputs


def pose_shard_jobs(video_ids):
    """The --jobs JSON of one pose shard (hipdrive estimate-poses-shard)."""
    return json.dumps([
        {"video": get_video_of(v), "video_id": v, "out": f"results/keypoints/{v}.parquet"} for v in video_ids
    ])


def analyze_shard_jobs(video_ids):
    """The --jobs JSON of one analysis shard (hipdrive analyze-shard)."""
    return json.dumps([
        {"video_id": v, "keypoints": f"results/keypoints/{v}.parquet", "reps_out": f"results/reps/{v}.parquet",
         "curves_out": f"results/curves/{v}.parquet"}
        for v in video_ids
    ])


def get_pose_options(wildcards):
    return pose_options_for(SAMPLES[wildcards.video_id]["lift"])


def pose_options_for(lift):
    """The chosen backend's options for this lift as JSON (hipdrive.workflow.pose_options)."""
    return json.dumps(pose_options(config["pose"], lift, truth_dir=f"{SIMULATED_ROOT}/truth"), sort_keys=True)


def get_stats_params(wildcards, threads):
    return json.dumps({**config["stats"], "workers": threads}, sort_keys=True)


def as_json(value):
    return json.dumps(value, sort_keys=True)


def simulated_truth_option():
    """--simulated-slope for the answer page when every video is rendered by the simulator."""
    if config["from_tables"] or not all(str(p).startswith(os.path.join(SIMULATED_ROOT, "")) for p in samples["path"]):
        return ""
    return f"--simulated-slope {config['simulate']['effect_slope_deg_per_10pct']}"
