#!/usr/bin/env python3
"""Independent checks of session files for the Swift test suite: plain h5py + hdf5plugin + numpy.

Deliberately does not use the recorder_reader package, so the reader and the writer are each
checked against the format, not against each other. Every command prints one JSON object.

    session_checks.py frames-equal FILE IMAGE.rgb W H [X Y FW FH]   every frame == image[Y:Y+FH, X:X+FW]
    session_checks.py frames-are-crops FILE IMAGE.rgb W H FW FH X:Y,...  every frame == one FW x FH crop
                                            of the image at one of the listed offsets
    session_checks.py summary FILE          root attributes, dataset lengths, tick gaps, the writer's counters
    session_checks.py frame-rows FILE [live] rows every per-frame dataset holds and their ticks; `live`
                                            opens a file still being written (SWMR) and sees what is flushed
    session_checks.py plain-open FILE       opens without hdf5plugin; attributes and lengths only
    session_checks.py events FILE           /input/events rows and /input/devices
    session_checks.py decode-all FILE       decodes every frame; count and failures
    session_checks.py parts MANIFEST [IMAGE.rgb W H]   a split session: every part's attributes, rows,
                                            first reference, ticks and counters, the manifest's rows, and the
                                            parts concatenated (tick gaps, losses reported, events and samples
                                            in order); with an image, every frame of every part == the image
"""
import json
import sys

import numpy as np


def displaced(image, dx, dy):
    """Format 2: out[y, x] = image[y - dy, x - dx], zero where that falls outside."""
    h, w = image.shape[:2]
    out = np.zeros_like(image)
    if abs(dx) >= w or abs(dy) >= h:
        return out
    ys, xs = slice(max(dy, 0), min(h, h + dy)), slice(max(dx, 0), min(w, w + dx))
    out[ys, xs] = image[max(-dy, 0):max(-dy, 0) + (ys.stop - ys.start), max(-dx, 0):max(-dx, 0) + (xs.stop - xs.start)]
    return out


def decode_frames(f):
    frames, refs = f["video/frames"], f["video/reference"][:]
    shifts = f["video/reference_shift"][:] if "video/reference_shift" in f else np.zeros((len(refs), 2), dtype=np.int32)
    cache = {}
    for i in range(frames.shape[0]):
        data = frames[i]
        if refs[i] >= 0:
            data = np.bitwise_xor(displaced(cache[int(refs[i])], int(shifts[i][0]), int(shifts[i][1])), data)
        cache[i] = data
        # Keep memory bounded: only references can be needed again.
        for k in [k for k in cache if k < i - 512]:
            del cache[k]
        yield i, data


def attr(v):
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, np.generic):
        return v.item()
    return v


PER_FRAME = ["frames", "timestamp_ns", "tick", "reference", "cursor", "origin", "flags", "reference_shift"]


def frame_rows(f):
    """Rows a reader can rely on: the shortest per-frame dataset, and the ticks and timestamps of those rows."""
    lengths = {name: int(f["video/" + name].shape[0]) for name in PER_FRAME if "video/" + name in f}
    rows = min(lengths.values())
    return {"rows": rows, "lengths": lengths, "events": int(f["input/events"].shape[0]),
            "ticks": [int(t) for t in f["video/tick"][:rows]],
            "timestamps": [int(t) for t in f["video/timestamp_ns"][:rows]]}


def tick_accounting(f, ticks):
    """Ticks the file lacks between tick 0 and its last frame, and the losses its summary reports."""
    summary = json.loads(attr(f.attrs.get("summary_json", "")) or "{}")
    missing = int(ticks[0]) + int(np.sum(np.diff(ticks) - 1)) if len(ticks) else 0
    reported = sum(int(summary.get(k, 0)) for k in ("frames_dropped", "ticks_missed", "grab_failures", "frames_skipped"))
    return {"counters": summary, "missing_ticks": missing, "reported_lost": reported,
            "scheduled_ticks": int(ticks[-1]) + 1 if len(ticks) else 0}


def parts(manifest_path, image=None):
    """One split session read part by part with plain h5py, as a reader that only knows one file would."""
    import os
    import h5py
    import hdf5plugin  # noqa: F401
    with open(manifest_path) as handle:
        manifest = json.load(handle)
    folder = os.path.dirname(manifest_path)
    out, all_ticks, all_events, all_samples, reported, by_device = [], [], [], [], 0, {}
    for row in manifest["parts"]:
        with h5py.File(os.path.join(folder, row["file"]), "r") as f:
            ticks = f["video/tick"][:]
            summary = json.loads(attr(f.attrs.get("summary_json", "")) or "{}")
            reported += sum(int(summary.get(k, 0)) for k in ("frames_dropped", "ticks_missed", "grab_failures", "frames_skipped"))
            mismatched = 0
            if image is not None:
                for _, data in decode_frames(f):
                    mismatched += 0 if np.array_equal(data, image) else 1
            rows = f["input/events"][:] if f["input/events"].shape[0] else None
            events = rows["t_ns"] if rows is not None else np.zeros(0, dtype=np.int64)
            if rows is not None:
                for t, device in zip(rows["t_ns"].tolist(), rows["device"].tolist()):
                    by_device.setdefault(int(device), []).append(int(t))
            samples = f["state/samples"]["t_ns"][:] if f["state/samples"].shape[0] else np.zeros(0, dtype=np.int64)
            all_ticks.extend(int(t) for t in ticks)
            all_events.extend(int(t) for t in events)
            all_samples.extend(int(t) for t in samples)
            a = {k: attr(v) for k, v in f.attrs.items()}
            out.append({
                "file": row["file"], "manifest": row, "attrs": {k: a.get(k) for k in (
                    "session_id", "part_number", "previous_part_last_tick", "part_final", "end_reason", "end_detail",
                    "clean_shutdown", "session_start_ns", "format_version")},
                "frames": int(f["video/frames"].shape[0]), "first_tick": int(ticks[0]) if len(ticks) else None,
                "last_tick": int(ticks[-1]) if len(ticks) else None,
                "first_reference": int(f["video/reference"][0]) if len(ticks) else None,
                "tick_gaps": int(np.count_nonzero(np.diff(ticks) != 1)) if len(ticks) > 1 else 0,
                "events": int(len(events)), "samples": int(len(samples)), "devices": int(f["input/devices"].shape[0]),
                "keys_held_at_start": int(f["input/keys_held_at_start"].shape[0]),
                "summary": summary, "mismatched": mismatched,
            })
    ticks = np.array(all_ticks, dtype=np.int64)
    return {
        "manifest": {k: v for k, v in manifest.items() if k != "parts"}, "parts": out,
        "frames": len(all_ticks), "events": len(all_events), "samples": len(all_samples),
        "ticks_strictly_increasing": bool(np.all(np.diff(ticks) > 0)) if len(ticks) > 1 else True,
        "missing_ticks": int(ticks[0]) + int(np.sum(np.diff(ticks) - 1)) if len(ticks) else 0,
        "reported_lost": reported, "last_tick": int(ticks[-1]) if len(ticks) else None,
        # Read order interleaves devices; each device's own events keep their kernel order across parts.
        "events_in_order": all(bool(np.all(np.diff(np.array(t, dtype=np.int64)) >= 0)) for t in by_device.values()),
        "samples_in_order": bool(np.all(np.diff(np.array(all_samples, dtype=np.int64)) > 0)) if len(all_samples) > 1 else True,
    }


def main():
    command, path = sys.argv[1], sys.argv[2]
    if command == "parts":
        image = None
        if len(sys.argv) > 3:
            w, h = int(sys.argv[4]), int(sys.argv[5])
            image = np.fromfile(sys.argv[3], dtype=np.uint8).reshape(h, w, 3)
        print(json.dumps(parts(path, image)))
        return
    if command == "frame-rows":
        import h5py
        live = len(sys.argv) > 3 and sys.argv[3] == "live"
        with h5py.File(path, "r", swmr=live) as f:
            print(json.dumps(frame_rows(f)))
        return
    if command == "plain-open":
        import h5py
        with h5py.File(path, "r") as f:
            print(json.dumps({"attrs": {k: attr(v) for k, v in f.attrs.items()},
                              "frames": f["video/frames"].shape[0],
                              "events": f["input/events"].shape[0]}))
        return
    import h5py
    import hdf5plugin  # noqa: F401  registers zstd and lz4
    with h5py.File(path, "r") as f:
        if command == "frames-equal":
            w, h = int(sys.argv[4]), int(sys.argv[5])
            image = np.fromfile(sys.argv[3], dtype=np.uint8).reshape(h, w, 3)
            if len(sys.argv) > 6:
                x, y, fw, fh = (int(v) for v in sys.argv[6:10])
                image = image[y:y + fh, x:x + fw]
            mismatched, first_bad = 0, None
            count = 0
            for i, data in decode_frames(f):
                count += 1
                if data.shape != image.shape or not np.array_equal(data, image):
                    mismatched += 1
                    if first_bad is None:
                        diff = int(np.count_nonzero(np.any(data != image, axis=-1))) if data.shape == image.shape else -1
                        first_bad = {"index": i, "shape": list(data.shape), "pixels_differing": diff}
            origins = f["video/origin"][:] if "video/origin" in f else np.zeros((0, 2))
            print(json.dumps({"frames": count, "mismatched": mismatched, "first_bad": first_bad,
                              "distinct_origins": len({tuple(o) for o in origins.tolist()}),
                              "references": int(np.count_nonzero(f["video/reference"][:] >= 0))}))
        elif command == "frames-are-crops":
            w, h, fw, fh = (int(v) for v in sys.argv[4:8])
            image = np.fromfile(sys.argv[3], dtype=np.uint8).reshape(h, w, 3)
            offsets = [tuple(int(v) for v in item.split(":")) for item in sys.argv[8].split(",")]
            crops = {offset: image[offset[1]:offset[1] + fh, offset[0]:offset[0] + fw] for offset in offsets}
            count, mismatched, first_bad, seen = 0, 0, None, set()
            for i, data in decode_frames(f):
                count += 1
                match = next((offset for offset, crop in crops.items() if np.array_equal(data, crop)), None)
                if match is None:
                    mismatched += 1
                    first_bad = first_bad if first_bad is not None else i
                else:
                    seen.add(match)
            shifts = f["video/reference_shift"][:] if "video/reference_shift" in f else np.zeros((0, 2))
            print(json.dumps({"frames": count, "mismatched": mismatched, "first_bad": first_bad,
                              "offsets_seen": len(seen),
                              "shifted": int(np.count_nonzero(np.any(shifts != 0, axis=1))),
                              "whole": int(np.count_nonzero(f["video/reference"][:] < 0))}))
        elif command == "summary":
            ticks = f["video/tick"][:]
            ts = f["video/timestamp_ns"][:]
            print(json.dumps({
                "attrs": {k: attr(v) for k, v in f.attrs.items()},
                "frames": int(f["video/frames"].shape[0]),
                "shape": list(f["video/frames"].shape),
                "tick_gaps": int(np.count_nonzero(np.diff(ticks) != 1)) if len(ticks) > 1 else 0,
                "ticks_strictly_increasing": bool(np.all(np.diff(ticks) > 0)) if len(ticks) > 1 else True,
                "first_ts": int(ts[0]) if len(ts) else None, "last_ts": int(ts[-1]) if len(ts) else None,
                "events": int(f["input/events"].shape[0]),
                "devices": int(f["input/devices"].shape[0]),
                "samples": int(f["state/samples"].shape[0]),
                "notes": [{"kind": attr(n["kind"]), "message": attr(n["message"])} for n in f["log/notes"][:]],
                "meta": {k: attr(v) for k, v in f["meta"].attrs.items()},
                "sample_times": [int(t) for t in f["state/samples"]["t_ns"]] if f["state/samples"].dtype.names else [],
                **tick_accounting(f, ticks),
            }))
        elif command == "events":
            ev = f["input/events"][:]
            devices = f["input/devices"][:]
            print(json.dumps({
                "events": [[int(r["t_ns"]), int(r["device"]), int(r["type"]), int(r["code"]), int(r["value"]), int(r["flags"])] for r in ev],
                "devices": [{"id": int(d["id"]), "name": attr(d["name"]), "kind": attr(d["kind"]), "path": attr(d["path"])} for d in devices],
                "session_start_ns": attr(f.attrs.get("session_start_ns", 0)),
            }))
        elif command == "decode-all":
            count, failures = 0, 0
            for i, _ in decode_frames(f):
                count += 1
            ts = f["video/timestamp_ns"][:]
            print(json.dumps({"decoded": count, "failures": failures, "last_ts": int(ts[-1]) if len(ts) else None,
                              "first_ts": int(ts[0]) if len(ts) else None}))
        else:
            sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
