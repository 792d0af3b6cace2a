"""Test fixture: splits one session file into parts + a manifest the way the recorder's contract says.

Not part of the package. Stands in for the Swift writer's --split-every until it can record, and
follows Sources/RecorderCore/SessionManifest.swift exactly: NAME.part0001.h5 ... beside
NAME.manifest.json; each part a complete session file (every object of the source copied), its
first frame whole, with root attributes session_id, part_number, previous_part_last_tick and
part_final; ticks and timestamps as in the source; input, state, window and note rows given to the
part whose time span holds them (part k from its first frame's timestamp to part k+1's).

Decoding uses plain h5py and the docs/FORMAT.md rules, not the reader under test.
"""

from __future__ import annotations

import json
import os
from typing import Any, Callable, Dict, List, Optional, Sequence

import h5py
import hdf5plugin  # noqa: F401
import numpy as np

SESSION_ID = "5f0e8a34-4c1b-4e52-9a8e-2f7d7c1b9e10"
#: Tables whose rows are split by their t_ns.
TIME_TABLES = ("input/events", "state/samples", "state/window", "log/notes")
#: Tables whose `device` column names an /input/devices id.
DEVICE_TABLES = ("input/events", "input/capabilities", "input/keys_held_at_start", "input/abs_info",
                 "input/state_at_open")


def displaced(image: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """docs/FORMAT.md's format 2 rule, written out again so a check does not trust the reader."""
    h, w = image.shape[:2]
    out = np.zeros_like(image)
    if abs(dx) < w and abs(dy) < h:
        out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
            image[max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)]
    return out


def independent_decode(path: str):
    """Every frame decoded with plain h5py and the reference rules (formats 1 and 2), without the reader;
    returns (images, format_version)."""
    with h5py.File(path, "r") as f:
        frames, refs = f["video/frames"], f["video/reference"][:]
        shifts = f["video/reference_shift"][:] if "video/reference_shift" in f else np.zeros((len(refs), 2), int)
        images: List[np.ndarray] = []
        for i in range(frames.shape[0]):
            data = frames[i]
            if refs[i] < 0:
                images.append(data)
            else:
                images.append(np.bitwise_xor(displaced(images[refs[i]], int(shifts[i][0]), int(shifts[i][1])), data))
        return images, int(f.attrs["format_version"])


def _resize_to(dataset: h5py.Dataset, rows: np.ndarray) -> None:
    dataset.resize(len(rows), axis=0)
    if len(rows):
        dataset[...] = rows


def _write_part(source: h5py.File, images: List[np.ndarray], path: str, start: int, stop: int,
                t_from: Optional[int], t_to: Optional[int], attrs: Dict[str, Any], device_ids: Dict[int, int]) -> None:
    """Part file with source frames [start, stop) and time-table rows with t_from <= t_ns < t_to."""
    with h5py.File(path, "w", libver="latest") as part:
        for key, value in source.attrs.items():
            part.attrs[key] = value
        for key, value in attrs.items():
            part.attrs[key] = value
        for name in source:
            source.copy(source[name], part, name)
        video = part["video"]
        refs = source["video/reference"][start:stop]
        whole = (refs < start)  # a reference before the part: store the decoded image instead
        for name in video:
            if name == "frames":
                continue
            rows = source["video/" + name][start:stop]
            if name == "reference":
                rows = np.where(whole, -1, rows - start)
            elif name == "reference_shift":
                rows = np.where(whole[:, None], 0, rows)
            _resize_to(video[name], rows)
        frames = video["frames"]
        frames.resize(stop - start, axis=0)
        for j, i in enumerate(range(start, stop)):
            frames[j] = images[i] if whole[j] else source["video/frames"][i]
        for name in TIME_TABLES:
            if name not in source:
                continue
            rows = source[name][:]
            keep = np.ones(len(rows), dtype=bool)
            if t_from is not None:
                keep &= rows["t_ns"] >= t_from
            if t_to is not None:
                keep &= rows["t_ns"] < t_to
            _resize_to(part[name], rows[keep])
        for name in DEVICE_TABLES + ("input/devices",):
            if name in part and device_ids:
                rows = part[name][:]
                column = "id" if name == "input/devices" else "device"
                rows[column] = [device_ids.get(int(d), int(d)) for d in rows[column]]
                _resize_to(part[name], rows)
        part.attrs["summary_json"] = json.dumps({"frames": stop - start})


def split_session(source_path: str, folder: str, name: str, boundaries: Sequence[int],
                  session_ids: Optional[Sequence[str]] = None,
                  renumber_devices: Optional[Callable[[int], Dict[int, int]]] = None,
                  manifest_state: str = "ended") -> Dict[str, Any]:
    """Write NAME.partNNNN.h5 (frames [b_k, b_k+1) of the source, b_0 = 0) and NAME.manifest.json.

    ``boundaries`` are the first frame of parts 2, 3, ...; ``session_ids`` overrides the
    session_id attribute per part; ``renumber_devices(number)`` gives {source id: part id} for a
    part whose device table the writer numbered differently. Returns the manifest as written.
    """
    images, _ = independent_decode(source_path)
    starts = [0] + list(boundaries)
    stops = list(boundaries) + [len(images)]
    os.makedirs(folder, exist_ok=True)
    entries = []
    with h5py.File(source_path, "r") as source:
        ticks = source["video/tick"][:]
        timestamps = source["video/timestamp_ns"][:]
        previous_last = -1
        for k, (start, stop) in enumerate(zip(starts, stops)):
            number = k + 1
            file = "%s.part%04d.h5" % (name, number)
            final = number == len(starts)
            attrs = {"session_id": session_ids[k] if session_ids else SESSION_ID, "part_number": np.int64(number),
                     "previous_part_last_tick": np.int64(previous_last), "part_final": np.int64(int(final))}
            if not final:
                attrs["end_reason"] = "split"
            t_from = int(timestamps[start]) if k else None
            t_to = int(timestamps[stop]) if not final else None
            _write_part(source, images, os.path.join(folder, file), start, stop, t_from, t_to, attrs,
                        renumber_devices(number) if renumber_devices else {})
            with h5py.File(os.path.join(folder, file), "r") as part:
                counts = {key: int(part[table].shape[0]) if table in part else 0
                          for key, table in (("events", "input/events"), ("samples", "state/samples"))}
            entries.append({
                "number": number, "file": file, "state": "sealed",
                "first_tick": int(ticks[start]), "last_tick": int(ticks[stop - 1]),
                "previous_part_last_tick": previous_last,
                "first_timestamp_ns": int(timestamps[start]), "last_timestamp_ns": int(timestamps[stop - 1]),
                "frames": stop - start, "bytes": os.path.getsize(os.path.join(folder, file)), **counts})
            previous_last = int(ticks[stop - 1])
        manifest = {
            "format": "recorder-session-manifest", "version": 1, "session_id": SESSION_ID, "name": name,
            "started_at_utc": str(source.attrs.get("started_at_utc", "")),
            "mono_to_utc_ns": int(source.attrs.get("mono_to_utc_ns", 0)), "state": manifest_state,
            "end_reason": str(source.attrs.get("end_reason", "")), "end_detail": "",
            "split": {"every_seconds": 5}, "parts": entries}
    write_manifest(folder, name, manifest)
    return manifest


def write_manifest(folder: str, name: str, manifest: Any) -> str:
    """Write NAME.manifest.json as the recorder does (sorted keys, indented); returns its path."""
    path = os.path.join(folder, name + ".manifest.json")
    with open(path, "w") as handle:
        json.dump(manifest, handle, sort_keys=True, indent=2)
        handle.write("\n")
    return path
