# The manifest: read, checked (every bad row at once, before any job) and planned into
# shards. Included only when the workflow starts from videos (not with from_tables).
from hipdrive.contracts.manifest import manifest_problems, read_manifest, sort_by_row
from hipdrive.pose.shard import plan_shards

if "samples" not in config:
    raise WorkflowError("config: 'samples' (the manifest) is required unless from_tables is true")
DATA_ROOT = config.get("data_root", ".")
SAMPLES_SCHEMA = "../../config/schemas/samples.schema.yaml"
SIMULATED_ROOT = "results/demo"  # videos here are rendered by rule simulate_video

samples = read_manifest(config["samples"])
# Every bad row at once (schema + what a schema cannot see), before any job starts.
_problems = manifest_problems(
    samples, manifest=config["samples"], schema=workflow.source_path(SAMPLES_SCHEMA), data_root=DATA_ROOT,
    require_files=False,
)
# Simulated videos are made by the workflow; others must exist (or their cached keypoints),
# and so must the keypoint files of rows that import another tool's keypoints. A missing one
# fails the plan with on_bad_video: fail; with exclude its pose (or import) job writes an
# exclusion record (results/qc/excluded.tsv) and the other videos go on.
KEYPOINT_IDS = set(samples.loc[samples["keypoints"].notna(), "video_id"])
_missing = [
    f"{config['samples']}: row {i + 2} ({vid}): {what} '{p}' does not exist under {DATA_ROOT}"
    for i, (vid, p, kp) in enumerate(zip(samples["video_id"], samples["path"], samples["keypoints"]))
    for what, p in ((("keypoint file", kp),) if vid in KEYPOINT_IDS else (("video", p),))
    if not pd.isna(p) and not str(p).startswith(os.path.join(SIMULATED_ROOT, ""))
    and not os.path.exists(os.path.join(DATA_ROOT, p))
    and not os.path.isfile(f"results/keypoints/{vid}.parquet")  # cached keypoints are enough
]
if config["on_bad_video"] == "exclude":
    for _line in _missing:
        print(f"warning: {_line}: excluded (on_bad_video: exclude)", file=sys.stderr)
else:
    _problems += _missing
if _problems:
    _problems = sort_by_row(_problems)
    raise WorkflowError("the manifest has problems:\n  " + "\n  ".join(_problems))

VIDEO_IDS = list(samples["video_id"])
SAMPLES = {row["video_id"]: row for row in samples.to_dict("records")}  # O(1) look-ups: 10k-video plans
# shard_size > 1: pose and analysis run one job per shard of videos (cluster runs; pose.smk).
# With per-lift pose options (pose.<backend>.by_lift) each shard holds one lift.
_BY_LIFT = bool(config["pose"].get(config["pose"]["backend"], {}).get("by_lift"))
_LIFT_GROUPS = samples.groupby("lift", sort=True)["video_id"] if _BY_LIFT else [(None, samples["video_id"])]
SHARDS, SHARD_LIFTS = {}, {}
for _lift, _ids in _LIFT_GROUPS if config["shard_size"] > 1 else []:
    for _name, _members in plan_shards(list(_ids), config["shard_size"]).items():
        _name = f"{_lift}_{_name}" if _lift else _name
        SHARDS[_name], SHARD_LIFTS[_name] = _members, _lift
SHARD_RESOURCES = config["shard_resources"]
