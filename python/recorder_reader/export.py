"""Exports of a sealed session for annotation tools: mp4, lossless Matroska, Rerun .rrd, Label Studio folder.

Frames are decoded one at a time with the reader's cache and handed to the encoder at once, so an
export holds a few images, never the session. Encoding uses PyAV (FFmpeg's libraries in-process):
it sets each frame's pts directly, which the lossless target needs (pts from ``timestamp_ns``) and a
pipe of raw RGB into the ffmpeg program cannot carry.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from fractions import Fraction
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from .evdev import EV_ABS, EV_KEY, EV_REL, event_code_name
from .progress import Progress
from .parts import open_any
from .sequence import FrameSequence
from .session import FormatError

TARGETS = ("mp4", "lossless", "rerun", "label-studio")

#: Matroska stores timestamps in milliseconds (its default TimestampScale of 1 ms).
LOSSLESS_TIME_BASE = Fraction(1, 1000)
#: Lossless codecs of the `lossless` target. The default, libx264rgb at qp 0, predicts between frames:
#: on 1080p OpenTTD it wrote 22x fewer bytes than intra-only FFV1, 10x faster (docs/ANNOTATION.md).
LOSSLESS_CODECS = ("libx264rgb", "ffv1")


class ExportError(Exception):
    """An export cannot be made (a file still being recorded, a damaged frame, a missing tool)."""


def _require(module: str, purpose: str, pip_name: str) -> Any:
    try:
        return __import__(module)
    except ImportError:
        raise ExportError("%s needs the Python package %s: pip install %s" % (purpose, pip_name, pip_name)) from None


def open_sealed(path: str) -> FrameSequence:
    """Open a session that is finished: sealed by a clean end, or by `recorder recover`; a split
    session's manifest opens its parts as one sequence (every part there, the last one final).

    A file still being recorded (or left by a killed recorder) grows or lacks its last second;
    exporting it would silently cut it short, so it is refused with what to do instead.
    """
    try:
        session = open_any(path)
    except (OSError, FormatError) as error:
        raise ExportError("%s cannot be read as a session: %s" % (path, error)) from None
    end_reason = session.end_reason
    if not session.clean_shutdown and end_reason != "recovered":
        session.close()
        raise ExportError("%s is still being recorded, or was left by a killed recorder (clean_shutdown=0, "
                          "end_reason %r): wait for the session to end, or run `recorder recover %s` first"
                          % (path, end_reason, path))
    if len(session) == 0:
        session.close()
        raise ExportError("%s holds no frames" % path)
    if session.fps <= 0:
        session.close()
        raise ExportError("%s: /video attribute fps is %r, expected a positive rate" % (path, session.fps))
    return session


def _frame(session: FrameSequence, i: int) -> np.ndarray:
    try:
        return session.frame(i)
    except (OSError, FormatError, ValueError) as error:
        raise ExportError("%s: frame %d cannot be decoded (%s); the file is damaged"
                          % (session.path, i, error)) from None


def tick_frames(session: FrameSequence) -> Iterator[Tuple[int, int]]:
    """``(tick, stored frame index)`` for every tick from 0 to the last stored tick.

    The frame shown at tick t is the last stored frame whose tick is <= t (a dropped tick repeats
    the previous image); ticks before the first stored frame show the first frame.
    """
    ticks = session.ticks
    last = int(ticks[-1])
    if last < 0 or np.any(np.diff(ticks) <= 0):
        raise ExportError("%s: /video/tick is not strictly increasing from 0" % session.path)
    i = 0
    n = len(ticks)
    for t in range(last + 1):
        while i + 1 < n and ticks[i + 1] <= t:
            i += 1
        yield t, i


def _even(image: np.ndarray) -> np.ndarray:
    """yuv420p needs even dimensions: repeat the last row/column when one is odd."""
    h, w = image.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return image
    return np.pad(image, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")


#: What a label-studio export folder holds; only such a folder is replaced by a new export.
FOLDER_FILES = frozenset(("video.mp4", "series.csv", "config.xml", "tasks.json"))


class _AtomicOutput:
    """Writes go to ``PATH.partial`` (a file or a folder); it becomes PATH only when the export succeeded.

    An existing file at PATH is replaced; an existing folder only when it is an earlier label-studio
    export (nothing but FOLDER_FILES in it), so a mistyped --output never deletes someone's folder.
    """

    def __init__(self, path: str, folder: bool = False):
        self.path = os.path.abspath(path)
        self.partial = self.path + ".partial"
        self.folder = folder

    def __enter__(self) -> str:
        parent = os.path.dirname(self.path)
        if not os.path.isdir(parent):
            raise ExportError("the output folder %s does not exist" % parent)
        for path in (self.path, self.partial):
            if os.path.isdir(path) and not os.path.islink(path):
                if not self.folder or not set(os.listdir(path)) <= FOLDER_FILES:
                    raise ExportError("%s is a folder that is not an earlier label-studio export; "
                                      "choose another --output" % path)
        self._remove(self.partial)
        return self.partial

    @staticmethod
    def _remove(path: str) -> None:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        elif os.path.lexists(path):
            os.unlink(path)

    def __exit__(self, kind: Any, *rest: Any) -> None:
        if kind is not None:
            self._remove(self.partial)
            return
        if os.path.isdir(self.path) and not os.path.islink(self.path):
            shutil.rmtree(self.path)
        os.replace(self.partial, self.path)


# ---------------------------------------------------------------------------------------- mp4

def write_mp4(session: FrameSequence, path: str, crf: int = 18, preset: str = "veryfast",
              progress: Optional[Progress] = None) -> int:
    """H.264 yuv420p at the session fps, one video frame per tick from 0; returns the frames written."""
    av = _require("av", "the mp4 export", "av")
    fps = int(round(session.fps))
    ticks = int(session.ticks[-1]) + 1
    progress = progress or Progress("mp4", ticks)
    container = av.open(path, mode="w", format="mp4")
    try:
        stream = container.add_stream("libx264", rate=fps)
        stream.width = session.width + session.width % 2
        stream.height = session.height + session.height % 2
        stream.pix_fmt = "yuv420p"
        # One keyframe a second keeps seeking in a browser player quick.
        stream.options = {"crf": str(crf), "preset": preset, "g": str(fps)}
        written = 0
        for tick, i in tick_frames(session):
            frame = av.VideoFrame.from_ndarray(_even(_frame(session, i)), format="rgb24")
            frame.pts = tick  # in the codec's time base, 1/fps
            for packet in stream.encode(frame):
                container.mux(packet)
            written += 1
            progress.advance()
        for packet in stream.encode():
            container.mux(packet)
    finally:
        container.close()
    return written


def export_mp4(session: FrameSequence, output: str) -> Dict[str, Any]:
    with _AtomicOutput(output) as partial:
        progress = Progress("mp4", int(session.ticks[-1]) + 1)
        frames = write_mp4(session, partial, progress=progress)
        seconds = progress.done()
    return {"target": "mp4", "output": os.path.abspath(output), "frames": frames, "fps": session.fps,
            "seconds": seconds}


# ---------------------------------------------------------------------------------------- lossless

def write_lossless(session: FrameSequence, path: str, codec: str = "libx264rgb", progress: Optional[Progress] = None) -> int:
    """Matroska whose video decodes to exactly the stored RGB images, one per stored frame, pts in ms from tick 0.

    FFV1 codes RGB (as bgr0, the padding byte unused) bit-exactly; libx264rgb at qp 0 codes rgb24 losslessly. The
    pts is ``(timestamp_ns - session_start_ns)`` rounded to Matroska's millisecond, kept strictly
    increasing.
    """
    av = _require("av", "the lossless export", "av")
    if codec not in LOSSLESS_CODECS:
        raise ExportError("lossless codec %r is not one of %s" % (codec, ", ".join(LOSSLESS_CODECS)))
    start = session.session_start_ns or int(session.timestamps_ns[0])
    container = av.open(path, mode="w", format="matroska")
    progress = progress or Progress("lossless", len(session))
    try:
        stream = container.add_stream(codec, rate=int(round(session.fps)))
        stream.width = session.width
        stream.height = session.height
        stream.codec_context.time_base = LOSSLESS_TIME_BASE
        if codec == "ffv1":
            stream.pix_fmt = "bgr0"
            # Range coder with the adaptive context model, slices with CRCs: smaller and verifiable.
            stream.options = {"level": "3", "coder": "1", "context": "1", "slicecrc": "1", "g": "1"}
        else:
            stream.pix_fmt = "rgb24"
            stream.options = {"qp": "0", "preset": "ultrafast"}
        last_pts = -1
        for i, timestamp in enumerate(session.timestamps_ns.tolist()):
            image = _frame(session, i)
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
            if codec == "ffv1":
                frame = frame.reformat(format="bgr0")
            pts = max(last_pts + 1, int(round((timestamp - start) / 1e6)))
            frame.pts = pts
            frame.time_base = LOSSLESS_TIME_BASE
            last_pts = pts
            for packet in stream.encode(frame):
                container.mux(packet)
            progress.advance()
        for packet in stream.encode():
            container.mux(packet)
    finally:
        container.close()
    return len(session)


def export_lossless(session: FrameSequence, output: str, codec: str = "libx264rgb") -> Dict[str, Any]:
    with _AtomicOutput(output) as partial:
        progress = Progress("lossless", len(session))
        frames = write_lossless(session, partial, codec=codec, progress=progress)
        seconds = progress.done()
    return {"target": "lossless", "codec": codec, "output": os.path.abspath(output), "frames": frames,
            "seconds": seconds}


# ---------------------------------------------------------------------------------------- input series

def _device_names(session: FrameSequence) -> Dict[int, str]:
    return {int(d["id"]): str(d.get("name", "")) for d in session.devices}


def keys_held(events: np.ndarray) -> np.ndarray:
    """Number of keys/buttons held after each EV_KEY event (press +1, release -1, autorepeat 0)."""
    step = np.where(events["value"] == 1, 1, np.where(events["value"] == 0, -1, 0))
    return np.maximum(np.cumsum(step), 0)


def input_series_per_tick(session: FrameSequence, ticks: int) -> Dict[str, np.ndarray]:
    """Input per video tick (tick t covers session time [t/fps, (t+1)/fps)), from :meth:`Session.actions`'s rules.

    Columns: ``keys_held`` and ``buttons_held`` (keyboard keys / mouse buttons down during the tick),
    ``rel_x``, ``rel_y``, ``wheel``, ``hwheel`` (sums over the tick), and ``devD_ABS_*`` (each absolute
    axis at the tick's end, normalised by /input/abs_info).
    """
    from .actions import compute_actions

    start = session.session_start_ns or int(session.timestamps_ns[0])
    tick_starts = start + np.round(np.arange(ticks) * 1e9 / session.fps).astype(np.int64)
    actions = compute_actions(tick_starts, session.events(), session._keys_held_at_start(), session.abs_info())
    columns = {
        "keys_held": actions.keys.sum(axis=1).astype(np.float64),
        "buttons_held": actions.buttons.sum(axis=1).astype(np.float64),
        "rel_x": actions.rel[:, 0].astype(np.float64), "rel_y": actions.rel[:, 1].astype(np.float64),
        "wheel": actions.wheel[:, 0].astype(np.float64), "hwheel": actions.wheel[:, 1].astype(np.float64),
    }
    for k, (device, code) in enumerate(actions.abs_axes):
        columns["dev%d_%s" % (device, event_code_name(EV_ABS, code))] = actions.abs[:, k]
    return columns


def state_series_per_tick(session: FrameSequence, ticks: int) -> Dict[str, np.ndarray]:
    """Every /state/samples field at each tick's start (the last sample taken by then)."""
    samples = session.state_samples()
    if not len(samples):
        return {}
    start = session.session_start_ns or int(session.timestamps_ns[0])
    at = start + np.round(np.arange(ticks) * 1e9 / session.fps).astype(np.int64)
    index = np.searchsorted(samples["t_ns"], at, side="right") - 1
    columns = {}
    for name in samples.dtype.names:
        if name == "t_ns":
            continue
        values = samples[name].astype(np.float64)
        columns["state_" + name] = np.where(index >= 0, values[np.maximum(index, 0)], np.nan)
    return columns


# ---------------------------------------------------------------------------------------- rerun

def export_rerun(session: FrameSequence, output: str) -> Dict[str, Any]:
    """A .rrd with the video (an H.264 asset plus one frame reference per stored frame), every input event,
    every state field, window changes and notes, on the ``session_time`` timeline (time since tick 0)."""
    rr = _require("rerun", "the rerun export", "rerun-sdk")
    start = session.session_start_ns or int(session.timestamps_ns[0])
    fps = session.fps
    counts: Dict[str, int] = {}

    def timeline(t_ns: np.ndarray) -> Any:
        return rr.TimeColumn("session_time", duration=(np.asarray(t_ns, dtype=np.int64) - start).astype("timedelta64[ns]"))

    with _AtomicOutput(output) as partial, tempfile.TemporaryDirectory(prefix="recorder-rrd-") as scratch:
        video_path = os.path.join(scratch, "video.mp4")
        progress = Progress("rerun (video)", int(session.ticks[-1]) + 1)
        write_mp4(session, video_path, progress=progress)
        recording = rr.RecordingStream("recorder", recording_id=os.path.basename(session.path))
        recording.save(partial)
        try:
            recording.log("video", rr.AssetVideo(path=video_path), static=True)
            # Stored frame i shows at its grab time; its image is the mp4 frame of its tick.
            video_ns = np.round(session.ticks.astype(np.float64) * 1e9 / fps).astype(np.int64)
            recording.send_columns("video", indexes=[timeline(session.timestamps_ns)],
                                   columns=rr.VideoFrameReference.columns_nanos(video_ns))
            counts["video"] = len(session)

            events = session.events()
            names = _device_names(session)
            for device in np.unique(events["device"]).tolist():
                mine = events[events["device"] == device]
                base = "input/dev%d" % device
                recording.log(base, rr.TextDocument("%s (device %d)" % (names.get(device, "?"), device)), static=True)
                keys = mine[mine["type"] == EV_KEY]
                if len(keys):
                    state = {0: "up", 1: "down", 2: "repeat"}
                    text = ["%s %s" % (event_code_name(EV_KEY, c), state.get(v, str(v)))
                            for c, v in zip(keys["code"].tolist(), keys["value"].tolist())]
                    recording.send_columns(base + "/keys", indexes=[timeline(keys["t_ns"])],
                                           columns=rr.TextLog.columns(text=text))
                    recording.send_columns(base + "/keys_held", indexes=[timeline(keys["t_ns"])],
                                           columns=rr.Scalars.columns(scalars=keys_held(keys).astype(np.float64)))
                    counts[base + "/keys"] = len(keys)
                for kind in (EV_REL, EV_ABS):
                    of_kind = mine[mine["type"] == kind]
                    for code in np.unique(of_kind["code"]).tolist():
                        rows = of_kind[of_kind["code"] == code]
                        entity = "%s/%s" % (base, event_code_name(kind, code))
                        recording.send_columns(entity, indexes=[timeline(rows["t_ns"])],
                                               columns=rr.Scalars.columns(scalars=rows["value"].astype(np.float64)))
                        counts[entity] = len(rows)

            samples = session.state_samples()
            for name in (samples.dtype.names or ()):
                if name == "t_ns" or not len(samples):
                    continue
                recording.send_columns("state/" + name, indexes=[timeline(samples["t_ns"])],
                                       columns=rr.Scalars.columns(scalars=samples[name].astype(np.float64)))
                counts["state/" + name] = len(samples)

            windows = session.window_changes()
            if windows:
                text = ["%s [%s] pid %d at %d,%d %dx%d" % (w["title"], w["wm_class"], w["pid"], w["x"], w["y"],
                                                           w["width"], w["height"]) for w in windows]
                recording.send_columns("window", indexes=[timeline([w["t_ns"] for w in windows])],
                                       columns=rr.TextLog.columns(text=text))
                counts["window"] = len(windows)
            notes = session.notes()
            if notes:
                text = ["%s %s: %s" % (n["source"], n["kind"], n["message"]) for n in notes]
                recording.send_columns("notes", indexes=[timeline([n["t_ns"] for n in notes])],
                                       columns=rr.TextLog.columns(text=text))
                counts["notes"] = len(notes)
        finally:
            recording.flush()
            recording.disconnect()
        seconds = progress.done()
    return {"target": "rerun", "output": os.path.abspath(output), "entities": counts, "seconds": seconds}


# ---------------------------------------------------------------------------------------- label studio

DEFAULT_LABELS = ("action", "idle", "menu", "event")


def session_identity(session: FrameSequence) -> Dict[str, Any]:
    """What ties a Label Studio task (and its export) back to this session file."""
    return {
        "session_file": os.path.basename(session.path),
        "started_at_utc": session.attributes.get("started_at_utc", ""),
        "session_start_ns": session.session_start_ns,
        "fps": session.fps,
        "frames": len(session),
        "ticks": int(session.ticks[-1]) + 1,
    }


def labeling_config(channels: Sequence[str], labels: Sequence[str], fps: float) -> str:
    """Video + TimeSeries on one sync group; ranges labelled on either (TimelineLabels / TimeSeriesLabels)."""
    from xml.sax.saxutils import quoteattr

    label_tags = "\n".join("    <Label value=%s/>" % quoteattr(label) for label in labels)
    channel_tags = "\n".join("    <Channel column=%s legend=%s/>" % (quoteattr(c), quoteattr(c)) for c in channels)
    return """<View>
  <Header value="$session_file"/>
  <Video name="video" value="$video" sync="session" frameRate="%s"/>
  <TimelineLabels name="video_labels" toName="video">
%s
  </TimelineLabels>
  <TimeSeriesLabels name="labels" toName="series">
%s
  </TimeSeriesLabels>
  <TimeSeries name="series" value="$series" valueType="url" timeColumn="time_s" sync="session">
%s
  </TimeSeries>
</View>
""" % (("%g" % fps), label_tags, label_tags, channel_tags)


def export_label_studio(session: FrameSequence, output: str, labels: Sequence[str] = DEFAULT_LABELS,
                        url_prefix: Optional[str] = None) -> Dict[str, Any]:
    """A folder: video.mp4, series.csv (one row per tick: input and state), config.xml, tasks.json.

    Task URLs point at Label Studio's local-files storage with the folder's parent as document root
    (``/data/local-files/?d=FOLDER/video.mp4``) unless ``url_prefix`` (e.g. an http server) is given.
    """
    ticks = int(session.ticks[-1]) + 1
    folder_name = os.path.basename(os.path.abspath(output))
    prefix = url_prefix if url_prefix is not None else "/data/local-files/?d=%s/" % folder_name
    with _AtomicOutput(output, folder=True) as partial:
        os.mkdir(partial)
        progress = Progress("label-studio (video)", ticks)
        write_mp4(session, os.path.join(partial, "video.mp4"), progress=progress)
        columns = input_series_per_tick(session, ticks)
        columns.update(state_series_per_tick(session, ticks))
        with open(os.path.join(partial, "series.csv"), "w", newline="") as handle:
            writer = csv.writer(handle)
            names = sorted(columns)
            writer.writerow(["time_s"] + names)
            for t in range(ticks):
                writer.writerow(["%.6f" % (t / session.fps)]
                                + ["" if np.isnan(columns[n][t]) else "%g" % columns[n][t] for n in names])
        with open(os.path.join(partial, "config.xml"), "w") as handle:
            handle.write(labeling_config(sorted(columns), labels, session.fps))
        task = {"data": dict(session_identity(session), video=prefix + "video.mp4", series=prefix + "series.csv")}
        with open(os.path.join(partial, "tasks.json"), "w") as handle:
            json.dump([task], handle, indent=2)
        seconds = progress.done()
    return {"target": "label-studio", "output": os.path.abspath(output), "ticks": ticks,
            "channels": sorted(columns), "seconds": seconds}


def export(path: str, target: str, output: str, **options: Any) -> Dict[str, Any]:
    """Run one export; raises :class:`ExportError` with a sentence for the user."""
    if target not in TARGETS:
        raise ExportError("unknown export target %r (one of %s)" % (target, ", ".join(TARGETS)))
    with open_sealed(path) as session:
        if target == "mp4":
            return export_mp4(session, output)
        if target == "lossless":
            return export_lossless(session, output, codec=options.get("codec") or LOSSLESS_CODECS[0])
        if target == "rerun":
            return export_rerun(session, output)
        return export_label_studio(session, output, labels=options.get("labels") or DEFAULT_LABELS,
                                   url_prefix=options.get("url_prefix"))
