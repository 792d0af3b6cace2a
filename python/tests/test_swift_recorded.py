"""The reader on files the Swift recorder really wrote: `recorder record` under a private Xvfb.

The recorder binary comes from RECORDER_BIN (the Makefile points it at the debug build); these tests
fail, not skip, when it is missing, so a broken build cannot pass unnoticed.
"""
import json
import os
import signal
import subprocess
import sys
import threading
import time

import h5py
import hdf5plugin  # noqa: F401
import numpy as np
import pytest

import recorder_reader as rr
from split_fixture import independent_decode

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RECORDER = os.environ.get("RECORDER_BIN", os.path.join(REPO, ".build/debug/recorder"))
FIXTURES = os.path.join(os.path.dirname(REPO), "shared/fixtures/evemu")


@pytest.fixture(scope="module")
def display():
    assert os.path.exists(RECORDER), f"recorder binary missing at {RECORDER}; build first (make test does)"
    read_end, write_end = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write_end), "-screen", "0", "320x240x24", "-nolisten", "tcp",
                             "+extension", "MIT-SHM"], pass_fds=(write_end,), stderr=subprocess.DEVNULL)
    os.close(write_end)
    number = b""
    while not number.endswith(b"\n"):
        chunk = os.read(read_end, 16)
        assert chunk, "Xvfb did not start"
        number += chunk
    os.close(read_end)
    name = ":" + number.decode().strip()
    scene = subprocess.Popen([sys.executable, os.path.join(REPO, "scripts/moving_scene.py"), name, "300"],
                             stdout=subprocess.PIPE, text=True)
    # However long a loaded machine takes to start it: the scene is on screen before any recording.
    assert scene.stdout.readline().strip() == "ready", "moving_scene.py did not start"
    yield name
    scene.kill()
    xvfb.kill()
    scene.wait()
    xvfb.wait()


def record(display, path, *args):
    result = subprocess.run([RECORDER, "record", "--display", display, "--output", str(path), "--quiet", *args],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result


def record_until_logged(display, path, marker, *args):
    """Records until the recorder logs `marker` (however late a loaded machine gets there), then SIGINT."""
    proc = subprocess.Popen([RECORDER, "record", "--display", display, "--output", str(path), "--quiet", *args],
                            stderr=subprocess.PIPE, text=True)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr), name="recorder-stderr")
    reader.start()
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline and not any(marker in line for line in list(lines)):
        time.sleep(0.05)
    assert any(marker in line for line in list(lines)), "".join(lines)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 0, "".join(lines)
    reader.join(timeout=30)


def assert_ticks_accounted(path, at_least):
    """Every tick from 0 to the last frame is stored or reported lost in the file's summary, and the
    file accounts for at least `at_least` ticks. A loaded machine may drop frames; it must say so."""
    with h5py.File(path, "r") as f:
        ticks = f["video/tick"][:]
        summary = json.loads(f.attrs["summary_json"])
    assert len(ticks) > 0 and np.all(np.diff(ticks) > 0)
    missing = int(ticks[0]) + int(np.sum(np.diff(ticks) - 1))
    lost = sum(int(summary.get(k, 0)) for k in ("frames_dropped", "ticks_missed", "grab_failures", "frames_skipped"))
    assert summary["frames"] == len(ticks), summary
    assert missing <= lost, (missing, summary)
    assert len(ticks) + lost >= at_least, (len(ticks), summary)


# The default is format 2 whenever there are residuals (interval > 1); --format-1 keeps format 1 covered.
@pytest.mark.parametrize("codec,interval,flags,version", [
    ("zstd", 1, [], 1), ("zstd", 12, [], 2), ("lz4", 5, [], 2), ("none", 3, ["--format-1"], 1),
    ("zstd", 12, ["--format-1"], 1)])
def test_reader_decodes_every_recorded_frame_exactly(display, tmp_path, codec, interval, flags, version):
    path = tmp_path / f"{codec}-{interval}.h5"
    record(display, path, "--duration", "1.5", "--input", "none", "--codec", codec, "--keyframe-interval", str(interval),
           *flags)
    expected, stored_version = independent_decode(path)
    assert stored_version == version
    assert_ticks_accounted(path, 85)  # 1.5 s at 60 fps is 90 ticks
    with rr.open(path) as session:
        assert len(session) == len(expected) > 1
        assert session.clean_shutdown and session.end_reason == "duration"
        assert session.codec == codec
        for i, image in enumerate(expected):
            assert np.array_equal(session.frame(i), image), f"frame {i}"
        # Sequential playback decoded each stored chunk once.
        assert session.chunk_reads == len(expected)
        # The moving scene really moves: consecutive frames differ.
        assert not np.array_equal(session.frame(0), session.frame(len(session) - 1))
        refs = session.references
        assert (refs >= 0).any() == (interval > 1)


def test_replayed_input_and_state_align_with_frames(display, tmp_path):
    path = tmp_path / "aligned.h5"
    pad = os.path.join(FIXTURES, "madcatz-xbox360-pad.events")
    # Until the 3.5 s replay ended like an unplugged device (its note says so), then stopped.
    record_until_logged(display, path, "replay finished", "--input", f"replay:{pad}", "--fps", "30",
                        "--meta", "game=scene", "--meta", "player=test")
    recorded = [line for line in open(pad) if line.startswith("E:")]
    with rr.open(path) as session:
        events = session.events()
        assert len(events) == len(recorded)
        first_type, first_code = (int(v, 16) for v in recorded[0].split()[2:4])
        assert (int(events[0]["type"]), int(events[0]["code"])) == (first_type, first_code)
        assert session.meta == {"game": "scene", "player": "test"}
        assert [d["kind"] for d in session.devices] == ["gamepad"]
        # Events between consecutive frames partition all events from the first frame on.
        n = len(session)
        between = sum(len(session.events_between_frames(i, i + 1)) for i in range(n - 1))
        after_first = np.count_nonzero(events["t_ns"] >= session.timestamps_ns[0])
        tail = len(session.events_between_frames(n - 1, n))
        assert between + tail == after_first
        idx = session.frame_index(events["t_ns"])
        assert idx.min() >= -1 and idx.max() <= n - 1
        samples = session.state_samples()
        # 5 per second: never more than the slots of the recording; a late sample skips slots (legal on a
        # loaded machine can hold a sampler over a second), but it samples through the recording.
        first, last = int(session.timestamps_ns[0]), int(session.timestamps_ns[-1])
        assert 1 <= len(samples) <= (last - first) / 200_000_000 + 2, "about 5 samples per second"
        assert samples.dtype.names[:3] == ("t_ns", "cursor_x", "cursor_y")
        assert np.all(np.diff(samples["t_ns"]) > 0)
        assert samples["t_ns"][-1] > (first + last) // 2


def test_inspect_cli_on_a_recorded_file(display, tmp_path):
    path = tmp_path / "inspect.h5"
    record(display, path, "--duration", "1", "--input", "none")
    sheet, timeline = tmp_path / "sheet.png", tmp_path / "timeline.png"
    out = subprocess.run([sys.executable, "-m", "recorder_reader", "inspect", str(path), "--json",
                          "--contact-sheet", str(sheet), "--timeline", str(timeline)],
                         capture_output=True, text=True, cwd=os.path.join(REPO, "python"))
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    with h5py.File(path, "r") as f:
        assert summary["video"]["frames"] == f["video/frames"].shape[0]
        assert summary["end_reason"] == "duration" and summary["clean_shutdown"]
    assert sheet.stat().st_size > 0 and timeline.stat().st_size > 0


def test_reader_follows_a_live_recording(display, tmp_path):
    path = tmp_path / "live.h5"
    # Runs until told to stop, so a loaded machine's pace never ends it before the reader looked.
    proc = subprocess.Popen([RECORDER, "record", "--display", display, "--output", str(path), "--quiet",
                             "--input", "none"], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        session, first = None, 0
        while first == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
            try:
                session = session or rr.open(path)
                first = session.refresh()
            except (OSError, KeyError):
                session = None  # not created yet, or SWMR writing not started yet
        assert first > 0, "no frame flushed within a minute"
        assert not session.clean_shutdown
        second = first
        while second == first and time.monotonic() < deadline:
            time.sleep(0.1)
            second = session.refresh()
        assert second > first > 0, (first, second)
        last = session.frame(second - 1)
        assert last.shape == (240, 320, 3)
        session.close()
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0, proc.stderr.read()
    with rr.open(path) as finished:
        assert finished.clean_shutdown and finished.end_reason == "signal" and len(finished) >= second


def test_a_recording_forced_behind_keeps_every_frame_readable(display, tmp_path):
    """`recorder record` with every best-level compression slowed by 40 ms (a test-only knob): the two
    compressors fall behind the moving scene, frames take the fast level or go unfiltered, and every
    chunk still reads in plain h5py + hdf5plugin; the file's counts match the chunks' filter masks."""
    path = tmp_path / "behind.h5"
    env = dict(os.environ, RECORDER_TEST_COMPRESSION_DELAY_MS="40")
    result = subprocess.run([RECORDER, "record", "--display", display, "--output", str(path), "--quiet", "--duration", "2",
                             "--input", "none", "--json"], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    expected, _ = independent_decode(path)
    with h5py.File(path, "r") as f:
        frames = f["video/frames"]
        n = frames.shape[0]
        masks = np.array([frames.id.get_chunk_info_by_coord((i, 0, 0, 0)).filter_mask for i in range(n)])
        sizes = np.array([frames.id.get_chunk_info_by_coord((i, 0, 0, 0)).size for i in range(n)])
        flags = f["video/flags"][:]
        summary = json.loads(f.attrs["summary_json"])
        h, w = frames.shape[1:3]
    assert set(masks.tolist()) <= {0, 1}
    assert np.array_equal(masks == 1, (flags & 16) != 0), "flag bit 4 marks exactly the unfiltered chunks"
    assert np.all(sizes[masks == 1] == h * w * 3)
    assert summary["frames_unfiltered"] == int((masks == 1).sum())
    assert summary["frames_fast"] == int(((flags & 8) != 0).sum())
    assert summary["frames_fast"] + summary["frames_unfiltered"] > 0, "40 ms per best compression cannot keep up"
    assert summary["frames"] == n
    assert_ticks_accounted(path, 110)  # 2 s at 60 fps is 120 ticks
    with rr.open(path) as session:
        for i, image in enumerate(expected):
            assert np.array_equal(session.frame(i), image), f"frame {i}"
        video = session.summary()["video"]
        assert (video["fast_frames"], video["unfiltered_frames"]) == (summary["frames_fast"], summary["frames_unfiltered"])
    inspected = subprocess.run([RECORDER, "inspect", str(path), "--json"], capture_output=True, text=True)
    fields = json.loads(inspected.stdout)
    assert (fields["fastFrames"], fields["unfilteredFrames"]) == (summary["frames_fast"], summary["frames_unfiltered"])


def test_a_split_recording_reads_as_one_sequence_equal_to_its_parts(display, tmp_path):
    """`record --split-every 1` for ~3.5 s with a replayed pad: 3+ parts whose concatenation is each
    part checked on its own (frames decoded without the reader, events with the device mapped by
    identity, samples), ticks continuous across the boundaries but for the drops the parts report."""
    pad = os.path.join(FIXTURES, "madcatz-xbox360-pad.events")
    output = tmp_path / "split.h5"
    record_until_logged(display, output, "replay finished", "--split-every", "1", "--fps", "30",
                        "--input", f"replay:{pad}")
    assert not output.exists()
    manifest = json.loads((tmp_path / "split.manifest.json").read_text())
    assert manifest["state"] == "ended" and len(manifest["parts"]) >= 3, manifest
    with rr.open_session(output) as whole:
        assert whole.session_id == manifest["session_id"] and whole.clean_shutdown and not whole.warnings
        assert [p.number for p in whole.parts] == list(range(1, len(manifest["parts"]) + 1))
        lost, events, samples = 0, [], []
        for part in whole.parts:
            expected, _ = independent_decode(part.path)
            assert part.count == len(expected) > 0
            for j, image in enumerate(expected):
                assert np.array_equal(whole.frame(part.offset + j), image), f"part {part.number} frame {j}"
            with rr.open(part.path) as alone:
                # Each part's events, with its device ids named by identity, in the session's order.
                ids = {d["id"]: (d["path"], d["name"]) for d in alone.devices}
                events.extend((int(e["t_ns"]), ids[int(e["device"])], int(e["type"]), int(e["code"]), int(e["value"]))
                              for e in alone.events())
                samples.append(alone.state_samples())
                summary = json.loads(alone.attributes["summary_json"])
                lost += sum(int(summary.get(k, 0)) for k in ("frames_dropped", "ticks_missed", "grab_failures", "frames_skipped"))
        names = {d["id"]: (d["path"], d["name"]) for d in whole.devices}
        assert [(int(e["t_ns"]), names[int(e["device"])], int(e["type"]), int(e["code"]), int(e["value"]))
                for e in whole.events()] == events
        np.testing.assert_array_equal(whole.state_samples(), np.concatenate(samples))
        ticks = whole.ticks
        assert np.all(np.diff(ticks) > 0) and ticks[0] >= 0
        assert whole.dropped_ticks <= lost, (whole.tick_gaps(), lost)
        recorded = [line for line in open(pad) if line.startswith("E:")]
        assert len(whole.events()) == len(recorded)
        assert [d["kind"] for d in whole.devices] == ["gamepad"]


def test_a_split_recording_is_followed_while_it_records(display, tmp_path):
    """open_session on a split session being recorded: sealed parts plus the live one (SWMR); refresh()
    picks up new frames and new parts; once stopped, a refresh sees it ended."""
    output = tmp_path / "live.h5"
    manifest = tmp_path / "live.manifest.json"
    proc = subprocess.Popen([RECORDER, "record", "--display", display, "--output", str(output), "--quiet",
                             "--input", "none", "--fps", "30", "--split-every", "1"], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        whole = None
        while time.monotonic() < deadline:
            time.sleep(0.1)
            try:
                parts = json.loads(manifest.read_text())["parts"] if manifest.exists() else []
                if len(parts) >= 2 and parts[-1]["state"] == "recording":
                    whole = rr.open_session(manifest)
                    if len(whole) > parts[0]["frames"] > 0:
                        break
                    whole.close()
                    whole = None
            except (OSError, KeyError, ValueError):
                whole = None  # a part not created or not in SWMR mode yet
        assert whole is not None, "no second part recording within a minute"
        assert whole.swmr and whole.parts[-1].live and whole.end_reason == ""
        first, parts_then = len(whole), len(whole.parts)
        while time.monotonic() < deadline and len(whole.parts) == parts_then:
            time.sleep(0.2)
            whole.refresh()
        assert len(whole) > first and len(whole.parts) > parts_then
        assert np.all(np.diff(whole.ticks) > 0)
        last = whole.frame(len(whole) - 1)
        assert last.shape == (240, 320, 3)
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0, proc.stderr.read()
    whole.refresh()
    assert not whole.swmr and whole.end_reason == "signal" and whole.clean_shutdown
    with rr.open_session(manifest) as sealed:
        assert len(sealed) >= len(whole) - 0 and np.array_equal(sealed.ticks[:len(whole)], whole.ticks)
    whole.close()
