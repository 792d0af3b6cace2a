"""Reader for recorder session files (HDF5, format_version 1 or 2).

    import recorder_reader as r
    s = r.open("session.h5")
    image = s.frame(0)                      # (H, W, 3) uint8 RGB
    keys = s.events_between_frames(0, 1)    # input between frame 0 and frame 1
    whole = r.open_session("NAME.manifest.json")   # a split session's parts as one sequence
"""

from .evdev import (
    EVENT_FLAG_REDACTED,
    EVENT_FLAG_SYNTHETIC,
    FRAME_FLAG_CLIPPED,
    FRAME_FLAG_COMPRESSED_FAST,
    FRAME_FLAG_CURSOR_UNKNOWN,
    FRAME_FLAG_NO_SHM,
    FRAME_FLAG_UNFILTERED,
    event_type_name,
)
from .actions import Actions, normalise_axis
from .session import FORMAT_NAME, SUPPORTED_FORMAT_VERSIONS, FormatError, Session, open
from .manifest import PartsError
from .parts import SplitSession, open_any, open_session

__version__ = "1.0.0"

__all__ = [
    "Session",
    "SplitSession",
    "open_session",
    "open_any",
    "PartsError",
    "Actions",
    "normalise_axis",
    "open",
    "FormatError",
    "FORMAT_NAME",
    "SUPPORTED_FORMAT_VERSIONS",
    "event_type_name",
    "EVENT_FLAG_SYNTHETIC",
    "EVENT_FLAG_REDACTED",
    "FRAME_FLAG_CURSOR_UNKNOWN",
    "FRAME_FLAG_CLIPPED",
    "FRAME_FLAG_NO_SHM",
    "FRAME_FLAG_COMPRESSED_FAST",
    "FRAME_FLAG_UNFILTERED",
    "__version__",
]
