"""Label sets in a session file: ``/annotations/NAME`` (docs/FORMAT.md), imported from Label Studio or CSV.

An import never modifies the recording in place. It copies the file beside itself (a reflink where
the file system shares blocks, else ``copy_file_range``), adds the set to the copy, fsyncs it, renames
it over the original and fsyncs the folder. A crash at any moment leaves the original file, or the
complete new one; a leftover ``.NAME.h5.labels-*.tmp`` is removed by the next import in that folder.
"""

from __future__ import annotations

import csv
import datetime as _dt
import fcntl
import json
import math
import os
import re
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import h5py
import numpy as np

from .export import ExportError, open_sealed, session_identity
from .session import Session

SCHEMA_VERSION = 1
_SET_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$")
#: A label longer than this is refused (it is a class name, not a document).
MAX_LABEL_BYTES = 256
MAX_ATTRS_BYTES = 65536
_FICLONE = 0x40049409


class LabelError(Exception):
    """Labels that cannot be imported or exported, with a sentence for the user."""


class Label:
    """One labelled time range in seconds from tick 0, before it is placed on the session clock."""

    __slots__ = ("start_s", "end_s", "label", "attrs")

    def __init__(self, start_s: float, end_s: float, label: str, attrs: Optional[Dict[str, Any]] = None):
        self.start_s, self.end_s, self.label, self.attrs = start_s, end_s, label, attrs or {}


def check_set_name(name: str) -> str:
    if not _SET_NAME.match(name or ""):
        raise LabelError("label set name %r: use 1 to 64 of A-Z a-z 0-9 . _ -, not starting with a dot" % name)
    return name


def _check_label(where: str, start: Any, end: Any, label: Any) -> Tuple[float, float, str]:
    try:
        start_s, end_s = float(start), float(end)
    except (TypeError, ValueError):
        raise LabelError("%s: times must be numbers of seconds, got %r and %r" % (where, start, end)) from None
    if not (math.isfinite(start_s) and math.isfinite(end_s)) or start_s < 0 or end_s < start_s:
        raise LabelError("%s: need 0 <= t_start_s <= t_end_s (finite), got %r, %r" % (where, start, end))
    if not isinstance(label, str) or not label.strip():
        raise LabelError("%s: the label is empty" % where)
    if len(label.encode("utf-8")) > MAX_LABEL_BYTES:
        raise LabelError("%s: the label is longer than %d bytes" % (where, MAX_LABEL_BYTES))
    return start_s, end_s, label


def read_csv(path: str) -> List[Label]:
    """CSV with the header ``t_start_s,t_end_s,label`` (seconds from tick 0)."""
    labels = []
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or [h.strip() for h in header[:3]] != ["t_start_s", "t_end_s", "label"]:
            raise LabelError("%s: the first line must be the header t_start_s,t_end_s,label" % path)
        for number, row in enumerate(reader, start=2):
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) < 3:
                raise LabelError("%s line %d: expected t_start_s,t_end_s,label" % (path, number))
            start, end, label = _check_label("%s line %d" % (path, number), row[0], row[1], row[2].strip())
            labels.append(Label(start, end, label, {"line": number}))
    return labels


def _matches(data: Dict[str, Any], identity: Dict[str, Any]) -> bool:
    for key in ("started_at_utc", "session_start_ns"):
        if key in data and data[key] != identity.get(key):
            return False
    return True


def read_label_studio(path: str, identity: Dict[str, Any], fps: float) -> List[Label]:
    """Ranges from a Label Studio JSON export of a project made from ``recorder export --to label-studio``.

    TimeSeriesLabels give ``start``/``end`` in the series' time column (seconds from tick 0);
    TimelineLabels give ``ranges`` of video frames (1-based, inclusive), so frame f spans
    [(f-1)/fps, f/fps). Tasks exported from another session are refused.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            tasks = json.load(handle)
    except (OSError, ValueError) as error:
        raise LabelError("%s: not a Label Studio JSON export (%s)" % (path, error)) from None
    if isinstance(tasks, dict):
        tasks = [tasks]
    if not isinstance(tasks, list):
        raise LabelError("%s: a Label Studio JSON export is a list of tasks" % path)
    labels: List[Label] = []
    matched = 0
    for t, task in enumerate(tasks):
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            raise LabelError("%s: task %d has no data object" % (path, t))
        if not _matches(task["data"], identity):
            continue
        matched += 1
        for a, annotation in enumerate(task.get("annotations") or []):
            if not isinstance(annotation, dict) or annotation.get("was_cancelled"):
                continue
            for r, result in enumerate(annotation.get("result") or []):
                where = "%s task %d annotation %d result %d" % (path, t, a, r)
                if not isinstance(result, dict) or not isinstance(result.get("value"), dict):
                    raise LabelError("%s: a result needs a value object" % where)
                value, kind = result["value"], result.get("type")
                attrs = {"task_id": task.get("id"), "annotation_id": annotation.get("id"),
                         "completed_by": annotation.get("completed_by"), "result_id": result.get("id"),
                         "from_name": result.get("from_name"), "to_name": result.get("to_name"), "type": kind}
                if kind == "timeserieslabels":
                    names = value.get("timeserieslabels") or []
                    spans = [(value.get("start"), value.get("end"))]
                elif kind == "timelinelabels":
                    names = value.get("timelinelabels") or []
                    ranges = value.get("ranges") or []
                    if not isinstance(ranges, list):
                        raise LabelError("%s: ranges must be a list" % where)
                    spans = []
                    for span in ranges:
                        if not isinstance(span, dict):
                            raise LabelError("%s: a range must be an object" % where)
                        try:
                            first, last = int(span.get("start")), int(span.get("end"))
                        except (TypeError, ValueError):
                            raise LabelError("%s: range frames must be integers, got %r" % (where, span)) from None
                        if first < 1 or last < first:
                            raise LabelError("%s: need 1 <= start <= end frames, got %r" % (where, span))
                        spans.append(((first - 1) / fps, last / fps))
                else:
                    continue
                if not isinstance(names, list):
                    raise LabelError("%s: the label list must be a list" % where)
                for name in names:
                    for start, end in spans:
                        s, e, label = _check_label(where, start, end, name)
                        labels.append(Label(s, e, label, dict(attrs)))
    if tasks and matched == 0:
        raise LabelError("%s: no task belongs to this session (started_at_utc %s); was it exported from another file?"
                         % (path, identity.get("started_at_utc")))
    return labels


def read_labels(path: str, identity: Dict[str, Any], fps: float) -> Tuple[List[Label], str]:
    """Labels from a CSV or a Label Studio JSON export (told apart by the first character)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096).lstrip()
    except OSError as error:
        raise LabelError("cannot read %s: %s" % (path, error)) from None
    if head[:1] in (b"[", b"{"):
        return read_label_studio(path, identity, fps), "label-studio:" + os.path.basename(path)
    return read_csv(path), "csv:" + os.path.basename(path)


def _dtype(label_bytes: int, attrs_bytes: int) -> np.dtype:
    return np.dtype([("t_start_ns", "<i8"), ("t_end_ns", "<i8"), ("label", "S%d" % max(label_bytes, 1)),
                     ("frame_start", "<i8"), ("frame_end", "<i8"), ("attrs_json", "S%d" % max(attrs_bytes, 1))])


def annotation_rows(session: Session, labels: Sequence[Label]) -> np.ndarray:
    """Rows of /annotations/NAME: times on CLOCK_MONOTONIC, frames on screen at both ends."""
    start = session.session_start_ns or int(session.timestamps_ns[0])
    encoded = [(l, l.label.encode("utf-8"), json.dumps(l.attrs, sort_keys=True).encode("utf-8")) for l in labels]
    for _, _, attrs in encoded:
        if len(attrs) > MAX_ATTRS_BYTES:
            raise LabelError("a label's attributes take more than %d bytes" % MAX_ATTRS_BYTES)
    rows = np.zeros(len(encoded), dtype=_dtype(max([len(e[1]) for e in encoded] + [16]),
                                               max([len(e[2]) for e in encoded] + [16])))
    for row, (label, name, attrs) in zip(rows, encoded):
        row["t_start_ns"] = start + int(round(label.start_s * 1e9))
        row["t_end_ns"] = start + int(round(label.end_s * 1e9))
        row["label"] = name
        row["attrs_json"] = attrs
    if len(rows):
        rows["frame_start"] = np.maximum(session.frame_index(rows["t_start_ns"]), 0)
        rows["frame_end"] = np.maximum(session.frame_index(rows["t_end_ns"]), 0)
    return rows


def read_annotations(file: h5py.File, name: str) -> List[Dict[str, Any]]:
    """The rows of /annotations/NAME as dicts (``attrs`` parsed from attrs_json)."""
    path = "annotations/" + name
    if path not in file:
        raise KeyError("no label set %r in this file (sets: %s)" % (name, ", ".join(annotation_sets(file)) or "none"))
    out = []
    for row in file[path][:]:
        out.append({
            "t_start_ns": int(row["t_start_ns"]), "t_end_ns": int(row["t_end_ns"]),
            "label": row["label"].rstrip(b"\0").decode("utf-8", errors="replace"),
            "frame_start": int(row["frame_start"]), "frame_end": int(row["frame_end"]),
            "attrs": json.loads(row["attrs_json"].rstrip(b"\0").decode("utf-8") or "{}"),
        })
    return out


def annotation_sets(file: h5py.File) -> List[str]:
    return sorted(file["annotations"].keys()) if "annotations" in file else []


# ------------------------------------------------------------------------------------ safe rewrite

def _copy(source_fd: int, target_fd: int) -> None:
    """Reflink when the file system can, else copy_file_range (in-kernel), else read/write."""
    try:
        fcntl.ioctl(target_fd, _FICLONE, source_fd)
        return
    except OSError:
        pass
    size = os.fstat(source_fd).st_size
    offset = 0
    try:
        while offset < size:
            copied = os.copy_file_range(source_fd, target_fd, size - offset, offset, offset)
            if copied == 0:
                break
            offset += copied
    except OSError:
        offset = 0
        os.lseek(source_fd, 0, os.SEEK_SET)
        os.lseek(target_fd, 0, os.SEEK_SET)
        os.ftruncate(target_fd, 0)
        while True:
            block = os.read(source_fd, 1 << 22)
            if not block:
                break
            os.write(target_fd, block)
            offset += len(block)
    if offset != size:
        raise OSError("copied %d of %d bytes" % (offset, size))


def _temp_prefix(path: str) -> str:
    return ".%s.labels-" % os.path.basename(path)


def write_set(path: str, name: str, rows: np.ndarray, attributes: Dict[str, Any]) -> None:
    """Replace /annotations/NAME of the sealed file ``path`` by ``rows`` through copy, fsync and rename."""
    path = os.path.abspath(path)
    folder = os.path.dirname(path)
    folder_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        # One import at a time per folder: a second one waits instead of renaming over the first.
        fcntl.flock(folder_fd, fcntl.LOCK_EX)
        prefix = _temp_prefix(path)
        for stale in os.listdir(folder):
            if stale.startswith(prefix) and stale.endswith(".tmp"):
                os.unlink(os.path.join(folder, stale))
        temp = os.path.join(folder, "%s%d.tmp" % (prefix, os.getpid()))
        source_fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        try:
            info = os.fstat(source_fd)
            target_fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            try:
                _copy(source_fd, target_fd)
                os.fchmod(target_fd, info.st_mode & 0o7777)
                if os.geteuid() == 0:
                    os.fchown(target_fd, info.st_uid, info.st_gid)
            finally:
                os.close(target_fd)
        finally:
            os.close(source_fd)
        try:
            with h5py.File(temp, "r+") as file:
                group = file.require_group("annotations")
                if name in group:
                    del group[name]
                dataset = group.create_dataset(name, data=rows)
                for key, value in attributes.items():
                    dataset.attrs[key] = value
            fd = os.open(temp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            os.rename(temp, path)
        except BaseException:
            if os.path.exists(temp):
                os.unlink(temp)
            raise
        os.fsync(folder_fd)
    finally:
        os.close(folder_fd)


def import_labels(path: str, name: str, labels_path: str) -> Dict[str, Any]:
    """``recorder labels import``: read LABELS, place them on the session clock, write /annotations/NAME."""
    check_set_name(name)
    try:
        session = open_sealed(path)
    except ExportError as error:
        raise LabelError(str(error)) from None
    with session:
        labels, source = read_labels(labels_path, session_identity(session), session.fps)
        rows = annotation_rows(session, labels)
    imported = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    write_set(path, name, rows, {"source": source, "imported_at_utc": imported, "schema_version": SCHEMA_VERSION})
    return {"file": os.path.abspath(path), "set": name, "labels": len(rows), "source": source}


def export_labels(path: str, name: str, output: str) -> Dict[str, Any]:
    """``recorder labels export``: /annotations/NAME as JSON, times in ns and in seconds from tick 0."""
    check_set_name(name)
    with Session(path) as session:
        try:
            rows = session.annotations(name)
        except KeyError as error:
            raise LabelError("%s: %s" % (path, error.args[0])) from None
        attributes = {k: (v.item() if isinstance(v, np.generic) else v)
                      for k, v in session.file["annotations/" + name].attrs.items()}
        start = session.session_start_ns or int(session.timestamps_ns[0])
        for row in rows:
            row["t_start_s"] = (row["t_start_ns"] - start) / 1e9
            row["t_end_s"] = (row["t_end_ns"] - start) / 1e9
        document = {"session": session_identity(session), "set": name, "attributes": attributes, "labels": rows}
    with open(output, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2, sort_keys=True)
    return {"file": os.path.abspath(path), "set": name, "labels": len(rows), "output": os.path.abspath(output)}

