"""What every recorder session reads the same way, one file or a split session's parts.

:class:`FrameSequence` holds the reading API built on a few accessors (frame images, per-frame
arrays, events, devices, state samples, attributes); :class:`recorder_reader.Session` (one file)
and :class:`recorder_reader.parts.SplitSession` (a split session) provide those accessors.
"""

from __future__ import annotations

import datetime as _dt
import json
import time
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union

import numpy as np

from .actions import Actions, compute_actions
from .evdev import EV_KEY, FRAME_FLAG_COMPRESSED_FAST, FRAME_FLAG_UNFILTERED, event_type_name

IntOrArray = Union[int, np.integer, np.ndarray]


class FrameSequence:
    """The shared reading API of a session: frames by index, time alignment, input, summary.

    A subclass sets ``path``, ``swmr`` and ``_count`` (frames readable now) and provides
    ``frame(i)``, ``refresh()``, ``close()``, ``_per_frame``, ``_all_events()`` with
    ``_events_sorted``, ``devices``, ``abs_info()``, ``_all_samples()``, ``state_fields``,
    ``state_rate_hz``, ``window_changes()``, ``notes()``, ``meta``, ``attributes``,
    ``video_attributes``, ``clean_shutdown``, ``session_start_ns``, ``mono_to_utc_ns``, ``width``,
    ``height``, ``fps``, ``codec`` and ``stored_bytes``.
    """

    path: str
    swmr: bool
    _count: int
    _events_sorted: bool
    #: Per-frame arrays by /video dataset name (timestamp_ns, tick, reference, and when stored
    #: reference_shift, cursor, origin, flags), each of length ``_count``.
    _per_frame: Dict[str, np.ndarray]

    def __enter__(self) -> "FrameSequence":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __len__(self) -> int:
        return self._count

    def _index(self, i: Any, what: str = "frame") -> int:
        if not isinstance(i, (int, np.integer)) or isinstance(i, bool):
            raise TypeError("%s index must be an integer, not %s" % (what, type(i).__name__))
        n = self._count
        j = int(i) + n if i < 0 else int(i)
        if not 0 <= j < n:
            if n == 0:
                raise IndexError("%s index %d out of range: the session has no frames yet" % (what, i))
            raise IndexError("%s index %d out of range: the session has %d frames (valid: %d..%d)"
                             % (what, i, n, -n, n - 1))
        return j

    def __getitem__(self, key: Union[int, slice]) -> np.ndarray:
        if isinstance(key, slice):
            indices = range(*key.indices(self._count))
            out = np.empty((len(indices), self.height, self.width, 3), dtype=np.uint8)
            for row, i in enumerate(indices):
                out[row] = self.frame(i)
            return out
        return self.frame(key)

    def __iter__(self) -> Iterator[np.ndarray]:
        for _, image in self.iter_frames():
            yield image

    def iter_frames(self, start: int = 0, stop: Optional[int] = None, step: int = 1) -> Iterator[Tuple[int, np.ndarray]]:
        """Yield ``(index, image)`` for frames in ``range(start, stop, step)`` (slice semantics)."""
        for i in range(*slice(start, stop, step).indices(self._count)):
            yield i, self.frame(i)

    def follow(self, start: int = 0, poll_interval: float = 0.05,
               idle_timeout: Optional[float] = 5.0) -> Iterator[Tuple[int, np.ndarray]]:
        """Yield ``(index, image)`` from frame ``start`` on, then wait for frames a live recording appends.

        Polls :meth:`refresh` every ``poll_interval`` seconds and returns once no new frame came
        for ``idle_timeout`` seconds (``None``: never), or at once at the end of a file that was not
        opened in SWMR mode (nothing can be appended to it).
        """
        i = start + self._count if start < 0 else start
        last_new = time.monotonic()
        while True:
            while i < self._count:
                yield i, self.frame(i)
                i += 1
                last_new = time.monotonic()
            if not self.swmr:
                return
            if idle_timeout is not None and time.monotonic() - last_new >= idle_timeout:
                return
            time.sleep(poll_interval)
            self.refresh()

    # ------------------------------------------------------------------ per-frame data

    @property
    def timestamps_ns(self) -> np.ndarray:
        """CLOCK_MONOTONIC ns at which each frame's grab started (read-only int64, length N)."""
        return self._per_frame["timestamp_ns"]

    @property
    def ticks(self) -> np.ndarray:
        """0-based fps schedule slot of each frame; a jump of more than 1 means dropped slots."""
        return self._per_frame["tick"]

    @property
    def references(self) -> np.ndarray:
        """Per frame: -1 for a whole image, else the frame its residual is XORed with."""
        return self._per_frame["reference"]

    @property
    def reference_shifts(self) -> np.ndarray:
        """Per frame (dx, dy) by which the reference image is displaced before the XOR, int32 (N, 2);
        all zeros in format_version 1."""
        return self._per_frame.get("reference_shift", np.zeros((self._count, 2), dtype=np.int32))

    @property
    def cursor(self) -> np.ndarray:
        """Pointer (x, y) per frame relative to the frame's top-left, int32 (N, 2)."""
        return self._per_frame.get("cursor", np.zeros((self._count, 2), dtype=np.int32))

    @property
    def origin(self) -> np.ndarray:
        """Screen position of each frame's top-left, int32 (N, 2)."""
        return self._per_frame.get("origin", np.zeros((self._count, 2), dtype=np.int32))

    @property
    def frame_flags(self) -> np.ndarray:
        """Per-frame flags: bit 0 cursor unknown, bit 1 clipped, bit 2 grabbed without MIT-SHM, bit 3 chunk
        compressed at the fast level, bit 4 chunk stored unfiltered (the writer was behind)."""
        return self._per_frame.get("flags", np.zeros(self._count, dtype=np.uint32))

    @property
    def dropped_ticks(self) -> int:
        """Schedule slots with no frame: slots before the first frame plus every gap in ``ticks``."""
        ticks = self.ticks
        if len(ticks) == 0:
            return 0
        gaps = np.diff(ticks) - 1
        return int(ticks[0]) + int(gaps[gaps > 0].sum())

    def tick_gaps(self) -> np.ndarray:
        """Structured array (frame, missing): frame ``frame`` follows ``missing`` dropped slots."""
        ticks = self.ticks
        out_dtype = np.dtype([("frame", "<i8"), ("missing", "<i8")])
        if len(ticks) == 0:
            return np.empty(0, dtype=out_dtype)
        missing = np.concatenate([[ticks[0]], np.diff(ticks) - 1])
        where = np.nonzero(missing > 0)[0]
        out = np.empty(len(where), dtype=out_dtype)
        out["frame"] = where
        out["missing"] = missing[where]
        return out

    def utc_ns(self, t_ns: IntOrArray) -> IntOrArray:
        """UTC ns (since the Unix epoch) of CLOCK_MONOTONIC ``t_ns``."""
        if np.ndim(t_ns) == 0:
            return int(t_ns) + self.mono_to_utc_ns
        return np.asarray(t_ns, dtype=np.int64) + np.int64(self.mono_to_utc_ns)

    def utc(self, t_ns: IntOrArray) -> Union[_dt.datetime, np.ndarray]:
        """UTC time of CLOCK_MONOTONIC ``t_ns``: an aware datetime (µs), or datetime64[ns] for arrays."""
        utc_ns = self.utc_ns(t_ns)
        if np.ndim(utc_ns) == 0:
            seconds, nanos = divmod(int(utc_ns), 1_000_000_000)
            return _dt.datetime.fromtimestamp(seconds, tz=_dt.timezone.utc) + _dt.timedelta(microseconds=nanos // 1000)
        return np.asarray(utc_ns).astype("datetime64[ns]")

    def frame_index(self, t_ns: IntOrArray) -> IntOrArray:
        """Frame on screen at ``t_ns``: the last frame whose timestamp <= t (-1 before the first).

        Vectorised: an array of times gives an int64 array of frame indices.
        """
        found = np.searchsorted(self.timestamps_ns, t_ns, side="right") - 1
        if np.ndim(found) == 0:
            return int(found)
        return found.astype(np.int64)

    def events(self, start_ns: Optional[int] = None, end_ns: Optional[int] = None,
               device: Optional[int] = None, type: Optional[int] = None) -> np.ndarray:
        """Input events with ``start_ns <= t_ns < end_ns`` as a structured array in read order.

        Fields: t_ns, device, type, code, value, flags. ``device`` / ``type`` filter by device id
        and evdev event type (EV_SYN rows are included unless filtered out).
        """
        events = self._all_events()
        if start_ns is not None or end_ns is not None:
            t = events["t_ns"]
            if self._events_sorted:
                lo = 0 if start_ns is None else int(np.searchsorted(t, start_ns, side="left"))
                hi = len(t) if end_ns is None else int(np.searchsorted(t, end_ns, side="left"))
                events = events[lo:max(lo, hi)]
            else:
                mask = np.ones(len(t), dtype=bool)
                if start_ns is not None:
                    mask &= t >= start_ns
                if end_ns is not None:
                    mask &= t < end_ns
                events = events[mask]
        if device is not None:
            events = events[events["device"] == device]
        if type is not None:
            events = events[events["type"] == type]
        return events

    def state_samples(self, start_ns: Optional[int] = None, end_ns: Optional[int] = None) -> np.ndarray:
        """/state/samples as a structured array (t_ns, cursor_x, cursor_y, one field per probe),
        those with ``start_ns <= t_ns < end_ns`` when given."""
        samples = self._all_samples()
        if start_ns is not None:
            samples = samples[samples["t_ns"] >= start_ns]
        if end_ns is not None:
            samples = samples[samples["t_ns"] < end_ns]
        return samples

    def events_between_frames(self, i: int, j: int, **filters: Any) -> np.ndarray:
        """Events with ``timestamp[i] <= t_ns < timestamp[j]``; ``j == len(session)`` means to the end."""
        start = self.timestamps_ns[self._index(i)]
        if isinstance(j, (int, np.integer)) and j == self._count:
            end = None
        else:
            j = self._index(j)
            end = int(self.timestamps_ns[j])
        return self.events(int(start), end, **filters)

    def event_counts(self) -> Dict[int, int]:
        """Number of events per device id (EV_SYN included)."""
        devices, counts = np.unique(self._all_events()["device"], return_counts=True)
        return {int(d): int(c) for d, c in zip(devices, counts)}

    def _keys_held_at_start(self) -> Dict[int, List[int]]:
        return {int(d["id"]): list(d["keys_held_at_start"]) for d in self.devices}

    def actions(self) -> Actions:
        """Input per stored frame i over [t_i, t_{i+1}): keys and mouse buttons held, summed
        REL_X/REL_Y and wheel, absolute axes normalised by abs_info (see ``Actions``)."""
        return compute_actions(self.timestamps_ns, self._all_events(), self._keys_held_at_start(), self.abs_info())

    def keys_down_at(self, t_ns: int, device: Optional[int] = None) -> List[int]:
        """EV_KEY codes (keys and buttons) down at ``t_ns``: the keys held when each device was
        opened, then every EV_KEY event with ``t_ns`` <= t replayed in order (value 2, autorepeat,
        keeps a key down). ``device`` limits it to one device."""
        down = {(d, c) for d, codes in self._keys_held_at_start().items() for c in codes}
        events = self._all_events()
        events = events[(events["type"] == EV_KEY) & (events["t_ns"] <= t_ns)]
        events = events[np.argsort(events["t_ns"], kind="stable")]
        for row in events:
            key = (int(row["device"]), int(row["code"]))
            if row["value"]:
                down.add(key)
            else:
                down.discard(key)
        return sorted({c for d, c in down if device is None or d == device})

    @property
    def raw_bytes(self) -> int:
        """Bytes of the stored frames uncompressed (N x H x W x 3)."""
        return self._count * self.height * self.width * 3

    @property
    def compression_ratio(self) -> Optional[float]:
        stored = self.stored_bytes
        return self.raw_bytes / stored if stored and self._count else None

    @property
    def duration_ns(self) -> int:
        """From session_start_ns (or the first frame) to the last frame, event or sample."""
        last = []
        if self._count:
            last.append(int(self.timestamps_ns[-1]))
        events = self._all_events()
        if len(events):
            last.append(int(events["t_ns"].max()))
        samples = self.state_samples()
        if len(samples):
            last.append(int(samples["t_ns"].max()))
        start = self.session_start_ns
        if not last or start is None:
            return 0
        return max(0, max(last) - start)

    def summary(self) -> Dict[str, Any]:
        """Everything ``inspect`` prints, as a JSON-ready dict."""
        attrs = self.attributes
        video = self.video_attributes
        n = self._count
        ts = self.timestamps_ns
        span = (int(ts[-1]) - int(ts[0])) if n > 1 else 0
        recorded_summary = None
        if attrs.get("summary_json"):
            try:
                recorded_summary = json.loads(attrs["summary_json"])
            except ValueError:
                recorded_summary = attrs["summary_json"]
        events = self._all_events()
        per_device: Dict[int, Dict[str, int]] = {}
        for device_id, event_type in zip(events["device"].tolist(), events["type"].tolist()):
            by_type = per_device.setdefault(device_id, {})
            name = event_type_name(event_type)
            by_type[name] = by_type.get(name, 0) + 1
        known = {d["id"]: d for d in self.devices}
        devices = []
        for device_id in sorted(set(known) | set(per_device)):
            info = known.get(device_id, {})
            by_type = per_device.get(device_id, {})
            devices.append({
                "id": device_id,
                "name": info.get("name", "?"),
                "kind": info.get("kind", ""),
                "path": info.get("path", ""),
                "events": sum(by_type.values()),
                "by_type": dict(sorted(by_type.items())),
            })
        samples = self.state_samples()
        notes = self.notes()
        note_kinds: Dict[str, int] = {}
        for note in notes:
            note_kinds[note["kind"]] = note_kinds.get(note["kind"], 0) + 1
        ratio = self.compression_ratio
        return {
            "path": self.path,
            "format": attrs.get("format"),
            "format_version": attrs.get("format_version"),
            "recorder_version": attrs.get("recorder_version", ""),
            "started_at_utc": attrs.get("started_at_utc", ""),
            "end_reason": attrs.get("end_reason", ""),
            "end_detail": attrs.get("end_detail", ""),
            "clean_shutdown": self.clean_shutdown,
            "live": self.swmr,
            "duration_s": self.duration_ns / 1e9,
            "video": {
                "frames": n,
                "width": self.width,
                "height": self.height,
                "fps": self.fps,
                "fps_achieved": (n - 1) / (span / 1e9) if span > 0 else None,
                "dropped_ticks": self.dropped_ticks,
                "codec": self.codec,
                "compression_level": video.get("compression_level"),
                "keyframe_interval": video.get("keyframe_interval"),
                "whole_frames": int(np.count_nonzero(self.references == -1)),
                "residual_frames": int(np.count_nonzero(self.references != -1)),
                "shifted_frames": int(np.count_nonzero(np.any(self.reference_shifts != 0, axis=1))),
                "fast_frames": int(np.count_nonzero(self.frame_flags & FRAME_FLAG_COMPRESSED_FAST)),
                "unfiltered_frames": int(np.count_nonzero(self.frame_flags & FRAME_FLAG_UNFILTERED)),
                "target": video.get("target", ""),
                "shared_memory": video.get("shared_memory"),
                "raw_bytes": self.raw_bytes,
                "stored_bytes": self.stored_bytes,
                "compression_ratio": ratio,
            },
            "input": {
                "events": int(len(events)),
                "devices": devices,
            },
            "state": {
                "samples": int(len(samples)),
                "rate_hz": self.state_rate_hz,
                "fields": self.state_fields,
            },
            "window_changes": len(self.window_changes()),
            "notes": len(notes),
            "note_kinds": dict(sorted(note_kinds.items())),
            "meta": self.meta,
            "recorded_summary": recorded_summary,
        }


