"""What the Snakemake workflow decides before any job: config checks and option merging.

Kept out of the ``.smk`` files so that it is tested like any other code. The
checks run when the workflow is planned, so a typo anywhere in the config,
backend options and analysis parameters included, stops the run before any
job starts, with one line per problem and the nearest valid key.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Mapping
from typing import Any

__all__ = ["config_problems", "pose_options"]


def _unknown(key: str, valid: list[str], where: str) -> str:
    near = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    hint = f"; did you mean '{where}{near[0]}'?" if near else f"; valid: {', '.join(sorted(valid))}"
    return f"unknown key '{where}{key}'{hint}"


def _schema_problems(config: Mapping, schema: Mapping) -> list[str]:
    """JSON-schema violations as one line each, unknown keys with the nearest valid one."""
    import jsonschema

    problems = []
    for err in sorted(jsonschema.Draft202012Validator(schema).iter_errors(config), key=str):
        where = ".".join(str(p) for p in err.absolute_path)
        if err.validator == "additionalProperties":
            valid = list(err.schema.get("properties", {}))
            extra = sorted(set(err.instance) - set(valid))
            problems += [_unknown(k, valid, f"{where}." if where else "") for k in extra]
        elif err.validator == "enum":
            problems.append(f"'{where}': {err.instance!r} must be one of {err.validator_value}")
        else:
            problems.append(f"'{where or 'config'}': {err.message}")
    return problems


def _keyword_options(target: Any, exclude: tuple[str, ...] = ()) -> list[str]:
    params = inspect.signature(target).parameters
    return [
        p
        for p, v in params.items()
        if v.kind is inspect.Parameter.KEYWORD_ONLY and p not in exclude
    ]


def _backend_options(backend: str) -> list[str]:
    """Every option ``pose.<backend>`` accepts (the backend's and the pose driver's)."""
    from hipdrive.pose.driver import DRIVER_OPTIONS

    if backend == "mediapipe":
        from hipdrive.pose.mediapipe_backend import MediaPipeBackend as target
    elif backend == "mmpose":
        from hipdrive.pose.mmpose_backend import MMPoseBackend as target
    else:
        from hipdrive.pose.synthetic import synthetic_poses as target
    return _keyword_options(target, exclude=("video_id",)) + list(DRIVER_OPTIONS)


def config_problems(config: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    """Every problem of a workflow config, one line each (empty: the config is fine).

    Beyond the schema: each backend's options (``pose.<backend>``, its
    ``by_lift`` entries too) against what that backend takes, and
    ``analysis`` against :class:`hipdrive.analysis.AnalysisParams`.
    """
    from hipdrive.analysis.params import AnalysisParams

    problems = _schema_problems(config, schema)
    pose = config.get("pose", {}) if isinstance(config.get("pose"), Mapping) else {}
    for backend in ("mediapipe", "mmpose", "synthetic"):
        options = pose.get(backend)
        if not isinstance(options, Mapping):
            continue
        valid = _backend_options(backend)
        where = f"pose.{backend}."
        by_lift = options.get("by_lift", {})
        problems += [
            _unknown(k, [*valid, "by_lift"], where) for k in options if k not in [*valid, "by_lift"]
        ]
        for lift, sub in by_lift.items() if isinstance(by_lift, Mapping) else ():
            if lift not in ("squat", "deadlift"):
                problems.append(_unknown(str(lift), ["squat", "deadlift"], f"{where}by_lift."))
            for k in sub if isinstance(sub, Mapping) else ():
                if k not in valid:
                    problems.append(_unknown(k, valid, f"{where}by_lift.{lift}."))
    analysis = config.get("analysis", {})
    if isinstance(analysis, Mapping):
        valid = [f for f in AnalysisParams.__dataclass_fields__]
        problems += [_unknown(k, valid, "analysis.") for k in analysis if k not in valid]
    return problems


def pose_options(pose: Mapping[str, Any], lift: str | None, *, truth_dir: str) -> dict[str, Any]:
    """The chosen backend's options for one lift: ``pose.<backend>`` with its ``by_lift`` entry
    for that lift over it; the synthetic backend's truth folder, or the bar tracker switch."""
    backend = pose["backend"]
    options = dict(pose.get(backend, {}))
    options.update(options.pop("by_lift", {}).get(lift, {}))
    if backend == "synthetic":
        options.setdefault("truth_dir", truth_dir)
    else:  # a frame-based backend: the bar tracker runs on the same video
        options["track_bar"] = bool(pose.get("track_bar", True))
    return options
