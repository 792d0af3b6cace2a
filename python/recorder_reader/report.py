"""Human summary, contact sheet and timeline of a session (what ``recorder-reader inspect`` prints)."""

from __future__ import annotations

import math
import os
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from .evdev import EV_KEY, EV_SYN
from .sequence import FrameSequence

#: Contact sheet layout, in pixels.
SHEET_PADDING = 4
SHEET_LABEL_HEIGHT = 14


def _megabytes(count: int) -> str:
    """Byte count with a unit that keeps 3 significant digits readable."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= scale:
            return "%.1f %s" % (count / scale, unit)
    return "%d B" % count


def format_summary(summary: Dict[str, Any]) -> str:
    """The summary dict of :meth:`Session.summary` as an aligned, human readable text."""
    lines: List[str] = []

    def row(label: str, text: str) -> None:
        lines.append("%-18s %s" % (label, text))

    video = summary["video"]
    lines.append(summary["path"])
    row("  format", "%s v%s, recorder %s" % (summary["format"], summary["format_version"],
                                              summary["recorder_version"] or "?"))
    row("  started", summary["started_at_utc"] or "?")
    row("  duration", "%.3f s" % summary["duration_s"])
    end = summary["end_reason"] or "(still recording or not sealed)"
    if summary["end_detail"]:
        end += ": " + summary["end_detail"]
    row("  end", "%s; clean shutdown: %s%s" % (end, "yes" if summary["clean_shutdown"] else "no",
                                               ", opened live (SWMR)" if summary["live"] else ""))
    achieved = "%.2f fps achieved" % video["fps_achieved"] if video["fps_achieved"] else "fps achieved n/a"
    row("video", "%dx%d, %d frames, %g fps target, %s, %d dropped ticks"
        % (video["width"], video["height"], video["frames"], video["fps"], achieved, video["dropped_ticks"]))
    level = " level %s" % video["compression_level"] if video["compression_level"] is not None else ""
    shifted = ", %d of them against a shifted reference" % video["shifted_frames"] if video["shifted_frames"] else ""
    if video["fast_frames"] or video["unfiltered_frames"]:
        shifted += "; %d compressed fast and %d unfiltered while the writer was behind" % (
            video["fast_frames"], video["unfiltered_frames"])
    row("  codec", "%s%s, keyframe interval %s (%d whole, %d residual frames%s)"
        % (video["codec"] or "?", level, video["keyframe_interval"], video["whole_frames"], video["residual_frames"], shifted))
    ratio = "%.2f" % video["compression_ratio"] if video["compression_ratio"] else "n/a"
    row("  size", "%s raw, %s stored, compression ratio %s"
        % (_megabytes(video["raw_bytes"]), _megabytes(video["stored_bytes"]), ratio))
    if video["target"]:
        row("  target", "%s (MIT-SHM: %s)" % (video["target"], {1: "yes", 0: "no"}.get(video["shared_memory"], "?")))
    devices = summary["input"]["devices"]
    row("input", "%d events from %d devices" % (summary["input"]["events"], len(devices)))
    for device in devices:
        kinds = ", ".join("%s %d" % item for item in device["by_type"].items()) or "no events"
        row("  [%d] %s" % (device["id"], device["name"]), "%s%d events: %s"
            % ("(%s) " % device["kind"] if device["kind"] else "", device["events"], kinds))
    state = summary["state"]
    rate = " at %g Hz" % state["rate_hz"] if state["rate_hz"] else ""
    row("state", "%d samples%s, fields: %s" % (state["samples"], rate, ", ".join(state["fields"]) or "none"))
    row("window", "%d changes" % summary["window_changes"])
    kinds = ", ".join("%s %d" % item for item in summary["note_kinds"].items())
    row("notes", "%d%s" % (summary["notes"], " (%s)" % kinds if kinds else ""))
    if summary["meta"]:
        row("meta", ", ".join("%s=%s" % item for item in sorted(summary["meta"].items())))
    if summary.get("split"):
        lines.extend(_split_lines(summary["split"]))
    return "\n".join(lines)


def _split_lines(split: Dict[str, Any]) -> List[str]:
    """The parts of a split session (SplitSession.summary()["split"]), one line each."""
    every = " every %g s" % split["every_seconds"] if split.get("every_seconds") else ""
    size = " every %s" % _megabytes(split["size_bytes"]) if split.get("size_bytes") else ""
    lines = ["%-18s %d parts%s%s, session %s, manifest state %s" % (
        "split", len(split["parts"]), every, size, split["session_id"], split["state"] or "(no manifest)")]
    for part in split["parts"]:
        if part["missing"]:
            text = "missing: %s" % part["missing"]
        else:
            ticks = "ticks %s..%s" % (part["first_tick"], part["last_tick"]) if part["frames"] else "no frames"
            text = "%s, %d frames, %s, %d events, %d samples%s" % (
                part["state"], part["frames"], ticks, part["events"], part["samples"], ", live" if part["live"] else "")
        upload = part.get("upload")
        if upload:
            text += "; upload %s" % upload["state"] + (" (deleted)" if upload.get("deleted") else "")
        lines.append("%-18s %s" % ("  [%d] %s" % (part["number"], part["file"]), text))
    for warning in split["warnings"]:
        lines.append("%-18s %s" % ("  warning", warning))
    return lines


def contact_sheet_indices(frame_count: int, count: int) -> List[int]:
    """``count`` evenly spaced frame indices from first to last (fewer when the session is shorter)."""
    if frame_count <= 0 or count <= 0:
        return []
    if count == 1:
        return [0]
    return sorted(set(np.linspace(0, frame_count - 1, min(count, frame_count)).round().astype(int).tolist()))


def contact_sheet_size(width: int, height: int, thumbnails: int, columns: int, thumb_width: int) -> Tuple[int, int]:
    """Pixel size (width, height) of a contact sheet with this layout."""
    thumb_height = max(1, round(thumb_width * height / width))
    columns = max(1, min(columns, thumbnails))
    rows = math.ceil(thumbnails / columns)
    return (columns * thumb_width + (columns + 1) * SHEET_PADDING,
            rows * (thumb_height + SHEET_LABEL_HEIGHT) + (rows + 1) * SHEET_PADDING)


def write_contact_sheet(session: FrameSequence, path: str, count: int = 12, columns: int = 4,
                        thumb_width: int = 240) -> Tuple[int, int]:
    """Write a PNG of ``count`` evenly spaced frames as thumbnails labelled with index and time.

    Returns the sheet's (width, height) in pixels; see :func:`contact_sheet_size`.
    """
    from PIL import Image, ImageDraw

    indices = contact_sheet_indices(len(session), count)
    if not indices:
        raise ValueError("%s has no frames to put on a contact sheet" % session.path)
    thumb_height = max(1, round(thumb_width * session.height / session.width))
    columns = max(1, min(columns, len(indices)))
    size = contact_sheet_size(session.width, session.height, len(indices), columns, thumb_width)
    sheet = Image.new("RGB", size, (32, 32, 32))
    draw = ImageDraw.Draw(sheet)
    start = session.session_start_ns or 0
    for slot, index in enumerate(indices):
        row, column = divmod(slot, columns)
        x = SHEET_PADDING + column * (thumb_width + SHEET_PADDING)
        y = SHEET_PADDING + row * (thumb_height + SHEET_LABEL_HEIGHT + SHEET_PADDING)
        thumb = Image.fromarray(np.ascontiguousarray(session.frame(index)), "RGB")
        sheet.paste(thumb.resize((thumb_width, thumb_height), Image.BILINEAR), (x, y))
        seconds = (int(session.timestamps_ns[index]) - start) / 1e9
        draw.text((x + 2, y + thumb_height + 1), "#%d  %.3f s" % (index, seconds), fill=(230, 230, 230))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    sheet.save(path, format="PNG")
    return size


def write_timeline(session: FrameSequence, path: str, width_px: int = 1400, height_px: int = 900,
                   dpi: int = 100) -> Tuple[int, int]:
    """Write a PNG plot over session time: input events per device, frame intervals, state fields.

    Returns the image's (width, height) in pixels, which is exactly ``width_px`` x ``height_px``.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    start = session.session_start_ns or 0
    figure = Figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi)
    FigureCanvasAgg(figure)
    axes_input, axes_frames, axes_state = figure.subplots(3, 1, sharex=True)
    figure.suptitle(os.path.basename(session.path))

    def seconds(t_ns: np.ndarray) -> np.ndarray:
        return (np.asarray(t_ns, dtype=np.int64) - start) / 1e9

    events = session.events()
    names = {d["id"]: d["name"] for d in session.devices}
    device_ids = sorted(set(names) | set(np.unique(events["device"]).tolist()))
    for row, device_id in enumerate(device_ids):
        mine = events[(events["device"] == device_id) & (events["type"] != EV_SYN)]
        presses = mine[(mine["type"] == EV_KEY) & (mine["value"] == 1)]
        other = mine[mine["type"] != EV_KEY]
        axes_input.plot(seconds(other["t_ns"]), np.full(len(other), row - 0.15), ".", markersize=2,
                        color="tab:blue", label="motion/other" if row == 0 else None)
        axes_input.plot(seconds(presses["t_ns"]), np.full(len(presses), row + 0.15), "|", markersize=8,
                        color="tab:red", label="key/button down" if row == 0 else None)
    axes_input.set_yticks(range(len(device_ids)))
    axes_input.set_yticklabels(["[%d] %s" % (d, names.get(d, "?"))[:28] for d in device_ids], fontsize=7)
    axes_input.set_ylim(-0.7, max(0.7, len(device_ids) - 0.3))
    axes_input.set_title("input events (%d)" % len(events), fontsize=9, loc="left")
    if device_ids:
        axes_input.legend(loc="upper right", fontsize=7)

    timestamps = session.timestamps_ns
    if len(timestamps) > 1:
        axes_frames.plot(seconds(timestamps[1:]), np.diff(timestamps) / 1e6, linewidth=0.8)
        gaps = session.tick_gaps()
        if len(gaps):
            axes_frames.plot(seconds(timestamps[gaps["frame"]]), np.diff(timestamps)[np.maximum(gaps["frame"] - 1, 0)] / 1e6,
                             "x", color="tab:red", label="after dropped ticks")
            axes_frames.legend(loc="upper right", fontsize=7)
    axes_frames.set_ylabel("ms", fontsize=8)
    axes_frames.set_title("frame interval (%d frames, %d dropped ticks)" % (len(session), session.dropped_ticks),
                          fontsize=9, loc="left")

    samples = session.state_samples()
    fields = session.state_fields
    for field in fields:
        if samples.dtype[field].kind in "biuf":
            axes_state.plot(seconds(samples["t_ns"]), samples[field], linewidth=1, label=field)
    if fields and len(samples):
        axes_state.legend(loc="upper right", fontsize=7)
    axes_state.set_title("state samples (%d)" % len(samples), fontsize=9, loc="left")
    axes_state.set_xlabel("seconds since session start")
    for note in session.notes():
        # Notes (target lost, x-error, device added, ...) explain gaps in the streams above.
        when = (note["t_ns"] - start) / 1e9
        for axes in (axes_input, axes_frames, axes_state):
            axes.axvline(when, color="0.6", linestyle=":", linewidth=0.8)
        axes_input.annotate(note["kind"], (when, 1.0), xycoords=("data", "axes fraction"), fontsize=6,
                            rotation=90, va="top", ha="right", color="0.4")
    figure.subplots_adjust(left=0.16, right=0.98, top=0.93, bottom=0.07, hspace=0.35)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    figure.savefig(path, dpi=dpi, format="png")
    return (width_px, height_px)
