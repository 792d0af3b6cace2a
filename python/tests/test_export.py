"""`recorder export` and `recorder labels` on a session the Swift recorder really wrote under Xvfb.

The exports are decoded back with independent tools: the ffmpeg/ffprobe programs (Debian's FFmpeg,
not the PyAV copy that encoded them) and rerun's own .rrd reader. Label imports are SIGKILLed at
random moments and the file must still decode frame for frame, with the whole set or none of it.
"""
import csv
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import time
import xml.etree.ElementTree as ET

import h5py
import hdf5plugin  # noqa: F401
import numpy as np
import pytest

import recorder_reader as rr
from make_session import START_NS, write_session
from recorder_reader.evdev import EV_KEY, EV_REL
from test_swift_recorded import FIXTURES, RECORDER, display, record  # noqa: F401  (the Xvfb fixture)

HP_PROBES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "hp_bar_probes.toml")


def run(*args, check=True):
    result = subprocess.run([RECORDER, *map(str, args)], capture_output=True, text=True, timeout=300)
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def session_file(display, tmp_path_factory):  # noqa: F811
    folder = tmp_path_factory.mktemp("export")
    path = folder / "session.h5"
    mouse = "replay:%s,%s" % (os.path.join(FIXTURES, "ps2-generic-mouse.desc"),
                              os.path.join(FIXTURES, "ps2-generic-mouse.events"))
    keyboard = "replay:" + os.path.join(FIXTURES, "logitech-k400-plus.events")
    record(display, path, "--duration", "3", "--fps", "30", "--keyframe-interval", "10",
           "--input", mouse, "--input", keyboard, "--state-config", HP_PROBES)
    return path


def ffprobe(path, *entries, frames=False):
    args = ["ffprobe", "-v", "error", "-select_streams", "v:0", "-of", "json"]
    args += ["-show_entries", ("frame=" if frames else "stream=") + ",".join(entries)]
    if not frames:
        args.append("-count_frames")
    out = subprocess.run(args + [str(path)], capture_output=True, text=True, check=True).stdout
    return json.loads(out)["frames" if frames else "streams"]


def ffmpeg_frames(path, width, height):
    """Decode with the ffmpeg program to rgb24 and yield one (H, W, 3) image at a time."""
    proc = subprocess.Popen(["ffmpeg", "-v", "error", "-i", str(path), "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                            stdout=subprocess.PIPE)
    size = width * height * 3
    try:
        while True:
            data = proc.stdout.read(size)
            if not data:
                break
            assert len(data) == size, "a partial frame from ffmpeg"
            yield np.frombuffer(data, np.uint8).reshape(height, width, 3)
    finally:
        proc.stdout.close()
        assert proc.wait() == 0


@pytest.mark.parametrize("codec", ["ffv1", "libx264rgb"])
def test_lossless_export_decodes_to_every_stored_frame(session_file, tmp_path, codec):
    out = tmp_path / ("lossless-%s.mkv" % codec)
    run("export", session_file, "--to", "lossless", "--output", out, "--lossless-codec", codec)
    with rr.open(session_file) as session:
        count = 0
        for i, image in enumerate(ffmpeg_frames(out, session.width, session.height)):
            assert i < len(session), "more video frames than stored frames"
            assert np.array_equal(image, session.frame(i)), "frame %d differs" % i
            count += 1
        assert count == len(session)
        pts = [float(f["pts_time"]) for f in ffprobe(out, "pts_time", frames=True)]
        expected = np.round((session.timestamps_ns - session.session_start_ns) / 1e6) / 1e3
        assert np.allclose(pts, expected, atol=1e-9)
    (stream,) = ffprobe(out, "codec_name")
    assert stream["codec_name"] == ("ffv1" if codec == "ffv1" else "h264")


def test_mp4_has_one_frame_per_tick_at_the_session_fps(session_file, tmp_path):
    out = tmp_path / "video.mp4"
    run("export", session_file, "--to", "mp4", "--output", out)
    (stream,) = ffprobe(out, "codec_name", "pix_fmt", "nb_read_frames", "r_frame_rate", "avg_frame_rate")
    with rr.open(session_file) as session:
        assert stream["codec_name"] == "h264" and stream["pix_fmt"] == "yuv420p"
        assert int(stream["nb_read_frames"]) == int(session.ticks[-1]) + 1
        assert stream["r_frame_rate"] == stream["avg_frame_rate"] == "%d/1" % session.fps
        # Lossy, but each video frame is close to the stored frame of its tick.
        for tick, image in enumerate(ffmpeg_frames(out, session.width, session.height)):
            i = int(np.searchsorted(session.ticks, tick, side="right")) - 1
            error = np.abs(image.astype(np.int16) - session.frame(max(i, 0))).mean()
            assert error < 4, "tick %d: mean error %.1f" % (tick, error)


def test_dropped_ticks_repeat_in_the_mp4_and_stay_gaps_in_the_lossless_file(tmp_path):
    path = tmp_path / "gaps.h5"
    ticks = [0, 1, 2, 5, 6, 9, 10, 11]  # ticks 3, 4, 7, 8 were dropped
    images = write_session(str(path), count=len(ticks), height=96, width=128, fps=30, ticks=ticks)
    out = tmp_path / "gaps.mp4"
    run("export", path, "--to", "mp4", "--output", out)
    decoded = list(ffmpeg_frames(out, 128, 96))
    assert len(decoded) == 12
    for tick, image in enumerate(decoded):
        shown = int(np.searchsorted(ticks, tick, side="right")) - 1
        errors = [np.abs(image.astype(np.int16) - other).mean() for other in images]
        assert int(np.argmin(errors)) == shown, "tick %d shows stored frame %d" % (tick, int(np.argmin(errors)))
    # The lossless file keeps one video frame per stored frame; the gaps are in its pts only.
    lossless = tmp_path / "gaps.mkv"
    run("export", path, "--to", "lossless", "--output", lossless)
    decoded = list(ffmpeg_frames(lossless, 128, 96))
    assert len(decoded) == len(images) and all(np.array_equal(a, b) for a, b in zip(decoded, images))
    pts = [round(float(f["pts_time"]) * 30) for f in ffprobe(lossless, "pts_time", frames=True)]
    assert pts == ticks


def test_rrd_loads_back_with_every_entity(session_file, tmp_path):
    from rerun.chunk import RrdReader

    out = tmp_path / "session.rrd"
    run("export", session_file, "--to", "rerun", "--output", out)
    rows = {}
    static = set()
    for chunk in RrdReader(str(out)).stream():
        if chunk.is_static:
            static.add(chunk.entity_path)
            continue
        assert chunk.timeline_names == ["session_time"], chunk.entity_path
        rows[chunk.entity_path] = rows.get(chunk.entity_path, 0) + chunk.num_rows
    with rr.open(session_file) as session:
        events = session.events()
        assert "/video" in static
        assert rows["/video"] == len(session)
        expected = {}
        for device in np.unique(events["device"]).tolist():
            mine = events[events["device"] == device]
            keys = int(np.count_nonzero(mine["type"] == EV_KEY))
            if keys:
                expected["/input/dev%d/keys" % device] = expected["/input/dev%d/keys_held" % device] = keys
            for code, name in ((0, "REL_X"), (1, "REL_Y")):
                n = int(np.count_nonzero((mine["type"] == EV_REL) & (mine["code"] == code)))
                if n:
                    expected["/input/dev%d/%s" % (device, name)] = n
        assert any(k.endswith("/keys") for k in expected) and any(k.endswith("REL_X") for k in expected)
        for field in ("cursor_x", "cursor_y", "hp"):
            expected["/state/" + field] = len(session.state_samples())
        expected["/window"] = len(session.window_changes())
        expected["/notes"] = len(session.notes())
        for entity, count in expected.items():
            assert rows.get(entity) == count, entity


def test_label_studio_folder(session_file, tmp_path):
    out = tmp_path / "project"
    run("export", session_file, "--to", "label-studio", "--output", out, "--label", "jump", "--label", "walk")
    assert sorted(os.listdir(out)) == ["config.xml", "series.csv", "tasks.json", "video.mp4"]
    config = ET.parse(out / "config.xml").getroot()
    video, series = config.find("Video"), config.find("TimeSeries")
    assert video.get("sync") == series.get("sync") and video.get("value") == "$video"
    assert series.get("timeColumn") == "time_s" and series.get("valueType") == "url"
    channels = [c.get("column") for c in series.findall("Channel")]
    assert [l.get("value") for l in config.find("TimeSeriesLabels")] == ["jump", "walk"]
    with open(out / "series.csv") as handle:
        table = list(csv.reader(handle))
    with rr.open(session_file) as session:
        ticks = int(session.ticks[-1]) + 1
        assert len(table) == ticks + 1 and table[0] == ["time_s"] + channels
        assert float(table[-1][0]) == pytest.approx((ticks - 1) / session.fps)
        assert {"state_hp", "rel_x", "rel_y", "keys_held"} <= set(channels)
        # The rel_x column sums to all REL_X motion from tick 0 on.
        events = session.events(start_ns=session.session_start_ns, type=EV_REL)
        total = sum(float(row[table[0].index("rel_x")] or 0) for row in table[1:])
        assert total == int(events[events["code"] == 0]["value"].sum()) != 0
        (task,) = json.load(open(out / "tasks.json"))
        assert task["data"]["video"] == "/data/local-files/?d=project/video.mp4"
        assert task["data"]["session_start_ns"] == session.session_start_ns


def sealed_copy(session_file, tmp_path, name="labels.h5"):
    path = tmp_path / name
    shutil.copyfile(session_file, path)
    return path


def test_labels_csv_to_file_to_json(session_file, tmp_path):
    path = sealed_copy(session_file, tmp_path)
    labels = tmp_path / "labels.csv"
    labels.write_text("t_start_s,t_end_s,label\n0.5,1.25,jump\n2,2.9,run fast\n\n")
    run("labels", "import", path, "--set", "manual", labels)
    out = tmp_path / "labels.json"
    run("labels", "export", path, "--set", "manual", "--output", out)
    document = json.load(open(out))
    with rr.open(path) as session:
        start = session.session_start_ns
        rows = session.annotations("manual")
        assert session.annotation_sets() == ["manual"]
        assert [r["label"] for r in rows] == ["jump", "run fast"]
        assert [(r["t_start_ns"], r["t_end_ns"]) for r in rows] == [
            (start + 500_000_000, start + 1_250_000_000), (start + 2_000_000_000, start + 2_900_000_000)]
        for r in rows:
            assert r["frame_start"] == session.frame_index(r["t_start_ns"])
            assert r["frame_end"] == session.frame_index(r["t_end_ns"])
    assert document["set"] == "manual" and document["attributes"]["schema_version"] == 1
    assert document["attributes"]["source"] == "csv:labels.csv"
    assert [(l["t_start_s"], l["t_end_s"], l["label"]) for l in document["labels"]] == [
        (0.5, 1.25, "jump"), (2.0, 2.9, "run fast")]
    with h5py.File(path, "r") as f:
        assert f["annotations/manual"].dtype.names == (
            "t_start_ns", "t_end_ns", "label", "frame_start", "frame_end", "attrs_json")


def test_label_studio_json_to_file(session_file, tmp_path):
    project = tmp_path / "project"
    run("export", session_file, "--to", "label-studio", "--output", project)
    (task,) = json.load(open(project / "tasks.json"))
    # What Label Studio's JSON export of that project holds: the task data and each annotation's results.
    task.update(id=7, annotations=[{"id": 3, "completed_by": 1, "result": [
        {"id": "a", "type": "timeserieslabels", "from_name": "labels", "to_name": "series",
         "value": {"start": 0.4, "end": 1.1, "instant": False, "timeserieslabels": ["action"]}},
        {"id": "b", "type": "timelinelabels", "from_name": "video_labels", "to_name": "video",
         "value": {"ranges": [{"start": 31, "end": 45}], "timelinelabels": ["menu"]}},
    ]}])
    other = json.loads(json.dumps(task))
    other["data"]["started_at_utc"] = "1999-01-01T00:00:00.000Z"  # another session's task is skipped
    export = tmp_path / "export.json"
    export.write_text(json.dumps([task, other]))
    path = sealed_copy(session_file, tmp_path)
    run("labels", "import", path, "--set", "ls", export)
    with rr.open(path) as session:
        start, fps = session.session_start_ns, session.fps
        rows = session.annotations("ls")
    assert [(r["label"], r["t_start_ns"] - start, r["t_end_ns"] - start) for r in rows] == [
        ("action", 400_000_000, 1_100_000_000), ("menu", round(30 / fps * 1e9), round(45 / fps * 1e9))]
    assert rows[0]["attrs"]["from_name"] == "labels" and rows[1]["attrs"]["task_id"] == 7

    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps([other]))
    result = run("labels", "import", path, "--set", "ls2", wrong, check=False)
    assert result.returncode == 1 and "no task belongs to this session" in result.stderr


def test_a_real_label_studio_export_imports_with_the_right_times(session_file, tmp_path):
    """fixtures/label_studio_export.json is what Label Studio 1.23.2 exported for a project made by
    `recorder export --to label-studio` (scripts/label_studio_roundtrip.py); its task is pointed at
    this test's session."""
    fixture = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "label_studio_export.json")
    tasks = json.load(open(fixture))
    path = sealed_copy(session_file, tmp_path)
    with rr.open(path) as session:
        start, fps = session.session_start_ns, session.fps
        tasks[0]["data"].update(started_at_utc=session.attributes["started_at_utc"], session_start_ns=start)
    export = tmp_path / "export.json"
    export.write_text(json.dumps(tasks))
    run("labels", "import", path, "--set", "annotators", export)
    with rr.open(path) as session:
        rows = session.annotations("annotators")
    assert [(r["label"], r["t_start_ns"] - start, r["t_end_ns"] - start) for r in rows] == [
        ("jump", 500_000_000, 1_500_000_000), ("walk", round(60 / fps * 1e9), round(90 / fps * 1e9))]
    assert rows[0]["attrs"]["annotation_id"] == 1 and rows[1]["attrs"]["type"] == "timelinelabels"


@pytest.mark.parametrize("content,message", [
    ("start,end,label\n1,2,x\n", "header"),
    ("t_start_s,t_end_s,label\n2,1,x\n", "t_start_s <= t_end_s"),
    ("t_start_s,t_end_s,label\nnan,1,x\n", "finite"),
    ("t_start_s,t_end_s,label\n1,2,\n", "empty"),
    ("[{\"data\": 3}]", "no data object"),
])
def test_bad_labels_are_refused_and_leave_the_file_alone(session_file, tmp_path, content, message):
    path = sealed_copy(session_file, tmp_path)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    labels = tmp_path / "bad.txt"
    labels.write_text(content)
    result = run("labels", "import", path, "--set", "x", labels, check=False)
    assert result.returncode == 1 and message in result.stderr and "Traceback" not in result.stderr
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_unsealed_and_damaged_files_are_refused(display, session_file, tmp_path):  # noqa: F811
    live = tmp_path / "live.h5"
    proc = subprocess.Popen([RECORDER, "record", "--display", display, "--output", str(live), "--quiet",
                             "--duration", "30", "--input", "none"])
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if live.exists() and live.stat().st_size > 100_000:
                break
            time.sleep(0.1)
        for args in (("export", live, "--to", "mp4", "--output", tmp_path / "live.mp4"),
                     ("labels", "import", live, "--set", "x", tmp_path / "none.csv")):
            result = run(*args, check=False)
            assert result.returncode == 1 and "still being recorded" in result.stderr, result.stderr
        assert not (tmp_path / "live.mp4").exists() and not (tmp_path / "live.mp4.partial").exists()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    # Once `recorder recover` has sealed what the killed recorder left, it exports.
    run("recover", live)
    run("export", live, "--to", "mp4", "--output", tmp_path / "recovered.mp4")
    with rr.open(live) as session:
        (stream,) = ffprobe(tmp_path / "recovered.mp4", "nb_read_frames")
        assert int(stream["nb_read_frames"]) == int(session.ticks[-1]) + 1

    # An existing folder that is not an earlier export is never replaced.
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.txt").write_text("keep me")
    result = run("export", session_file, "--to", "label-studio", "--output", precious, check=False)
    assert result.returncode == 1 and "not an earlier label-studio export" in result.stderr
    assert (precious / "thesis.txt").read_text() == "keep me"

    damaged = tmp_path / "damaged.h5"
    shutil.copyfile(session_file, damaged)
    with h5py.File(damaged, "r") as f:
        chunk = f["video/frames"].id.get_chunk_info(5)
    with open(damaged, "r+b") as handle:
        handle.seek(chunk.byte_offset)
        handle.write(b"\0" * 8)  # no longer a Zstandard frame
    result = run("export", damaged, "--to", "lossless", "--output", tmp_path / "damaged.mkv", check=False)
    assert result.returncode == 1 and "frame 5 cannot be decoded" in result.stderr, result.stderr
    assert not os.path.exists(tmp_path / "damaged.mkv") and not os.path.exists(tmp_path / "damaged.mkv.partial")


def frame_digests(path):
    with rr.open(path) as session:
        return [hashlib.sha256(image.tobytes()).hexdigest() for _, image in session.iter_frames()]


def test_a_killed_import_leaves_the_recording_whole(session_file, tmp_path):
    path = sealed_copy(session_file, tmp_path)
    digests = frame_digests(path)
    labels = tmp_path / "labels.csv"
    labels.write_text("t_start_s,t_end_s,label\n" + "".join("%d,%d.5,l%d\n" % (i % 3, i % 3, i) for i in range(40)))
    durations = []
    for _ in range(3):
        started = time.monotonic()
        run("labels", "import", path, "--set", "warmup", labels)
        durations.append(time.monotonic() - started)
    full = sorted(durations)[1]
    rng = random.Random(15)
    outcomes = {"none": 0, "whole": 0}
    for attempt in range(16):
        name = "kill%d" % attempt
        proc = subprocess.Popen([RECORDER, "labels", "import", str(path), "--set", name, str(labels)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Half the kills anywhere, half in the second half of an import (copy, HDF5 write, fsync, rename).
        time.sleep(rng.uniform(0.0, full * 1.5) if attempt % 2 else rng.uniform(full * 0.6, full * 1.2))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        with h5py.File(path, "r") as f:  # opens plainly: never a half-written file
            assert f.attrs["clean_shutdown"] == 1
            sets = set(f["annotations"].keys())
            assert "warmup" in sets and len(f["annotations/warmup"]) == 40
            if name in sets:
                assert len(f["annotations/" + name]) == 40
                outcomes["whole"] += 1
            else:
                outcomes["none"] += 1
        assert frame_digests(path) == digests
    assert sum(outcomes.values()) == 16
    print("kill outcomes", outcomes, "full import %.2f s" % full)
    # The next import clears what killed ones left beside the file.
    run("labels", "import", path, "--set", "final", labels)
    assert [n for n in os.listdir(tmp_path) if ".labels-" in n] == []
    assert frame_digests(path) == digests
