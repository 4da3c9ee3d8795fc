"""Sub-commands of the ``hipdrive`` CLI, one module per pipeline stage."""

from __future__ import annotations

import json

from hipdrive.errors import InputError


def parse_json_object(text: str, *, flag: str) -> dict:
    """A JSON object given on the command line (``--params``, ``--options``), or a clear error."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{flag} is not valid JSON ({exc.msg} at column {exc.colno}): {text!r}") from exc
    if not isinstance(value, dict):
        raise InputError(f"{flag} must be a JSON object, got {type(value).__name__}: {text!r}")
    return value
