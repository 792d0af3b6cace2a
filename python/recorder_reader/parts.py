"""Reading a split session (``NAME.manifest.json`` + ``NAME.part0001.h5`` ...) as one sequence.

    import recorder_reader as rr
    with rr.open_session("out/game.manifest.json") as s:   # or a part's path, or ("out", "game")
        image = s.frame(len(s) - 1)                         # frame indices run across the parts
        events = s.events()                                  # device ids of the session-wide table

Each part is a complete session file that starts with a keyframe, so each decodes on its own
with :class:`recorder_reader.Session`; :class:`SplitSession` concatenates their frames, ticks,
timestamps, input and state, checks that the parts continue one another, and offers the same
reading API (:class:`recorder_reader.sequence.FrameSequence`).
"""

from __future__ import annotations

import os
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np

from .devices import DeviceTable, remap
from .manifest import (MANIFEST_SUFFIX, Manifest, PartEntry, PartsError, check_session_name, parse_part_file_name,
                       part_file_name, read_manifest)
from .sequence import FrameSequence
from .session import FormatError, Session

#: Root attributes that describe one part, not the session.
PART_ATTRIBUTES = ("part_number", "previous_part_last_tick", "part_final")
#: Per-frame arrays a part contributes: /video dataset name and the Session property that reads it.
_PER_FRAME = (("timestamp_ns", "timestamps_ns"), ("tick", "ticks"), ("reference", "references"),
              ("reference_shift", "reference_shifts"), ("cursor", "cursor"), ("origin", "origin"),
              ("flags", "frame_flags"))


class Part:
    """One part: its number and file, the manifest's entry (None without a manifest), and what
    its file holds once loaded (per-frame arrays, input, state, attributes)."""

    def __init__(self, number: int, path: str, entry: Optional[PartEntry] = None):
        self.number = number
        self.path = path
        self.file = os.path.basename(path)
        self.entry = entry
        self.missing: Optional[str] = None  # why the part cannot be read, when it cannot
        self.session: Optional[Session] = None  # open while live, or while SplitSession keeps it for decoding
        self.count = 0
        self.offset = 0  # session-wide index of its first frame

    @property
    def state(self) -> str:
        """The manifest's part state; without a manifest, what the file says (sealed, recovered, recording)."""
        if self.entry is not None:
            return self.entry.state
        if self.missing:
            return "missing"
        if self.attributes.get("clean_shutdown") == 1:
            return "sealed"
        return "recovered" if self.attributes.get("end_reason") == "recovered" else "recording"

    @property
    def live(self) -> bool:
        return self.session is not None and self.session.swmr

    def find_missing(self) -> Optional[str]:
        """Why the part cannot be read (the manifest says missing, its upload deleted it, no file), or None."""
        if self.entry is not None and self.entry.state == "missing":
            return "the manifest lists it as missing"
        if not os.path.exists(self.path):
            if self.entry is not None and self.entry.upload and self.entry.upload.get("deleted"):
                return "deleted after its upload"
            return "no such file"
        return None

    def load(self, session: Session) -> None:
        """Copy out of ``session`` what the sequence needs, so the file may be closed afterwards."""
        self.count = len(session)
        self.per_frame = {name: getattr(session, prop) for name, prop in _PER_FRAME}
        self.ticks, self.timestamps_ns = self.per_frame["tick"], self.per_frame["timestamp_ns"]
        self.attributes = session.attributes
        self.video_attributes = session.video_attributes
        self.meta = session.meta
        self.events = session.events()
        self.devices = session.devices
        self.abs_info = session.abs_info()
        self.samples = session.state_samples()
        self.state_fields = session.state_fields
        self.state_rate_hz = session.state_rate_hz
        self.window_changes = session.window_changes()
        self.notes = session.notes()
        self.stored_bytes = session.stored_bytes
        self.shape = (session.height, session.width)

    def attribute(self, name: str, default: Any = None) -> Any:
        return self.attributes.get(name, default)

    def row(self) -> Dict[str, Any]:
        """What the whole session's summary says about this part."""
        row: Dict[str, Any] = {"number": self.number, "file": self.file, "state": self.state, "missing": self.missing}
        if self.entry is not None:
            row["upload"] = self.entry.upload
        if self.missing:
            for key in ("frames", "first_tick", "last_tick", "events", "samples"):
                row[key] = getattr(self.entry, key, None) if self.entry is not None else None
            return row
        ticks = self.ticks
        row.update(frames=self.count, first_tick=int(ticks[0]) if self.count else None,
                   last_tick=int(ticks[-1]) if self.count else None,
                   first_timestamp_ns=int(self.timestamps_ns[0]) if self.count else None,
                   last_timestamp_ns=int(self.timestamps_ns[-1]) if self.count else None,
                   events=int(len(self.events)), samples=int(len(self.samples)), stored_bytes=self.stored_bytes,
                   end_reason=self.attribute("end_reason", ""), clean_shutdown=self.attribute("clean_shutdown") == 1,
                   live=self.live)
        return row


class SplitSession(FrameSequence):
    """A split session read as one sequence of frames, input and state (see :func:`open_session`).

    ``parts`` lists every :class:`Part` (missing ones too), ``gaps`` the missing parts when
    ``allow_missing`` let them be skipped, ``warnings`` where the manifest and the files disagree
    on a count. Frame ``i`` is frame ``i - part.offset`` of the part holding it; ``part_of(i)``
    says which; ``references`` are session-wide indices (a reference is always in the same part,
    each part starting with a whole frame). Per-part detail: ``part_summary(number)``; device ids: :mod:`recorder_reader.devices`.
    """

    def __init__(self, name: str, folder: str, manifest: Optional[Manifest] = None, allow_missing: bool = False,
                 swmr: Optional[bool] = None, cache_size: int = 16, max_open: int = 4):
        if max_open < 1:
            raise ValueError("max_open must be at least 1, got %d" % max_open)
        self.name, self.folder, self.manifest = name, folder, manifest
        self.path = manifest.path if manifest is not None else os.path.join(folder, name)
        self.allow_missing = allow_missing
        self.cache_size, self.max_open, self._swmr = cache_size, max_open, swmr
        self.parts: List[Part] = []
        self._open: "OrderedDict[int, Part]" = OrderedDict()  # parts kept open for decoding, least recent first
        self._decoding: Optional[Part] = None
        self.chunk_reads = 0
        try:
            self._update_parts()
            self._build()
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ parts

    def _listed_parts(self) -> List[Part]:
        """The parts the manifest lists, or without one the NAME.partNNNN.h5 files of the folder
        (numbers from 1 to the highest found; one not found is missing)."""
        if self.manifest is not None:
            return [Part(e.number, self.manifest.part_path(e), e) for e in self.manifest.parts]
        numbers = []
        for entry in os.listdir(self.folder):
            parsed = parse_part_file_name(entry)
            if parsed is not None and parsed[0] == self.name:
                numbers.append(parsed[1])
        if not numbers:
            raise FileNotFoundError("no manifest %s%s and no part files %s in %s"
                                    % (self.name, MANIFEST_SUFFIX, part_file_name(self.name, 1), self.folder))
        return [Part(n, os.path.join(self.folder, part_file_name(self.name, n))) for n in range(1, max(numbers) + 1)]

    def _update_parts(self) -> None:
        """Add the parts listed since the last call; load each part that is new or still live."""
        listed = self._listed_parts()
        if len(listed) < len(self.parts):
            raise PartsError("%s: the session now lists %d parts, it listed %d" % (self.path, len(listed), len(self.parts)))
        for index, part in enumerate(listed):
            if index < len(self.parts):
                known = self.parts[index]
                known.entry = part.entry
                if known.missing is None and known.live and (known.state != "recording" or index + 1 < len(listed)):
                    self._reopen(known)  # sealed (or followed by a part) since: open again to see its end
                elif known.live:
                    known.session.refresh()
                    known.load(known.session)
                continue
            self.parts.append(part)
            part.missing = part.find_missing()
            if part.missing is None:
                self._reopen(part)

    def _reopen(self, part: Part) -> None:
        """(Re)open a part's file, load it, and keep it open only while it is live."""
        self._close_part(part)
        try:
            session = Session(part.path, swmr=self._swmr, cache_size=self.cache_size)
        except (OSError, FormatError) as error:
            raise PartsError("part %d (%s) cannot be read: %s" % (part.number, part.file, error)) from None
        part.session = session
        part.load(session)
        if session.swmr:
            return
        self._keep_open(part)

    def _keep_open(self, part: Part) -> None:
        self._open[part.number] = part
        self._open.move_to_end(part.number)
        while len(self._open) > self.max_open:
            _, oldest = self._open.popitem(last=False)
            if not oldest.live:
                self._close_part(oldest)

    def _close_part(self, part: Part) -> None:
        self._open.pop(part.number, None)
        if part.session is not None:
            part.session.close()
            part.session = None

    def _session_of(self, part: Part) -> Session:
        """The part's open file for decoding (reopened when it was closed to bound open files)."""
        if part.session is None:
            try:
                part.session = Session(part.path, swmr=self._swmr, cache_size=self.cache_size)
            except (OSError, FormatError) as error:
                raise PartsError("part %d (%s) cannot be read: %s" % (part.number, part.file, error)) from None
        if not part.live:
            self._keep_open(part)
        return part.session

    # ------------------------------------------------------------------ continuity

    def _check(self) -> None:
        """Session id, part numbers and ticks continue from part to part; missing parts become gaps."""
        present = [p for p in self.parts if p.missing is None]
        missing = [p for p in self.parts if p.missing is not None]
        if missing and not self.allow_missing:
            raise PartsError("%s: %s missing (%s); open with allow_missing=True to read the rest with gaps"
                             % (self.path, "part %d is" % missing[0].number if len(missing) == 1 else
                                "parts %s are" % ", ".join(str(p.number) for p in missing),
                                "; ".join("%s: %s" % (p.file, p.missing) for p in missing)))
        if not present:
            raise PartsError("%s: no part can be read" % self.path)
        expected_id = self.manifest.session_id if self.manifest is not None else present[0].attribute("session_id")
        self.gaps: List[Dict[str, Any]] = []
        self.warnings: List[str] = []
        last_tick, after_gap, last_number = -1, False, 0
        for part in self.parts:
            where = "part %d (%s)" % (part.number, part.file)
            if part.missing is not None:
                self.gaps.append({"number": part.number, "file": part.file, "reason": part.missing,
                                  "after_tick": last_tick if last_number else None})
                after_gap = True
                continue
            session_id = part.attribute("session_id")
            if session_id is None:
                raise PartsError("%s has no session_id attribute: it is not a part of a split session" % where)
            if session_id != expected_id:
                raise PartsError("%s belongs to session %r, not %r" % (where, session_id, expected_id))
            if part.attribute("part_number") != part.number:
                raise PartsError("%s has part_number %r" % (where, part.attribute("part_number")))
            previous = part.attribute("previous_part_last_tick")
            if not after_gap and previous != last_tick:
                raise PartsError("%s says the previous part's last tick is %r, but it is %d"
                                 % (where, previous, last_tick))
            if part.count and int(part.ticks[0]) <= last_tick:
                raise PartsError("%s starts at tick %d, not after tick %d of part %d: a tick is in two parts"
                                 % (where, int(part.ticks[0]), last_tick, last_number))
            if after_gap and self.gaps:
                self.gaps[-1]["before_tick"] = int(part.ticks[0]) if part.count else None
            after_gap = False
            self._compare_with_manifest(part, where)
            if part.count:
                last_tick, last_number = int(part.ticks[-1]), part.number
        for other in present[1:]:
            if other.shape != present[0].shape:
                raise PartsError("part %d is %dx%d, part %d is %dx%d: one frame size per session"
                                 % (present[0].number, present[0].shape[1], present[0].shape[0],
                                    other.number, other.shape[1], other.shape[0]))

    def _compare_with_manifest(self, part: Part, where: str) -> None:
        entry = part.entry
        if entry is None or entry.state not in ("sealed", "recovered"):
            return
        found = {"frames": part.count, "events": len(part.events), "samples": len(part.samples)}
        for key, value in found.items():
            if getattr(entry, key) != value:
                self.warnings.append("%s: the manifest counts %d %s, the file holds %d" % (where, getattr(entry, key), key, value))

    # ------------------------------------------------------------------ the concatenation

    def _build(self) -> None:
        self._check()
        present = [p for p in self.parts if p.missing is None]
        offset = 0
        for part in present:
            part.offset = offset
            offset += part.count
        self._present = present
        self._count = offset
        self._ends = np.array([p.offset + p.count for p in present], dtype=np.int64)
        self._per_frame = {name: np.concatenate([p.per_frame[name] for p in present]) for name, _ in _PER_FRAME}
        refs = [p.per_frame["reference"] for p in present]
        self._per_frame["reference"] = np.concatenate([np.where(r >= 0, r + p.offset, -1) for r, p in zip(refs, present)])
        for array in self._per_frame.values():
            array.flags.writeable = False
        table = DeviceTable()
        events, abs_rows = [], []
        for part in present:
            mapping = table.add_part(part.number, part.devices)
            part_events = part.events.copy()
            part_events["device"] = remap(part_events["device"], mapping)
            events.append(part_events)
            rows = part.abs_info.copy()
            rows["device"] = remap(rows["device"], mapping)
            abs_rows.append(rows)
        self._devices = table.devices
        self._events = np.concatenate(events)
        self._events.flags.writeable = False
        t = self._events["t_ns"]
        self._events_sorted = bool(len(t) < 2 or np.all(t[1:] >= t[:-1]))
        abs_all = np.concatenate(abs_rows)
        seen = set()
        first = [i for i, key in enumerate(zip(abs_all["device"].tolist(), abs_all["code"].tolist()))
                 if not (key in seen or seen.add(key))]
        self._abs_info = abs_all[first]
        dtypes = {p.samples.dtype for p in present}
        if len(dtypes) > 1:
            raise PartsError("%s: the parts' /state/samples fields differ (%s)" % (
                self.path, " vs ".join(", ".join(d.names or ()) for d in dtypes)))
        self._samples = np.concatenate([p.samples for p in present])

    # ------------------------------------------------------------------ FrameSequence accessors

    def part_of(self, i: int) -> Tuple[Part, int]:
        """The part holding frame ``i`` (session-wide, negative counts from the end) and its index there."""
        i = self._index(i)
        part = self._present[int(np.searchsorted(self._ends, i, side="right"))]
        return part, i - part.offset

    def frame(self, i: int) -> np.ndarray:
        """Image of frame ``i`` (across parts) as read-only (H, W, 3) uint8 RGB."""
        part, local = self.part_of(i)
        if self._decoding is not None and self._decoding is not part and self._decoding.session is not None:
            self._decoding.session.clear_cache()  # one part's decoded images in memory at a time
        self._decoding = part
        session = self._session_of(part)
        before = session.chunk_reads
        image = session.frame(local)
        self.chunk_reads += session.chunk_reads - before
        return image

    def refresh(self) -> int:
        """Follow a session still being recorded: re-read the manifest (new parts) and the live part."""
        if self.manifest is not None:
            self.manifest = read_manifest(self.manifest.path)
        self._update_parts()
        self._build()
        return self._count

    def close(self) -> None:
        for part in self.parts:
            self._close_part(part)

    def __repr__(self) -> str:
        return "<recorder_reader.SplitSession %r: %d parts, %d frames%s>" % (
            self.path, len(self.parts), self._count, " (live)" if self.swmr else "")

    @property
    def swmr(self) -> bool:  # type: ignore[override]
        """True while the session may still grow: a part is open live, or the manifest says recording."""
        return any(p.live for p in self.parts) or (self.manifest is not None and self.manifest.state == "recording")

    @property
    def session_id(self) -> str:
        return self.manifest.session_id if self.manifest is not None else self._present[0].attribute("session_id")

    def _final_part(self) -> Optional[Part]:
        return next((p for p in self._present if p.attribute("part_final") == 1), None)

    @property
    def end_reason(self) -> str:
        """The manifest's end reason once the session ended, else the final part's ("" until there is one)."""
        if self.manifest is not None and self.manifest.state != "recording" and self.manifest.end_reason:
            return self.manifest.end_reason
        final = self._final_part()
        return final.attribute("end_reason", "") if final is not None else ""

    @property
    def clean_shutdown(self) -> bool:
        """Every part is there and sealed cleanly, the last one as the session's final part."""
        return (not self.gaps and self._final_part() is not None
                and all(p.attribute("clean_shutdown") == 1 for p in self._present))

    @property
    def attributes(self) -> Dict[str, Any]:
        """The first part's root attributes, with the session's end (and no per-part attributes)."""
        attrs = {k: v for k, v in self._present[0].attributes.items() if k not in PART_ATTRIBUTES}
        final = self._final_part()
        attrs.update(end_reason=self.end_reason, clean_shutdown=int(self.clean_shutdown), summary_json="",
                     end_detail=(self.manifest.end_detail if self.manifest is not None and self.manifest.end_detail
                                 else final.attribute("end_detail", "") if final is not None else ""))
        return attrs

    @property
    def video_attributes(self) -> Dict[str, Any]:
        return self._present[0].video_attributes

    @property
    def meta(self) -> Dict[str, Any]:
        return self._present[0].meta

    @property
    def mono_to_utc_ns(self) -> int:
        if self.manifest is not None:
            return self.manifest.mono_to_utc_ns
        return int(self._present[0].attribute("mono_to_utc_ns", 0))

    @property
    def session_start_ns(self) -> Optional[int]:
        value = self._present[0].attribute("session_start_ns")
        if value is not None:
            return int(value)
        return int(self.timestamps_ns[0]) if self._count else None

    @property
    def width(self) -> int:
        return self._present[0].shape[1]

    @property
    def height(self) -> int:
        return self._present[0].shape[0]

    @property
    def fps(self) -> float:
        return float(self.video_attributes.get("fps", 0) or 0)

    @property
    def codec(self) -> str:
        return str(self.video_attributes.get("codec", "") or "")

    @property
    def stored_bytes(self) -> int:
        return sum(p.stored_bytes for p in self._present)

    def _all_events(self) -> np.ndarray:
        return self._events

    @property
    def devices(self) -> List[Dict[str, Any]]:
        """The session-wide device table (see :mod:`recorder_reader.devices`); ``parts`` lists the parts that listed each."""
        return [dict(d) for d in self._devices]

    def abs_info(self) -> np.ndarray:
        """/input/abs_info of every device, with session device ids, as the first part listing it gave it."""
        return self._abs_info

    def _all_samples(self) -> np.ndarray:
        return self._samples

    @property
    def state_fields(self) -> List[str]:
        return self._present[0].state_fields

    @property
    def state_rate_hz(self) -> Optional[float]:
        return self._present[0].state_rate_hz

    def window_changes(self) -> List[Dict[str, Any]]:
        return [row for p in self._present for row in p.window_changes]

    def notes(self) -> List[Dict[str, Any]]:
        return [row for p in self._present for row in p.notes]

    # ------------------------------------------------------------------ summaries

    def part_summary(self, number: int) -> Dict[str, Any]:
        """The full :meth:`Session.summary` of part ``number`` (1-based), with its number and state."""
        if not 1 <= number <= len(self.parts):
            raise IndexError("part %d out of range: the session has parts 1..%d" % (number, len(self.parts)))
        part = self.parts[number - 1]
        if part.missing is not None:
            raise PartsError("part %d (%s) is missing: %s" % (number, part.file, part.missing))
        summary = self._session_of(part).summary()
        summary.update(part_number=number, part_state=part.state)
        return summary

    def summary(self) -> Dict[str, Any]:
        """The whole session as ``inspect --json`` prints it, plus ``split``: session id, parts, gaps, warnings."""
        summary = super().summary()
        summary["split"] = {
            "session_id": self.session_id,
            "name": self.name,
            "manifest": self.manifest.path if self.manifest is not None else None,
            "state": self.manifest.state if self.manifest is not None else None,
            "every_seconds": self.manifest.split.get("every_seconds") if self.manifest is not None else None,
            "size_bytes": self.manifest.split.get("size_bytes") if self.manifest is not None else None,
            "parts": [p.row() for p in self.parts],
            "gaps": list(self.gaps),
            "warnings": list(self.warnings),
        }
        return summary


def locate(path: Union[str, os.PathLike], name: Optional[str] = None) -> Tuple[str, str, Optional[str]]:
    """``(folder, NAME, manifest path or None)`` of a split session named by ``path``: its manifest,
    one of its parts, the ``--output`` path it was recorded with (``DIR/NAME.h5``, which does not
    exist), ``DIR/NAME``, or a folder with ``name``."""
    path = os.fspath(path)
    if name is not None:
        folder = path
    elif path.endswith(MANIFEST_SUFFIX):
        folder, name = os.path.dirname(path), os.path.basename(path)[:-len(MANIFEST_SUFFIX)]
    else:
        folder, base = os.path.split(path)
        parsed = parse_part_file_name(base)
        if parsed is not None:
            name = parsed[0]
        elif base.endswith(".h5") and not os.path.exists(path):
            name = base[:-3]
        elif not os.path.isdir(path):
            name = base
        else:
            raise PartsError("%s is a folder: name the session too, open_session(folder, name)" % path)
    check_session_name(name, path)
    folder = os.path.abspath(folder or ".")
    manifest = os.path.join(folder, name + MANIFEST_SUFFIX)
    return folder, name, manifest if os.path.exists(manifest) else None


def open_session(path: Union[str, os.PathLike], name: Optional[str] = None, allow_missing: bool = False,
                 swmr: Optional[bool] = None, cache_size: int = 16, max_open: int = 4) -> SplitSession:
    """Open a split session as one sequence; see :class:`SplitSession` and :func:`locate` for ``path``.

    Without a manifest the parts are found in the folder. A missing part raises :class:`PartsError`
    unless ``allow_missing`` (then ``gaps`` lists it). ``swmr`` and ``cache_size`` are passed to
    each part's :class:`Session`; at most ``max_open`` sealed parts stay open at once.
    """
    folder, name, manifest_path = locate(path, name)
    manifest = read_manifest(manifest_path) if manifest_path is not None else None
    return SplitSession(name, folder, manifest, allow_missing=allow_missing, swmr=swmr, cache_size=cache_size,
                        max_open=max_open)


def is_split_path(path: Union[str, os.PathLike]) -> bool:
    """True when ``path`` names a split session rather than one session file: a manifest, or an
    ``--output`` path (``DIR/NAME.h5``) that does not exist but has a manifest beside it."""
    path = os.fspath(path)
    if path.endswith(MANIFEST_SUFFIX):
        return True
    if os.path.exists(path) or not path.endswith(".h5") or parse_part_file_name(os.path.basename(path)):
        return False
    return os.path.exists(os.path.join(os.path.dirname(path), os.path.basename(path)[:-3] + MANIFEST_SUFFIX))


def open_any(path: Union[str, os.PathLike], **options: Any) -> Union[Session, SplitSession]:
    """A :class:`SplitSession` for a manifest (or a split session's ``--output`` path), else a
    :class:`Session` of the one file (a part's path opens that part alone)."""
    if is_split_path(path):
        return open_session(path, **options)
    return Session(path, **{k: v for k, v in options.items() if k in ("swmr", "cache_size")})
