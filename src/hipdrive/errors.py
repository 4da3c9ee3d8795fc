"""Errors a user should see as one clear line, not a traceback.

The CLI catches :class:`HipdriveError` and prints ``error: <message>``; every
message names the file or manifest row and the cause.
"""


class HipdriveError(Exception):
    """Base class: a problem with the user's input or environment, not a bug."""


class InputError(HipdriveError):
    """A video, keypoint file, manifest row or config value is unusable."""


class VideoError(InputError):
    """A video cannot be decoded (corrupt, truncated, not a video, no frames)."""


class BackendUnavailableError(HipdriveError):
    """A pose backend's packages or model files are not installed here."""
