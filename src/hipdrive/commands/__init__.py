"""Sub-commands of the ``hipdrive`` CLI, one module per pipeline stage."""

from __future__ import annotations

import json

from hipdrive.errors import InputError


def parse_json_object(text: str, *, flag: str) -> dict:
    """A JSON object given on the command line (``--params``, ``--options``), or a clear error."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{flag} is not valid JSON ({exc.msg} at column {exc.colno}): {text!r}"
        ) from exc
    if not isinstance(value, dict):
        raise InputError(f"{flag} must be a JSON object, got {type(value).__name__}: {text!r}")
    return value


def add_on_bad_video(parser) -> None:
    """The ``--on-bad-video`` flag of the per-video commands (:mod:`hipdrive.exclusions`)."""
    parser.add_argument(
        "--on-bad-video",
        choices=("fail", "exclude"),
        default="fail",
        help="what to do when the video cannot give data (corrupt, nobody in it, too short): "
        "fail (exit 2 with the reason; default) or exclude (write an exclusion record as the "
        "output and exit 0, so a workflow goes on; the workflow uses this)",
    )
