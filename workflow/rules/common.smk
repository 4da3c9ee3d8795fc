# Config validation, the figure list (from hipdrive.figures) and input functions (the manifest: samples.smk). No science here.
import json
import os

from snakemake.utils import validate

import pandas as pd

from hipdrive.figures import FIGURE_NAMES, FIGURES  # the one list: name -> title, drawing, inputs


if str(config.get("from_tables")).lower() in ("true", "false"):  # `--config from_tables=true` is a string
    config["from_tables"] = str(config["from_tables"]).lower() == "true"
validate(config, schema="../../config/schemas/config.schema.yaml")


wildcard_constraints:
    # The schema's id pattern; ids missing from the sheet fail in the input functions with a
    # clear KeyError. (An alternation of all ids costs O(n) per match: minutes for 10k videos.)
    video_id="[A-Za-z0-9][A-Za-z0-9_.-]*",


def get_final_output():
    outputs = ["results/stats/models.csv", *expand("results/figures/{name}.png", name=FIGURE_NAMES)]
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
    return get_video_of(wildcards.video_id)


def get_video_of(video_id):
    return os.path.normpath(os.path.join(DATA_ROOT, SAMPLES[video_id]["path"]))


def get_sample_json(wildcards):
    """The manifest row as JSON: a param, so editing one row re-runs only that video."""
    return get_sample_json_of(wildcards.video_id)


def get_sample_json_of(video_id):
    return json.dumps({k: (None if pd.isna(v) else v) for k, v in SAMPLES[video_id].items()}, sort_keys=True)


def get_pose_inputs(wildcards):
    return get_pose_inputs_of(wildcards.video_id)


def get_pose_inputs_of(video_id):
    inputs = {"video": get_video_of(video_id)}
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
    """The chosen backend's options as JSON, with its `by_lift` overrides for this lift."""
    options = dict(config["pose"].get(config["pose"]["backend"], {}))
    options.update(options.pop("by_lift", {}).get(lift, {}))
    if config["pose"]["backend"] == "synthetic":
        options.setdefault("truth_dir", f"{SIMULATED_ROOT}/truth")
    else:  # a frame-based backend: the bar tracker runs on the same video
        options["track_bar"] = bool(config["pose"].get("track_bar", True))
    return json.dumps(options, sort_keys=True)


def get_stats_params(wildcards, threads):
    return json.dumps({**config["stats"], "workers": threads}, sort_keys=True)


def as_json(value):
    return json.dumps(value, sort_keys=True)
