"""Reading one recorder session file (format_version 1 or 2, docs/FORMAT.md)."""

from __future__ import annotations

import os
import sys
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Tuple, Union

import hdf5plugin  # noqa: F401  registers the Zstandard (32015) and LZ4 (32004) filters
import h5py
import numpy as np

from .chunks import ChunkReader
from .sequence import FrameSequence, IntOrArray  # noqa: F401  IntOrArray: kept importable from here

FORMAT_NAME = "recorder-session"
SUPPORTED_FORMAT_VERSIONS = (1, 2)

#: Per-frame datasets under /video that share the frame axis.
_PER_FRAME = ("timestamp_ns", "tick", "reference", "cursor", "origin", "flags", "reference_shift")


def xor_displaced_into(target: np.ndarray, reference: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """Format 2's rule in place: ``target[y, x] ^= reference[y - dy, x - dx]`` where that pixel lies inside
    the image (outside, the displaced reference is zero and leaves ``target`` as it is). Returns ``target``."""
    height, width = target.shape[:2]
    if abs(dx) < width and abs(dy) < height:
        region = target[max(dy, 0):height + min(dy, 0), max(dx, 0):width + min(dx, 0)]
        np.bitwise_xor(region, reference[max(-dy, 0):height - max(dy, 0), max(-dx, 0):width - max(dx, 0)], out=region)
    return target


_EMPTY_EVENTS = np.dtype(
    [("t_ns", "<i8"), ("device", "<u2"), ("type", "<u2"), ("code", "<u2"), ("value", "<i4"), ("flags", "<u2")]
)
_EMPTY_SAMPLES = np.dtype([("t_ns", "<i8"), ("cursor_x", "<i4"), ("cursor_y", "<i4")])


class FormatError(ValueError):
    """The file is not a recorder session this reader understands, or it is inconsistent."""


def _decode(value: Any) -> Any:
    """Attribute or compound value as plain Python: bytes to str, numpy scalars to int/float."""
    if isinstance(value, bytes):
        return value.rstrip(b"\0").decode("utf-8", errors="replace")
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "SO":
            return [_decode(v) for v in value.tolist()]
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _rows_as_dicts(array: np.ndarray) -> List[Dict[str, Any]]:
    names = array.dtype.names or ()
    return [{name: _decode(row[name]) for name in names} for row in array]


def _open_live(path: str) -> h5py.File:
    """Open a file being recorded as a SWMR reader, without HDF5's file lock where the library
    allows: the recorder reopens a file to seal it (each part of a split session, at its rollover),
    and a reader's shared lock would make that fail."""
    try:
        return h5py.File(path, "r", swmr=True, locking=False)
    except (TypeError, ValueError):  # h5py < 3.5 or an HDF5 without H5Pset_file_locking
        return h5py.File(path, "r", swmr=True)


class Session(FrameSequence):
    """One session file, finished or still being recorded.

    ``Session(path, swmr=None)`` opens the file read-only. ``swmr=None`` detects a live recording:
    the file is opened in SWMR read mode when a plain open is refused (a writer holds it) or when
    ``clean_shutdown`` is not 1, so :meth:`refresh` can follow frames appended after opening.

    Frames: ``len(session)``, ``session.frame(i)`` / ``session[i]`` (an (H, W, 3) uint8 RGB array,
    read-only because it is shared with the decode cache), ``session[a:b]`` (a stacked array),
    ``for image in session``. Decoding applies the /video/reference rule with an LRU cache of
    decoded images, so sequential playback reads each stored chunk once.
    """

    def __init__(self, path: Union[str, os.PathLike], swmr: Optional[bool] = None, cache_size: int = 16):
        if cache_size < 1:
            raise ValueError("cache_size must be at least 1, got %d" % cache_size)
        self.path = os.fspath(path)
        self.cache_size = int(cache_size)
        self.file, self.swmr = self._open(self.path, swmr)
        try:
            self._check_format()
            self._load()
        except Exception:
            self.file.close()
            raise

    # ------------------------------------------------------------------ opening

    @staticmethod
    def _open(path: str, swmr: Optional[bool]) -> Tuple[h5py.File, bool]:
        if not os.path.exists(path):
            raise FileNotFoundError("no such session file: %s" % path)
        if swmr is True:
            return _open_live(path), True
        if swmr is False:
            return h5py.File(path, "r"), False
        try:
            plain = h5py.File(path, "r")
        except OSError:
            # A SWMR writer (or a killed one, before `recorder recover`) marks the file as open for
            # writing; only a SWMR reader may open it then.
            return _open_live(path), True
        if _decode(plain.attrs.get("clean_shutdown", 0)) == 1:
            return plain, False
        plain.close()
        try:
            return _open_live(path), True
        except OSError:
            return h5py.File(path, "r"), False

    def _check_format(self) -> None:
        fmt = _decode(self.file.attrs.get("format", ""))
        if fmt != FORMAT_NAME:
            raise FormatError("%s: root attribute format is %r, expected %r" % (self.path, fmt, FORMAT_NAME))
        version = _decode(self.file.attrs.get("format_version", 0))
        if version not in SUPPORTED_FORMAT_VERSIONS:
            raise FormatError("%s: format_version %r is not supported (this reader knows %s)"
                              % (self.path, version, ", ".join(map(str, SUPPORTED_FORMAT_VERSIONS))))
        if "video/frames" not in self.file:
            raise FormatError("%s: /video/frames is missing" % self.path)

    def _load(self) -> None:
        video = self.file["video"]
        self._frames = video["frames"]
        if self._frames.ndim != 4 or self._frames.shape[3] != 3 or self._frames.dtype != np.uint8:
            raise FormatError("%s: /video/frames must be uint8 (N,H,W,3), found %s %s"
                              % (self.path, self._frames.dtype, self._frames.shape))
        self._per_frame_datasets = {name: video[name] for name in _PER_FRAME if name in video}
        required_datasets = ("timestamp_ns", "tick", "reference")
        if _decode(self.file.attrs.get("format_version", 0)) >= 2:
            required_datasets += ("reference_shift",)
        for required in required_datasets:
            if required not in self._per_frame_datasets:
                raise FormatError("%s: /video/%s is missing" % (self.path, required))
        self._per_frame: Dict[str, np.ndarray] = {}
        for name, dataset in self._per_frame_datasets.items():
            self._per_frame[name] = np.empty((0,) + dataset.shape[1:], dtype=dataset.dtype)
        self._count = 0
        self._cache: "OrderedDict[int, np.ndarray]" = OrderedDict()
        # Images that left the cache and that nobody else holds, read into again: a fresh 6 MB array
        # costs ~1,500 page faults, more than decompressing a residual into it.
        self._spare: List[np.ndarray] = []
        self._chunks = ChunkReader(self._frames)
        self.chunk_reads = 0
        self._events: Optional[np.ndarray] = None
        self._events_sorted = True
        self._read_frame_tail()

    def _read_frame_tail(self) -> None:
        """Extend the in-memory per-frame arrays to the rows every per-frame dataset now holds."""
        count = self._frames.shape[0]
        for dataset in self._per_frame_datasets.values():
            count = min(count, dataset.shape[0])
        if count < self._count:
            raise FormatError("%s: the frame count shrank from %d to %d" % (self.path, self._count, count))
        if count > self._count:
            for name, dataset in self._per_frame_datasets.items():
                tail = dataset[self._count:count]
                self._per_frame[name] = np.concatenate([self._per_frame[name], tail])
                self._per_frame[name].flags.writeable = False
            self._count = count

    def refresh(self) -> int:
        """Re-read dataset extents (live recording) and return the number of frames now readable.

        Only frames present in every per-frame dataset count, so a writer that has extended
        /video/frames but not yet /video/timestamp_ns is never read half-way. On a file opened
        without SWMR there is nothing new to see and the count stays.
        """
        if self.swmr:
            self._frames.refresh()
            for dataset in self._per_frame_datasets.values():
                dataset.refresh()
            for name in ("input/events",):
                if name in self.file:
                    self.file[name].refresh()
        self._read_frame_tail()
        if self._events is not None:
            self._read_events_tail()
        return self._count

    def close(self) -> None:
        self._cache.clear()
        self.file.close()

    def __repr__(self) -> str:
        return "<recorder_reader.Session %r: %d frames %dx%d%s>" % (
            self.path, self._count, self.width, self.height, " (live)" if self.swmr else "")

    # ------------------------------------------------------------------ attributes

    @property
    def attributes(self) -> Dict[str, Any]:
        """Root attributes as plain Python values (str, int)."""
        return {key: _decode(value) for key, value in self.file.attrs.items()}

    @property
    def video_attributes(self) -> Dict[str, Any]:
        return {key: _decode(value) for key, value in self.file["video"].attrs.items()}

    @property
    def meta(self) -> Dict[str, Any]:
        """The ``--meta KEY=VALUE`` pairs (attributes of /meta)."""
        if "meta" not in self.file:
            return {}
        return {key: _decode(value) for key, value in self.file["meta"].attrs.items()}

    def _attr(self, name: str, default: Any = None) -> Any:
        return _decode(self.file.attrs.get(name, default))

    @property
    def clean_shutdown(self) -> bool:
        return self._attr("clean_shutdown", 0) == 1

    @property
    def end_reason(self) -> str:
        return self._attr("end_reason", "") or ""

    @property
    def mono_to_utc_ns(self) -> int:
        return int(self._attr("mono_to_utc_ns", 0))

    @property
    def session_start_ns(self) -> Optional[int]:
        value = self._attr("session_start_ns")
        if value is not None:
            return int(value)
        return int(self._per_frame["timestamp_ns"][0]) if self._count else None

    @property
    def width(self) -> int:
        return int(self._frames.shape[2])

    @property
    def height(self) -> int:
        return int(self._frames.shape[1])

    @property
    def fps(self) -> float:
        """The capture rate the session asked for (see :meth:`summary` for the achieved rate)."""
        return float(_decode(self.file["video"].attrs.get("fps", 0)) or 0)

    @property
    def codec(self) -> str:
        return str(_decode(self.file["video"].attrs.get("codec", "")) or "")

    # ------------------------------------------------------------------ frames

    def _read_stored(self, i: int) -> np.ndarray:
        """Read and decompress one stored chunk (a whole image or an XOR residual) into a writable array."""
        self.chunk_reads += 1
        if self._spare:
            buffer = self._spare.pop()
            buffer.flags.writeable = True
        else:
            buffer = np.empty(self._frames.shape[1:], dtype=np.uint8)
        return self._chunks.read_into(self._frames, i, buffer)

    def _release(self, image: np.ndarray) -> None:
        """Keeps an image that left the cache for a later read, unless the caller still holds it (or a view)."""
        # References: the caller's variable and getrefcount's argument.
        if len(self._spare) < self.cache_size and image.base is None and sys.getrefcount(image) <= 2:
            self._spare.append(image)

    def _remember(self, i: int, image: np.ndarray) -> np.ndarray:
        image.flags.writeable = False
        self._cache[i] = image
        self._cache.move_to_end(i)
        while len(self._cache) > self.cache_size:
            self._release(self._cache.popitem(last=False)[1])
        return image

    def frame(self, i: int) -> np.ndarray:
        """Image of frame ``i`` (negative counts from the end) as read-only (H, W, 3) uint8 RGB."""
        i = self._index(i)
        cached = self._cache.get(i)
        if cached is not None:
            self._cache.move_to_end(i)
            return cached
        references = self._per_frame["reference"]
        chain = []  # frames to XOR forward, newest first
        j = i
        while j not in self._cache and references[j] != -1:
            ref = int(references[j])
            if not 0 <= ref < j:
                raise FormatError("%s: /video/reference[%d] = %d, expected -1 or 0..%d"
                                  % (self.path, j, ref, j - 1))
            chain.append(j)
            j = ref
        if j in self._cache:
            image = self._cache[j]
            self._cache.move_to_end(j)
        else:
            image = self._remember(j, self._read_stored(j))
        shifts = self._per_frame.get("reference_shift")
        for k in reversed(chain):
            # The chunk just read is a fresh array: XOR the reference into it where it lands.
            dx, dy = (0, 0) if shifts is None else (int(shifts[k][0]), int(shifts[k][1]))
            image = self._remember(k, xor_displaced_into(self._read_stored(k), image, dx, dy))
        return image

    def cache_info(self) -> Dict[str, int]:
        return {"cached_frames": len(self._cache), "cache_size": self.cache_size, "chunk_reads": self.chunk_reads}

    def clear_cache(self) -> None:
        while self._cache:
            self._release(self._cache.popitem()[1])

    # ------------------------------------------------------------------ input

    def _read_events_tail(self) -> None:
        if "input/events" not in self.file:
            if self._events is None:
                self._events = np.empty(0, dtype=_EMPTY_EVENTS)
            return
        dataset = self.file["input/events"]
        if self._events is None or len(self._events) == 0:
            self._events = dataset[:]
        elif dataset.shape[0] > len(self._events):
            self._events = np.concatenate([self._events, dataset[len(self._events):]])
        self._events.flags.writeable = False
        t = self._events["t_ns"]
        self._events_sorted = bool(len(t) < 2 or np.all(t[1:] >= t[:-1]))

    def _all_events(self) -> np.ndarray:
        if self._events is None:
            self._read_events_tail()
        return self._events  # type: ignore[return-value]

    @property
    def devices(self) -> List[Dict[str, Any]]:
        """One dict per input device: the /input/devices row plus ``capabilities``
        ({type: [codes]}) and ``keys_held_at_start`` ([codes])."""
        if "input/devices" not in self.file:
            return []
        devices = _rows_as_dicts(self.file["input/devices"][:])
        capabilities = self.file["input/capabilities"][:] if "input/capabilities" in self.file else None
        held = self.file["input/keys_held_at_start"][:] if "input/keys_held_at_start" in self.file else None
        for device in devices:
            caps: Dict[int, List[int]] = {}
            if capabilities is not None:
                for row in capabilities[capabilities["device"] == device["id"]]:
                    caps.setdefault(int(row["type"]), []).append(int(row["code"]))
            device["capabilities"] = {t: sorted(codes) for t, codes in sorted(caps.items())}
            device["keys_held_at_start"] = (
                sorted(int(c) for c in held[held["device"] == device["id"]]["code"]) if held is not None else [])
        return devices

    def abs_info(self) -> np.ndarray:
        """/input/abs_info as a structured array (device, code, min, max, fuzz, flat, resolution,
        value at open); empty for files written before it existed."""
        if "input/abs_info" not in self.file:
            return np.empty(0, dtype=[("device", "<u2"), ("code", "<u2"), ("min", "<i4"), ("max", "<i4"), ("fuzz", "<i4"),
                                      ("flat", "<i4"), ("resolution", "<i4"), ("value", "<i4")])
        return self.file["input/abs_info"][:]

    # ------------------------------------------------------------------ state, window, notes

    def _all_samples(self) -> np.ndarray:
        if "state/samples" not in self.file:
            return np.empty(0, dtype=_EMPTY_SAMPLES)
        dataset = self.file["state/samples"]
        if self.swmr:
            dataset.refresh()
        return dataset[:]

    @property
    def state_rate_hz(self) -> Optional[float]:
        """/state's ``rate_hz`` attribute (None when the file has no /state)."""
        return _decode(self.file["state"].attrs.get("rate_hz")) if "state" in self.file else None

    @property
    def state_fields(self) -> List[str]:
        """Names of the probe fields of /state/samples (without t_ns and the cursor)."""
        if "state/samples" not in self.file:
            return []
        names = self.file["state/samples"].dtype.names or ()
        return [n for n in names if n not in ("t_ns", "cursor_x", "cursor_y")]

    def _table(self, name: str) -> List[Dict[str, Any]]:
        if name not in self.file:
            return []
        dataset = self.file[name]
        if self.swmr:
            dataset.refresh()
        return _rows_as_dicts(dataset[:])

    def window_changes(self) -> List[Dict[str, Any]]:
        """The focused window, one dict per change (t_ns, window_id, title, wm_class, pid, x, y, width, height)."""
        return self._table("state/window")

    def notes(self) -> List[Dict[str, Any]]:
        """/log/notes as dicts (t_ns, source, kind, message)."""
        return self._table("log/notes")

    # ------------------------------------------------------------------ annotations

    def annotation_sets(self) -> List[str]:
        """Names of the label sets under /annotations (written by `recorder labels import`)."""
        from .labels import annotation_sets

        return annotation_sets(self.file)

    def annotations(self, name: str) -> List[Dict[str, Any]]:
        """Rows of /annotations/NAME: t_start_ns, t_end_ns, label, frame_start, frame_end, attrs (dict).

        ``frame_start``/``frame_end`` are the frames on screen at both ends, so the labels of frame i
        are the rows with ``frame_start <= i <= frame_end``. Raises KeyError for an unknown set.
        """
        from .labels import read_annotations

        return read_annotations(self.file, name)

    # ------------------------------------------------------------------ summary

    @property
    def stored_bytes(self) -> int:
        """Bytes the frame chunks take in the file (after compression)."""
        return int(self._frames.id.get_storage_size())


def open(path: Union[str, os.PathLike], swmr: Optional[bool] = None, cache_size: int = 16) -> Session:  # noqa: A001
    """Open a session file; see :class:`Session`."""
    return Session(path, swmr=swmr, cache_size=cache_size)
