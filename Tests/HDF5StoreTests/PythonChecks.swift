/// Python programs (h5py + hdf5plugin + numpy only, like any reader) that read files back and print one JSON line.
enum PythonChecks {
    /// argv: file, expected RGB raw file, width, height, start_ns. Decodes every frame by the reference rule.
    static let frames = #"""
import sys, json, h5py, hdf5plugin, numpy as np
path, expected_path, w, h, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
expected = np.fromfile(expected_path, np.uint8).reshape(-1, h, w, 3)
def displaced(image, dx, dy):
    out = np.zeros_like(image)
    if abs(dx) < w and abs(dy) < h:
        out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
            image[max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)]
    return out
with h5py.File(path, "r") as f:
    frames, refs = f["video/frames"], f["video/reference"][:]
    n = frames.shape[0]
    shifts = f["video/reference_shift"][:] if "video/reference_shift" in f else np.zeros((n, 2), dtype=int)
    images, bad, bad_refs = [], [], []
    for i in range(n):
        data = frames[i]
        j = int(refs[i])
        if j == -1:
            image = data
        elif 0 <= j < i:
            image = np.bitwise_xor(displaced(images[j], int(shifts[i][0]), int(shifts[i][1])), data)
        else:
            bad_refs.append(i); image = data
        images.append(image)
        if i >= len(expected) or not np.array_equal(image, expected[i]):
            bad.append(i)
    plist = frames.id.get_create_plist()
    filters = [plist.get_filter(k)[0] for k in range(plist.get_nfilters())]
    i = np.arange(n)
    per_frame_ok = (bool(np.array_equal(f["video/timestamp_ns"][:], start + i * 16666667))
        and bool(np.array_equal(f["video/tick"][:], i))
        and bool(np.array_equal(f["video/cursor"][:], np.stack([i, -i], axis=1)))
        and bool(np.array_equal(f["video/origin"][:], np.tile([5, 7], (n, 1))))
        and bool(np.array_equal(f["video/flags"][:] & 7, i % 3)))
    summary = json.loads(f.attrs["summary_json"] or "{}")
    print(json.dumps(dict(frames=n, expected=len(expected), bad=bad[:10], bad_refs=bad_refs[:10],
        keyframes=int((refs == -1).sum()), residuals=int((refs >= 0).sum()), chunks=list(frames.chunks),
        dtype=str(frames.dtype), shape=list(frames.shape), filters=filters, per_frame_ok=per_frame_ok,
        references=[int(r) for r in refs],
        chunk_sizes=[int(frames.id.get_chunk_info_by_coord((k, 0, 0, 0)).size) for k in range(n)],
        filter_masks=[int(frames.id.get_chunk_info_by_coord((k, 0, 0, 0)).filter_mask) for k in range(n)],
        flags=[int(v) for v in f["video/flags"][:]], frames_fast=summary.get("frames_fast"),
        frames_unfiltered=summary.get("frames_unfiltered"), frames_taken_over=summary.get("frames_taken_over"), fast_level=int(f["video"].attrs["fast_compression_level"]),
        end_reason=f.attrs["end_reason"], clean_shutdown=int(f.attrs["clean_shutdown"]),
        format_version=int(f.attrs["format_version"]), has_shifts="video/reference_shift" in f,
        codec=f["video"].attrs["codec"], keyframe_interval=int(f["video"].attrs["keyframe_interval"]))))
"""#

    /// argv: file, start_ns. Checks the tables and attributes against the rows `TablesTests` sent.
    static let tables = #"""
import sys, json, h5py, hdf5plugin, numpy as np
path, start = sys.argv[1], int(sys.argv[2])
with h5py.File(path, "r") as f:
    ev = f["input/events"][:]
    k = np.arange(5000)
    events_ok = (ev.dtype.names == ("t_ns", "device", "type", "code", "value", "flags") and len(ev) == 5000
        and bool(np.array_equal(ev["t_ns"], start + k * 1000)) and bool(np.array_equal(ev["device"], k % 3))
        and bool(np.array_equal(ev["type"], k % 4)) and bool(np.array_equal(ev["code"], k % 500))
        and bool(np.array_equal(ev["value"], k * 7 - 1000)) and bool(np.array_equal(ev["flags"], k % 2))
        and ev.dtype["t_ns"] == np.dtype("<i8") and ev.dtype["device"] == np.dtype("<u2") and ev.dtype["value"] == np.dtype("<i4"))
    s = f["state/samples"][:]
    j = np.arange(len(s))
    samples_ok = (s.dtype.names == ("t_ns", "cursor_x", "cursor_y", "hp", "level", "flag") and len(s) == 20
        and bool(np.array_equal(s["t_ns"], start + j * 200000000)) and bool(np.array_equal(s["cursor_x"], j * 3))
        and bool(np.array_equal(s["cursor_y"], -j)) and bool(np.array_equal(s["hp"], j / 8.0))
        and bool(np.array_equal(s["level"], j * 1000000007)) and bool(np.array_equal(s["flag"], j % 2))
        and s.dtype["hp"] == np.dtype("<f8") and s.dtype["level"] == np.dtype("<i8") and s.dtype["flag"] == np.dtype("u1")
        and s.dtype["cursor_x"] == np.dtype("<i4"))
    d = f["input/devices"][:]
    caps = f["input/capabilities"][:]
    keys = f["input/keys_held_at_start"][:]
    w = f["state/window"][:]
    notes = f["log/notes"][:]
    root = {k: (v if isinstance(v, str) else int(v)) for k, v in f.attrs.items()}
    print(json.dumps(dict(events_ok=events_ok, samples_ok=samples_ok,
        devices=[[int(r["id"]), r["name"].decode(), r["path"].decode(), int(r["vendor"]), r["kind"].decode(), int(r["first_seen_ns"])] for r in d],
        capabilities=[[int(r["device"]), int(r["type"]), int(r["code"])] for r in caps],
        keys=[[int(r["device"]), int(r["code"])] for r in keys],
        windows=[[int(r["t_ns"]), int(r["window_id"]), r["title"].decode(), r["wm_class"].decode(), int(r["pid"]), int(r["width"])] for r in w],
        notes=[[r["source"].decode(), r["kind"].decode(), r["message"].decode()] for r in notes],
        root=root, video={k: (v if isinstance(v, str) else int(v)) for k, v in f["video"].attrs.items()},
        input={k: (v if isinstance(v, str) else int(v)) for k, v in f["input"].attrs.items()},
        state={k: (v if isinstance(v, str) else float(v)) for k, v in f["state"].attrs.items()},
        meta=dict(f["meta"].attrs.items()), summary=json.loads(f.attrs["summary_json"]))))
"""#

    /// argv: file, width, height, minimum frames. Opens as a SWMR reader while the writer runs.
    static let swmrReader = #"""
import sys, json, h5py, hdf5plugin, numpy as np
path = sys.argv[1]
with h5py.File(path, "r", libver="latest", swmr=True) as f:
    frames = f["video/frames"]
    frames.refresh()
    n = frames.shape[0]
    first = frames[0] if n else None
    print(json.dumps(dict(frames=n, end_reason=f.attrs["end_reason"], first_sum=int(first.sum()) if n else -1)))
"""#

    /// argv: file, width, height [, "motion"]. Checks a recovered crash-writer file against its synthetic
    /// pattern (panning with "motion", decoded with format 2's shifted references).
    static let synthetic = #"""
import sys, json, h5py, hdf5plugin, numpy as np
path, w, h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
pan = 1 if sys.argv[4:] == ["motion"] else 0
y, x = np.mgrid[0:h, 0:w]
def background(i):
    u, v = x + 2 * pan * i, y + pan * i
    return np.stack([((u + v) // 4) & 255, (u ^ v) & 255, (u * 7 + v * 13) & 255], axis=-1).astype(np.uint8)
def displaced(img, dx, dy):
    out = np.zeros_like(img)
    for yy in range(h):
        if 0 <= yy - dy < h:
            lo, hi = max(0, dx), min(w, w + dx)
            if lo < hi: out[yy, lo:hi] = img[yy - dy, lo - dx:hi - dx]
    return out
def pattern(i):
    img = background(i)
    x0, y0 = (i * 5) % max(1, w - 32), (i * 3) % max(1, h - 32)
    img[y0:y0 + 32, x0:x0 + 32] = [(i * 7) & 255, 255 - (i & 255), i & 255]
    return img
with h5py.File(path, "r") as f:
    frames, refs, ticks = f["video/frames"], f["video/reference"][:], f["video/tick"][:]
    shifts = f["video/reference_shift"][:] if "video/reference_shift" in f else np.zeros((len(refs), 2), dtype=int)
    n = frames.shape[0]
    images, bad = {}, []
    for i in range(n):
        d = frames[i]
        img = d if refs[i] < 0 else np.bitwise_xor(displaced(images[int(refs[i])], int(shifts[i][0]), int(shifts[i][1])), d)
        images[i] = img
        if not np.array_equal(img, pattern(int(ticks[i]))): bad.append(i)
    ev = f["input/events"][:]
    print(json.dumps(dict(frames=n, bad=bad[:10], ticks_contiguous=bool(np.array_equal(ticks, np.arange(n))) if n else True,
        lengths=[len(f["video/" + k]) for k in ("timestamp_ns", "tick", "reference", "cursor", "origin", "flags", "reference_shift") if "video/" + k in f],
        shifted=int(np.count_nonzero(np.any(shifts != 0, axis=1))), format_version=int(f.attrs["format_version"]),
        events=len(ev), events_ok=bool(np.array_equal(ev["value"], np.arange(len(ev)))),
        end_reason=f.attrs["end_reason"], clean_shutdown=int(f.attrs["clean_shutdown"]))))
"""#
}
