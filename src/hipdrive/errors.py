"""Errors a user should see as one clear line, not a traceback.

The CLI catches :class:`HipdriveError` and prints ``error: <message>``; every
message names the file or manifest row and the cause.
"""


class HipdriveError(Exception):
    """Base class: a problem with the user's input or environment, not a bug."""


class InputError(HipdriveError):
    """A video, keypoint file, manifest row or config value is unusable."""


class UnusableVideoError(InputError):
    """One video cannot give data: not decodable, nobody in it, too short to analyse.

    The workflow's stages catch it (``--on-bad-video exclude``) and write an
    exclusion record instead of failing, so the run goes on for the other videos
    and the video is listed with this message in ``results/qc/excluded.tsv``
    (:mod:`hipdrive.contracts.exclusions`). Problems with the config, the manifest or the
    installation are never this class: they stop the run.
    """


class VideoError(UnusableVideoError):
    """A video cannot be decoded (corrupt, truncated, not a video, no frames)."""


class DecoderTimeoutError(VideoError):
    """The decoder produced no frame within the timeout (a pathological file)."""


class BackendUnavailableError(HipdriveError):
    """A pose backend's packages or model files are not installed here."""
