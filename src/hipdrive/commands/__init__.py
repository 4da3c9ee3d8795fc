"""Sub-commands of the ``hipdrive`` CLI, one module per pipeline stage."""

from __future__ import annotations

import json
from pathlib import Path

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
    """The ``--on-bad-video`` flag of the per-video commands (:mod:`hipdrive.contracts.exclusions`)."""
    parser.add_argument(
        "--on-bad-video",
        choices=("fail", "exclude"),
        default="fail",
        help="what to do when the video cannot give data (corrupt, nobody in it, too short): "
        "fail (exit 2 with the reason; default) or exclude (write an exclusion record as the "
        "output and exit 0, so a workflow goes on; the workflow uses this)",
    )


def read_jobs(text: str, keys: tuple[str, ...]) -> list[dict[str, str]]:
    """A shard's ``--jobs``: a JSON list of objects with ``keys``, inline or ``@file``.

    ``@file`` exists because one command-line argument is limited to 128 KiB
    on Linux, about 600 videos' worth of paths.
    """
    source = "--jobs"
    if text.startswith("@"):
        source = text[1:]
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"--jobs {source}: cannot read ({exc.strerror})") from exc
    try:
        return [{k: str(job[k]) for k in keys} for job in json.loads(text)]
    except (json.JSONDecodeError, TypeError, KeyError) as exc:
        raise InputError(
            f"{source} must be a JSON list of objects with {', '.join(keys)} ({exc!r})"
        ) from exc
