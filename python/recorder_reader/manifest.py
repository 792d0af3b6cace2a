"""The manifest of a split session (``NAME.manifest.json``), read as hostile input.

The recorder writes it beside the parts ``NAME.part0001.h5``, ``NAME.part0002.h5``, ... (the
contract is ``Sources/RecorderCore/SessionManifest.swift``). Everything in it is checked before
use: its size (at most 16 MiB), its format and version, the type of every field, and that each
part names a ``NAME.partNNNN.h5`` file of the manifest's own folder.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from .session import FormatError

MANIFEST_FORMAT = "recorder-session-manifest"
MANIFEST_VERSION = 1
MANIFEST_SUFFIX = ".manifest.json"
#: A larger manifest is refused unread (an 8-hour session split every minute is ~250 KB).
MAX_MANIFEST_BYTES = 16 << 20
#: Parts a session may have (part numbers have 4 or 5 digits).
MAX_PARTS = 99_999

SESSION_STATES = ("recording", "ended", "recovered")
PART_STATES = ("recording", "sealed", "recovered", "missing")

_PART_NAME = re.compile(r"^(?P<name>.+)\.part(?P<number>[0-9]{4,5})\.h5$", re.DOTALL)
_INT64 = (-(1 << 63), (1 << 63) - 1)


class PartsError(FormatError):
    """A split session cannot be read as one sequence: its manifest is malformed, a part is
    missing, or the parts do not continue one another (session id, part number, ticks)."""


def part_file_name(name: str, number: int) -> str:
    """``NAME.part0001.h5``: the file of part ``number`` (1-based, at least four digits)."""
    return "%s.part%04d.h5" % (name, number)


def parse_part_file_name(file: str) -> Optional[Tuple[str, int]]:
    """``(NAME, number)`` when ``file`` (a base name) is a part's file name, else None."""
    match = _PART_NAME.match(file)
    if match is None:
        return None
    number = int(match.group("number"))
    if not 1 <= number <= MAX_PARTS:
        return None
    return match.group("name"), number


def check_session_name(name: str, where: str) -> None:
    """Refuse a session NAME that could make a part's file name leave the manifest's folder."""
    if not name or len(name.encode("utf-8", "surrogatepass")) > 200:
        raise PartsError("%s: session name must be 1 to 200 bytes, got %r" % (where, name[:80]))
    if "/" in name or "\\" in name or "\0" in name or name.startswith("."):
        raise PartsError("%s: session name %r may not contain '/', '\\' or NUL, nor start with '.'"
                         % (where, name[:80]))


@dataclass(frozen=True)
class PartEntry:
    """One part as the manifest lists it (counts and ticks as of the manifest's last rewrite)."""

    number: int
    file: str
    state: str
    previous_part_last_tick: int
    frames: int
    events: int
    samples: int
    bytes: int
    first_tick: Optional[int] = None
    last_tick: Optional[int] = None
    first_timestamp_ns: Optional[int] = None
    last_timestamp_ns: Optional[int] = None
    upload: Optional[Dict[str, Any]] = None


@dataclass(frozen=True)
class Manifest:
    """A checked ``NAME.manifest.json``; ``path`` is where it was read, ``folder`` holds the parts."""

    path: str
    session_id: str
    name: str
    started_at_utc: str
    mono_to_utc_ns: int
    state: str
    split: Dict[str, Any]
    parts: Tuple[PartEntry, ...]
    end_reason: Optional[str] = None
    end_detail: Optional[str] = None

    @property
    def folder(self) -> str:
        return os.path.dirname(os.path.abspath(self.path))

    def part_path(self, entry: PartEntry) -> str:
        return os.path.join(self.folder, entry.file)


class _Fields:
    """Typed access to one JSON object: every miss or wrong type is a PartsError naming the field."""

    def __init__(self, value: Any, where: str):
        if not isinstance(value, dict):
            raise PartsError("%s must be a JSON object, found %s" % (where, _json_type(value)))
        self.value, self.where = value, where

    def _get(self, key: str, kinds: Tuple[type, ...], what: str, optional: bool) -> Any:
        if key not in self.value or self.value[key] is None:
            if optional:
                return None
            raise PartsError("%s: %r is missing" % (self.where, key))
        value = self.value[key]
        if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
            raise PartsError("%s: %r must be %s, found %s" % (self.where, key, what, _json_type(value)))
        return value

    def string(self, key: str, optional: bool = False, choices: Tuple[str, ...] = ()) -> Optional[str]:
        value = self._get(key, (str,), "a string", optional)
        if value is not None and choices and value not in choices:
            raise PartsError("%s: %r is %r, expected one of %s" % (self.where, key, value[:80], ", ".join(choices)))
        return value

    def integer(self, key: str, optional: bool = False, minimum: int = _INT64[0]) -> Optional[int]:
        value = self._get(key, (int,), "an integer", optional)
        if value is not None and not minimum <= value <= _INT64[1]:
            raise PartsError("%s: %r = %d is out of range (%d to 2^63-1)" % (self.where, key, value, minimum))
        return value

    def number(self, key: str) -> Optional[float]:
        return self._get(key, (int, float), "a number", True)

    def boolean(self, key: str) -> Optional[bool]:
        return self._get(key, (bool,), "true or false", True)

    def object(self, key: str, optional: bool = False) -> Optional["_Fields"]:
        value = self._get(key, (dict,), "an object", optional)
        return None if value is None else _Fields(value, "%s, %s" % (self.where, key))

    def array(self, key: str) -> List[Any]:
        return self._get(key, (list,), "an array", False)


def _json_type(value: Any) -> str:
    for kind, name in ((bool, "a boolean"), (str, "a string"), (int, "an integer"), (float, "a number"),
                       (list, "an array"), (dict, "an object")):
        if isinstance(value, kind):
            return name
    return "null"


def _read_bounded(path: str, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (a FIFO or device is refused, not read)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise PartsError("%s is not a regular file" % path)
        if info.st_size > limit:
            raise PartsError("%s is %d bytes; a session manifest is at most %d" % (path, info.st_size, limit))
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise PartsError("%s grew past %d bytes while it was read" % (path, limit))
        return b"".join(chunks)
    finally:
        os.close(fd)


def _part_entry(value: Any, index: int, name: str, where: str) -> PartEntry:
    fields = _Fields(value, "%s: parts[%d]" % (where, index))
    number = fields.integer("number", minimum=1)
    if number != index + 1:
        raise PartsError("%s: parts[%d] is numbered %d; parts are listed in order from 1" % (where, index, number))
    fields.where = "%s: part %d" % (where, number)
    file = fields.string("file")
    expected = part_file_name(name, number)
    if "/" in file or "\\" in file or "\0" in file or file.startswith(".") or file != expected:
        raise PartsError("%s names %r, not %r: a part must be a file of the manifest's own folder"
                         % (fields.where, file[:200], expected))
    upload = fields.object("upload", optional=True)
    upload_dict = None
    if upload is not None:
        upload_dict = {"state": upload.string("state"), "attempts": upload.integer("attempts", optional=True, minimum=0),
                       "last_error": upload.string("last_error", optional=True),
                       "finished_at_utc": upload.string("finished_at_utc", optional=True),
                       "deleted": bool(upload.boolean("deleted"))}
    return PartEntry(
        number=number, file=file, state=fields.string("state", choices=PART_STATES),
        previous_part_last_tick=fields.integer("previous_part_last_tick", minimum=-1),
        frames=fields.integer("frames", minimum=0), events=fields.integer("events", minimum=0),
        samples=fields.integer("samples", minimum=0), bytes=fields.integer("bytes", minimum=0),
        first_tick=fields.integer("first_tick", optional=True, minimum=0),
        last_tick=fields.integer("last_tick", optional=True, minimum=0),
        first_timestamp_ns=fields.integer("first_timestamp_ns", optional=True),
        last_timestamp_ns=fields.integer("last_timestamp_ns", optional=True),
        upload=upload_dict)


def parse_manifest(data: bytes, path: str) -> Manifest:
    """Check and decode a manifest's bytes (read from ``path``); raises PartsError with what is wrong."""
    try:
        value = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise PartsError("%s is not a session manifest: not UTF-8 (%s)" % (path, error)) from None
    except (ValueError, RecursionError) as error:
        raise PartsError("%s is not a session manifest: not JSON (%s)" % (path, str(error)[:200])) from None
    fields = _Fields(value, path)
    fmt = fields.string("format")
    if fmt != MANIFEST_FORMAT:
        raise PartsError("%s: format is %r, expected %r" % (path, fmt[:80], MANIFEST_FORMAT))
    version = fields.integer("version")
    if version != MANIFEST_VERSION:
        raise PartsError("%s: manifest version %d is not supported (this reader knows %d)" % (path, version, MANIFEST_VERSION))
    name = fields.string("name")
    check_session_name(name, path)
    split = fields.object("split")
    entries = fields.array("parts")
    if len(entries) > MAX_PARTS:
        raise PartsError("%s lists %d parts; at most %d" % (path, len(entries), MAX_PARTS))
    return Manifest(
        path=path, session_id=fields.string("session_id"), name=name,
        started_at_utc=fields.string("started_at_utc"), mono_to_utc_ns=fields.integer("mono_to_utc_ns"),
        state=fields.string("state", choices=SESSION_STATES),
        split={"every_seconds": split.number("every_seconds"),
               "size_bytes": split.integer("size_bytes", optional=True, minimum=0)},
        parts=tuple(_part_entry(entry, index, name, path) for index, entry in enumerate(entries)),
        end_reason=fields.string("end_reason", optional=True), end_detail=fields.string("end_detail", optional=True))


def read_manifest(path: str) -> Manifest:
    """Read and check ``NAME.manifest.json``; raises PartsError (or FileNotFoundError) with a sentence."""
    if not os.path.exists(path):
        raise FileNotFoundError("no such session manifest: %s" % path)
    return parse_manifest(_read_bounded(path, MAX_MANIFEST_BYTES), path)
