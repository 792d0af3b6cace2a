"""Test fixture: writes session files in the exact docs/FORMAT.md layout with h5py + hdf5plugin.

Not part of the package. Stands in for the Swift writer so the reader can be tested on its own:
chunked, extendible datasets (maxshape None) in a libver="latest" file, frames chunked (1,H,W,3)
through the Zstandard / LZ4 filter, whole frames and XOR residuals on a reference chain.

Run as a script it is a SWMR writer driven over stdin (one command per line):
    python3 make_session.py --swmr-writer PATH H W CODEC KEYFRAME_INTERVAL [FIRST [ATTRS_JSON]]
    "append N"  appends N frames (scene_image(i), tick i, i from FIRST (0) on) plus one key event per
                frame, flushes, prints "ok COUNT"; ATTRS_JSON: extra root attributes (a split part's)
    "finish"    seals the file (end_reason "stopped", clean_shutdown 1), prints "done"
"""

from __future__ import annotations

import json
import sys
from typing import Dict, Iterable, List, Optional, Sequence

import hdf5plugin
import h5py
import numpy as np

EVENT_DTYPE = np.dtype([("t_ns", "<i8"), ("device", "<u2"), ("type", "<u2"), ("code", "<u2"),
                        ("value", "<i4"), ("flags", "<u2")])
DEVICE_DTYPE = np.dtype([("id", "<u2"), ("name", "S128"), ("path", "S256"), ("bus", "<u2"), ("vendor", "<u2"),
                         ("product", "<u2"), ("version", "<u2"), ("phys", "S128"), ("uniq", "S128"),
                         ("kind", "S16"), ("first_seen_ns", "<i8")])
CAPABILITY_DTYPE = np.dtype([("device", "<u2"), ("type", "<u2"), ("code", "<u2")])
KEY_HELD_DTYPE = np.dtype([("device", "<u2"), ("code", "<u2")])
WINDOW_DTYPE = np.dtype([("t_ns", "<i8"), ("window_id", "<u8"), ("title", "S256"), ("wm_class", "S128"),
                         ("pid", "<i4"), ("x", "<i4"), ("y", "<i4"), ("width", "<i4"), ("height", "<i4")])
NOTE_DTYPE = np.dtype([("t_ns", "<i8"), ("source", "S16"), ("kind", "S32"), ("message", "S256")])

START_NS = 1_000_000_000_000  # CLOCK_MONOTONIC of tick 0
MONO_TO_UTC_NS = 1_795_000_000_000_000_000 - START_NS  # tick 0 at 2026-11-18T11:06:40Z


def samples_dtype(fields: Sequence[str]) -> np.dtype:
    return np.dtype([("t_ns", "<i8"), ("cursor_x", "<i4"), ("cursor_y", "<i4")] + [(f, "<f4") for f in fields])


def scene_image(i: int, height: int, width: int) -> np.ndarray:
    """Deterministic RGB frame i of a moving scene: gradient, a moving square, noise that changes every 4 frames."""
    y, x = np.mgrid[0:height, 0:width]
    image = np.empty((height, width, 3), dtype=np.uint8)
    image[..., 0] = (x * 255 // max(1, width - 1)).astype(np.uint8)
    image[..., 1] = (y * 255 // max(1, height - 1)).astype(np.uint8)
    image[..., 2] = 64
    side = max(2, min(height, width) // 4)
    top, left = (i * 3) % max(1, height - side), (i * 5) % max(1, width - side)
    image[top:top + side, left:left + side] = (250, 250, 20)
    rng = np.random.default_rng(i // 4)
    patch = rng.integers(0, 256, size=(max(1, height // 8), max(1, width // 8), 3), dtype=np.uint8)
    image[-patch.shape[0]:, -patch.shape[1]:] = patch
    return image


def references_for(count: int, keyframe_interval: int, mode: str = "chain") -> np.ndarray:
    """-1 on every keyframe_interval-th frame; else the previous frame ("chain") or the last keyframe ("key")."""
    refs = np.full(count, -1, dtype=np.int64)
    if keyframe_interval > 1:
        for i in range(count):
            if i % keyframe_interval:
                refs[i] = i - 1 if mode == "chain" else i - i % keyframe_interval
    return refs


def _filter(codec: str) -> Dict[str, object]:
    if codec == "zstd":
        return dict(hdf5plugin.Zstd(clevel=3))
    if codec == "lz4":
        return dict(hdf5plugin.LZ4())
    if codec == "none":
        return {}
    raise ValueError("unknown codec %r" % codec)


class SessionWriter:
    """Creates every object of the layout up front (SWMR forbids creating objects later), then appends."""

    def __init__(self, path: str, height: int, width: int, codec: str = "zstd", keyframe_interval: int = 1,
                 fps: int = 60, state_fields: Sequence[str] = ("hp", "mana"), meta: Optional[Dict[str, str]] = None,
                 devices: Optional[List[tuple]] = None):
        self.path = path
        self.height, self.width = height, width
        self.codec = codec
        self.keyframe_interval = keyframe_interval
        self.images: List[np.ndarray] = []
        f = self.file = h5py.File(path, "w", libver="latest")
        f.attrs["format"] = "recorder-session"
        f.attrs["format_version"] = np.int64(1)
        f.attrs["started_at_utc"] = "2026-11-18T11:06:40.000Z"
        f.attrs["mono_to_utc_ns"] = np.int64(MONO_TO_UTC_NS)
        f.attrs["session_start_ns"] = np.int64(START_NS)
        f.attrs["end_reason"] = ""
        f.attrs["end_detail"] = ""
        f.attrs["clean_shutdown"] = np.int64(0)
        f.attrs["recorder_version"] = "test-fixture"
        f.attrs["options_json"] = json.dumps({"fps": fps, "codec": codec, "keyframe_interval": keyframe_interval})
        f.attrs["summary_json"] = ""

        video = f.create_group("video")
        for key, value in (("fps", np.int64(fps)), ("width", np.int64(width)), ("height", np.int64(height)),
                           ("codec", codec), ("compression_level", np.int64(3 if codec == "zstd" else 0)),
                           ("keyframe_interval", np.int64(keyframe_interval)), ("target", "screen"),
                           ("shared_memory", np.int64(1)), ("pixel_format", "RGB")):
            video.attrs[key] = value
        video.create_dataset("frames", shape=(0, height, width, 3), maxshape=(None, height, width, 3),
                             chunks=(1, height, width, 3), dtype=np.uint8, **_filter(codec))
        for name, dtype in (("timestamp_ns", "<i8"), ("tick", "<i8"), ("reference", "<i8"), ("flags", "<u4")):
            video.create_dataset(name, shape=(0,), maxshape=(None,), chunks=(1024,), dtype=dtype)
        for name in ("cursor", "origin"):
            video.create_dataset(name, shape=(0, 2), maxshape=(None, 2), chunks=(1024, 2), dtype="<i4")

        input_group = f.create_group("input")
        input_group.attrs["sources"] = json.dumps(["replay:test"])
        input_group.attrs["redact_keys"] = np.int64(0)
        input_group.attrs["input_focus"] = ""
        input_group.create_dataset("events", shape=(0,), maxshape=(None,), chunks=(4096,), dtype=EVENT_DTYPE)
        if devices is None:
            devices = [(0, b"Test Keyboard", b"/dev/input/event3", 3, 0x1234, 0x0001, 1, b"usb-1/input0", b"", b"keyboard", START_NS),
                       (1, b"Test Mouse", b"/dev/input/event4", 3, 0x1234, 0x0002, 1, b"usb-2/input0", b"", b"mouse", START_NS + 5)]
        input_group.create_dataset("devices", data=np.array(devices, dtype=DEVICE_DTYPE), maxshape=(None,), chunks=(64,))
        capabilities = [(0, 1, 30), (0, 1, 31), (0, 1, 32), (0, 0, 0), (1, 2, 0), (1, 2, 1), (1, 1, 272), (1, 0, 0)]
        input_group.create_dataset("capabilities", data=np.array(capabilities, dtype=CAPABILITY_DTYPE),
                                   maxshape=(None,), chunks=(256,))
        input_group.create_dataset("keys_held_at_start", data=np.array([(0, 42)], dtype=KEY_HELD_DTYPE),
                                   maxshape=(None,), chunks=(64,))

        state = f.create_group("state")
        state.attrs["rate_hz"] = np.int64(5)
        state.attrs["probes_json"] = json.dumps([{"name": n, "kind": "bar"} for n in state_fields])
        state.attrs["probe_config"] = ""
        state.create_dataset("samples", shape=(0,), maxshape=(None,), chunks=(256,), dtype=samples_dtype(state_fields))
        state.create_dataset("window", shape=(0,), maxshape=(None,), chunks=(64,), dtype=WINDOW_DTYPE)
        log = f.create_group("log")
        log.create_dataset("notes", shape=(0,), maxshape=(None,), chunks=(64,), dtype=NOTE_DTYPE)
        meta_group = f.create_group("meta")
        for key, value in (meta or {}).items():
            meta_group.attrs[key] = value

    def start_swmr(self) -> None:
        self.file.swmr_mode = True

    @staticmethod
    def _append(dataset: h5py.Dataset, rows: np.ndarray) -> None:
        if len(rows) == 0:
            return
        start = dataset.shape[0]
        dataset.resize(start + len(rows), axis=0)
        dataset[start:] = rows

    def append_frames(self, images: Iterable[np.ndarray], timestamps: Sequence[int], ticks: Sequence[int],
                      cursors: Optional[Sequence[Sequence[int]]] = None, reference_mode: str = "chain") -> None:
        video = self.file["video"]
        for k, (image, t_ns, tick) in enumerate(zip(images, timestamps, ticks)):
            i = len(self.images)
            if self.keyframe_interval > 1 and i % self.keyframe_interval:
                ref = i - 1 if reference_mode == "chain" else i - i % self.keyframe_interval
                stored = np.bitwise_xor(self.images[ref], image)
            else:
                ref, stored = -1, image
            self.images.append(np.array(image, dtype=np.uint8))
            # Per-frame arrays first, the frame chunk last, as the reader counts a frame only when all are there.
            self._append(video["timestamp_ns"], np.array([t_ns], dtype="<i8"))
            self._append(video["tick"], np.array([tick], dtype="<i8"))
            self._append(video["reference"], np.array([ref], dtype="<i8"))
            cursor = cursors[k] if cursors is not None else (i % self.width, i % self.height)
            self._append(video["cursor"], np.array([cursor], dtype="<i4"))
            self._append(video["origin"], np.zeros((1, 2), dtype="<i4"))
            self._append(video["flags"], np.zeros(1, dtype="<u4"))
            self._append(video["frames"], stored[np.newaxis])

    def append_rows(self, name: str, rows: Sequence[tuple]) -> None:
        dataset = self.file[name]
        self._append(dataset, np.array(list(rows), dtype=dataset.dtype))

    def flush(self) -> None:
        self.file.flush()

    def finish(self, end_reason: str = "duration", clean: bool = True) -> None:
        if clean:
            # Sealing rewrites existing attributes in place (allowed in SWMR write mode), then closes.
            self.file.attrs["end_reason"] = end_reason
            self.file.attrs["clean_shutdown"] = np.int64(1)
            self.file.attrs["summary_json"] = json.dumps({"frames": len(self.images)})
            if "part_final" in self.file.attrs:  # a split session's part: this one is the last
                self.file.attrs["part_final"] = np.int64(1)
        self.file.close()


def displaced(image, dx, dy):
    """Reference rule of format 2, written out pixel by pixel: out[y, x] = image[y - dy, x - dx] or 0."""
    height, width = image.shape[:2]
    out = np.zeros_like(image)
    for y in range(height):
        for x in range(width):
            if 0 <= y - dy < height and 0 <= x - dx < width:
                out[y, x] = image[y - dy, x - dx]
    return out


def write_panning_session(path, shifts, mode):
    """A format 2 file of a view panning over a random texture: frame i shows the texture from
    offset shifts[i]; residuals are XORed with their reference displaced by the motion."""
    count, height, width = len(shifts), 24, 32
    texture = np.random.default_rng(5).integers(0, 256, size=(height + 40, width + 40, 3), dtype=np.uint8)
    images = [texture[20 + oy:20 + oy + height, 20 + ox:20 + ox + width].copy() for ox, oy in shifts]
    write_session(path, count=count, height=height, width=width, keyframe_interval=count + 1, reference_mode=mode)
    with h5py.File(path, "r+") as f:
        refs = f["video/reference"][:]
        motion = np.zeros((count, 2), dtype=np.int32)
        for i in range(count):
            if refs[i] >= 0:
                (rx, ry), (ox, oy) = shifts[refs[i]], shifts[i]
                motion[i] = (rx - ox, ry - oy)
                f["video/frames"][i] = np.bitwise_xor(images[i], displaced(images[refs[i]], rx - ox, ry - oy))
            else:
                f["video/frames"][i] = images[i]
        f["video"].create_dataset("reference_shift", data=motion, maxshape=(None, 2), chunks=(1024, 2))
        f.attrs["format_version"] = np.int64(2)
    return images, motion


def write_session(path: str, count: int = 20, height: int = 48, width: int = 64, codec: str = "zstd",
                  keyframe_interval: int = 1, reference_mode: str = "chain", fps: int = 60,
                  ticks: Optional[Sequence[int]] = None, timestamps: Optional[Sequence[int]] = None,
                  events: Sequence[tuple] = (), samples: Sequence[tuple] = (), windows: Sequence[tuple] = (),
                  notes: Sequence[tuple] = (), meta: Optional[Dict[str, str]] = None,
                  clean: bool = True) -> List[np.ndarray]:
    """Write a finished session of ``count`` scene frames; returns the images as encoded."""
    images = [scene_image(i, height, width) for i in range(count)]
    ticks = list(range(count)) if ticks is None else list(ticks)
    period = round(1e9 / fps)
    timestamps = [START_NS + t * period + 137 for t in ticks] if timestamps is None else list(timestamps)
    writer = SessionWriter(path, height, width, codec, keyframe_interval, fps, meta=meta)
    writer.append_frames(images, timestamps, ticks, reference_mode=reference_mode)
    writer.append_rows("input/events", events)
    writer.append_rows("state/samples", samples)
    writer.append_rows("state/window", windows)
    writer.append_rows("log/notes", notes)
    writer.finish(clean=clean)
    return images


def _swmr_writer_main(argv: List[str]) -> int:
    path, height, width, codec, keyframe_interval = argv[0], int(argv[1]), int(argv[2]), argv[3], int(argv[4])
    offset = int(argv[5]) if len(argv) > 5 else 0
    writer = SessionWriter(path, height, width, codec, keyframe_interval)
    for key, value in (json.loads(argv[6]) if len(argv) > 6 else {}).items():
        writer.file.attrs[key] = np.int64(value) if isinstance(value, int) else value
    writer.start_swmr()
    period = round(1e9 / 60)
    print("ready", flush=True)
    for line in sys.stdin:
        command = line.split()
        if command[:1] == ["append"]:
            first = offset + len(writer.images)
            indices = range(first, first + int(command[1]))
            writer.append_frames([scene_image(i, height, width) for i in indices],
                                 [START_NS + i * period for i in indices], list(indices))
            writer.append_rows("input/events", [(START_NS + i * period + 1000, 0, 1, 30, 1, 0) for i in indices])
            writer.flush()
            print("ok %d" % (offset + len(writer.images)), flush=True)
        elif command[:1] == ["finish"]:
            writer.finish("stopped")
            print("done", flush=True)
            return 0
    return 1


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--swmr-writer":
        sys.exit(_swmr_writer_main(sys.argv[2:]))
    print(__doc__)
