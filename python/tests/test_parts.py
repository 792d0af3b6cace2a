"""A split session (manifest + parts, made by split_fixture.py from a real session file) read as one sequence."""

import json
import os
import subprocess
import sys

import h5py
import numpy as np
import pytest

import recorder_reader as rr
from make_session import START_NS, write_panning_session, write_session
from recorder_reader.manifest import MAX_MANIFEST_BYTES
from split_fixture import SESSION_ID, split_session, write_manifest
from test_live import WriterProcess, H, W

PERIOD = round(1e9 / 60)
DROPPED = (20, 41, 42, 43, 50)  # ticks without a frame; 20 and 41..43 fall on part boundaries
TICKS = [t for t in range(65) if t not in DROPPED]
PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _source(path, **options):
    events = [(START_NS + t * PERIOD + 500, t % 2, 1, 30 + t % 3, (t // 2) % 2, 0) for t in range(-3, 66)]
    samples = [(START_NS + k * 200_000_000 - 1, k, k, float(k), float(2 * k)) for k in range(7)]
    notes = [(START_NS + t * PERIOD, b"test", b"target-lost", b"note %d" % t) for t in (5, 30, 60)]
    write_session(str(path), count=len(TICKS), keyframe_interval=7, ticks=TICKS, events=events, samples=samples,
                  notes=notes, meta={"game": "scene"}, **options)
    return str(path)


@pytest.fixture()
def split(tmp_path):
    """(single-file source, folder, manifest path) of a 60-frame session split into 3 parts."""
    source = _source(tmp_path / "single.h5")
    folder = tmp_path / "out"
    split_session(source, str(folder), "game", [20, 41])
    return source, folder, str(folder / "game.manifest.json")


def assert_same_session(whole, single):
    assert len(whole) == len(single)
    for i in range(len(single)):
        np.testing.assert_array_equal(whole.frame(i), single.frame(i), err_msg="frame %d" % i)
    for name in ("ticks", "timestamps_ns", "cursor", "origin", "frame_flags"):  # not references: parts start whole
        np.testing.assert_array_equal(getattr(whole, name), getattr(single, name), err_msg=name)
    np.testing.assert_array_equal(whole.events(), single.events())
    np.testing.assert_array_equal(whole.state_samples(), single.state_samples())
    assert whole.notes() == single.notes()
    assert whole.dropped_ticks == single.dropped_ticks
    np.testing.assert_array_equal(whole.tick_gaps(), single.tick_gaps())


def test_the_parts_read_as_the_single_file(split):
    source, folder, manifest = split
    with rr.open_session(manifest) as whole, rr.open(source) as single:
        assert [p.count for p in whole.parts] == [20, 21, 19]
        assert_same_session(whole, single)
        assert whole.chunk_reads == len(single), "sequential playback reads each chunk once"
        assert whole[-3:].shape == (3, 48, 64, 3) and np.array_equal(whole[-3:], single[-3:])
        assert [k for k, _ in whole.iter_frames(18, 23)] == [18, 19, 20, 21, 22]
        np.testing.assert_array_equal(whole.actions().keys, single.actions().keys)
        t = int(single.timestamps_ns[30])
        assert whole.keys_down_at(t) == single.keys_down_at(t)
        np.testing.assert_array_equal(whole.frame_index(whole.events()["t_ns"]), single.frame_index(single.events()["t_ns"]))
        assert whole.events_between_frames(19, 21).tolist() == single.events_between_frames(19, 21).tolist()
        assert whole.session_id == SESSION_ID and whole.clean_shutdown and whole.end_reason == "duration"
        assert whole.meta == {"game": "scene"} and whole.duration_ns == single.duration_ns
        assert whole.part_of(20)[0].number == 2 and whole.part_of(-1) == (whole.parts[2], 18)
        for device, known in zip(whole.devices, single.devices):
            assert {k: device[k] for k in known} == known and device["parts"] == [1, 2, 3]
        # Each reference stays in its part, and each part starts with a whole frame.
        refs = whole.references
        assert all(refs[p.offset] == -1 for p in whole.parts)
        assert all(p.offset <= refs[i] < i for p in whole.parts for i in range(p.offset, p.offset + p.count) if refs[i] >= 0)


def test_summary_of_the_whole_and_of_each_part(split):
    source, _, manifest = split
    with rr.open_session(manifest) as whole, rr.open(source) as single:
        summary, one = whole.summary(), single.summary()
        for key in ("duration_s", "input", "state", "notes", "note_kinds", "meta", "end_reason", "clean_shutdown"):
            assert summary[key] == one[key], key
        for key in ("frames", "dropped_ticks", "fps_achieved", "raw_bytes", "width", "height", "codec"):
            assert summary["video"][key] == one["video"][key], key
        split_info = summary["split"]
        assert split_info["session_id"] == SESSION_ID and split_info["every_seconds"] == 5
        assert [(p["first_tick"], p["last_tick"]) for p in split_info["parts"]] == [(0, 19), (21, 44), (45, 64)]
        assert sum(p["events"] for p in split_info["parts"]) == len(single.events())
        assert split_info["gaps"] == [] and split_info["warnings"] == []
        second = whole.part_summary(2)
        assert second["part_number"] == 2 and second["video"]["frames"] == 21 and second["end_reason"] == "split"
        with pytest.raises(IndexError, match="parts 1..3"):
            whole.part_summary(4)


@pytest.mark.parametrize("how", ["part", "output", "stem", "folder"])
def test_opened_from_a_part_the_output_path_or_the_folder(split, how):
    _, folder, _ = split
    args = {"part": (folder / "game.part0002.h5",), "output": (folder / "game.h5",), "stem": (folder / "game",),
            "folder": (folder, "game")}[how]
    with rr.open_session(*args) as whole:
        assert len(whole) == 60 and whole.manifest is not None


def test_without_the_manifest_the_folder_lists_the_parts(split):
    source, folder, manifest = split
    os.remove(manifest)
    with rr.open_session(folder / "game.part0001.h5") as whole, rr.open(source) as single:
        assert whole.manifest is None and [p.state for p in whole.parts] == ["sealed"] * 3
        assert_same_session(whole, single)
    os.remove(folder / "game.part0002.h5")
    with pytest.raises(rr.PartsError, match=r"part 2 is missing \(game.part0002.h5: no such file\)"):
        rr.open_session(folder, "game")


def test_a_format_2_session_split_mid_pan(tmp_path):
    shifts = [(i, i // 2) for i in range(12)]
    source = str(tmp_path / "pan.h5")
    write_panning_session(source, shifts, "chain")
    split_session(source, str(tmp_path), "pan", [5, 9])
    with rr.open_session(tmp_path / "pan.manifest.json") as whole, rr.open(source) as single:
        assert whole.attributes["format_version"] == 2
        assert_same_session(whole, single)


def test_devices_renumbered_per_part_map_to_one_table(tmp_path):
    source = _source(tmp_path / "single.h5")
    # Part 2 lists keyboard and mouse swapped (1, 0); part 3 as 7 and 3: matched by identity, not id.
    renumber = {1: {}, 2: {0: 1, 1: 0}, 3: {0: 7, 1: 3}}
    split_session(source, str(tmp_path / "out"), "game", [20, 41], renumber_devices=renumber.get)
    with rr.open_session(tmp_path / "out" / "game.manifest.json") as whole, rr.open(source) as single:
        assert [(d["id"], d["name"]) for d in whole.devices] == [(d["id"], d["name"]) for d in single.devices]
        np.testing.assert_array_equal(whole.events(), single.events())
        assert whole.event_counts() == single.event_counts()
        assert whole.devices[0]["keys_held_at_start"] == [42]


def test_a_new_device_in_a_later_part_keeps_a_free_id_or_takes_the_next(tmp_path):
    from recorder_reader.devices import DeviceTable

    def device(i, path):
        return {"id": i, "name": "pad", "path": path, "bus": 3, "vendor": 1, "product": 2, "version": 1, "phys": "",
                "uniq": "", "first_seen_ns": i, "capabilities": {1: [304]}, "keys_held_at_start": []}

    table = DeviceTable()
    assert table.add_part(1, [device(0, "/dev/input/event3"), device(1, "/dev/input/event4")]) == {0: 0, 1: 1}
    # Part 2: event4 renumbered 0, a new event9 as 1 (taken: becomes 2), a new event10 as 5 (free: stays 5).
    assert table.add_part(2, [device(0, "/dev/input/event4"), device(1, "/dev/input/event9"),
                              device(5, "/dev/input/event10")]) == {0: 1, 1: 2, 5: 5}
    # Part 3 numbers event3 (not in part 2) as 1: id 1 is event4, and rule 2 looks at part 2's devices
    # only, so it is a new device; id 1 is taken, it takes 6. Listed as 0, the id would match it again.
    assert table.add_part(3, [device(1, "/dev/input/event3")]) == {1: 6}
    assert table.add_part(4, [device(0, "/dev/input/event3")]) == {0: 0}
    assert [d["parts"] for d in table.devices] == [[1, 4], [1, 2], [2], [2], [3]]


def _set_attr(path, key, value):
    with h5py.File(path, "r+") as f:
        f.attrs[key] = value


def test_a_part_of_another_session_is_refused(split):
    _, folder, manifest = split
    _set_attr(folder / "game.part0002.h5", "session_id", "another")
    with pytest.raises(rr.PartsError, match=r"part 2 \(game.part0002.h5\) belongs to session 'another'"):
        rr.open_session(manifest)


def test_a_wrong_part_number_is_refused(split):
    _, folder, manifest = split
    _set_attr(folder / "game.part0003.h5", "part_number", np.int64(2))
    with pytest.raises(rr.PartsError, match=r"part 3 \(game.part0003.h5\) has part_number 2"):
        rr.open_session(manifest)


def test_a_wrong_previous_part_last_tick_is_refused(split):
    _, folder, manifest = split
    _set_attr(folder / "game.part0002.h5", "previous_part_last_tick", np.int64(18))
    with pytest.raises(rr.PartsError, match="previous part's last tick is 18, but it is 19"):
        rr.open_session(manifest)


def test_a_tick_in_two_parts_is_refused(tmp_path):
    source = _source(tmp_path / "single.h5")
    folder = tmp_path / "out"
    split_session(source, str(folder), "game", [20, 41])
    # Part 3's first frame says tick 44, part 2's last tick: one tick in two parts.
    with h5py.File(folder / "game.part0002.h5", "r") as f:
        last = int(f["video/tick"][-1])
    with h5py.File(folder / "game.part0003.h5", "r+") as f:
        f["video/tick"][0] = last
    with pytest.raises(rr.PartsError, match=r"part 3 \(game.part0003.h5\) starts at tick 44, not after tick 44 of part 2: a tick is in two parts"):
        rr.open_session(folder / "game.manifest.json")


def test_a_missing_part_is_an_error_unless_allowed(split):
    source, folder, manifest = split
    os.remove(folder / "game.part0002.h5")
    with pytest.raises(rr.PartsError, match=r"part 2 is missing .*allow_missing=True"):
        rr.open_session(manifest)
    with rr.open_session(manifest, allow_missing=True) as whole, rr.open(source) as single:
        assert [p.count for p in whole.parts] == [20, 0, 19] and len(whole) == 39
        assert whole.gaps == [{"number": 2, "file": "game.part0002.h5", "reason": "no such file",
                               "after_tick": 19, "before_tick": 45}]
        assert not whole.clean_shutdown
        for i, j in ((0, 0), (19, 19), (20, 41), (38, 59)):
            np.testing.assert_array_equal(whole.frame(i), single.frame(j))
        # The ticks of the missing part count as dropped: the gap is visible, not hidden.
        assert whole.dropped_ticks == single.dropped_ticks + 21
        assert whole.summary()["split"]["parts"][1]["missing"] == "no such file"


def test_a_part_the_manifest_lists_as_missing_or_deleted_after_upload(split):
    _, folder, manifest = split
    data = json.load(open(manifest))
    data["parts"][0]["state"] = "missing"
    data["parts"][2]["upload"] = {"state": "uploaded", "attempts": 1, "deleted": True}
    write_manifest(str(folder), "game", data)
    os.remove(folder / "game.part0003.h5")
    with pytest.raises(rr.PartsError, match="parts 1, 3 are missing.*lists it as missing.*deleted after its upload"):
        rr.open_session(manifest)
    with rr.open_session(manifest, allow_missing=True) as whole:
        assert len(whole) == 21 and [g["number"] for g in whole.gaps] == [1, 3]


def test_the_manifest_and_the_files_disagreeing_on_a_count_is_a_warning(split):
    _, folder, manifest = split
    data = json.load(open(manifest))
    data["parts"][1]["frames"] = 99
    write_manifest(str(folder), "game", data)
    with rr.open_session(manifest) as whole:
        assert whole.warnings == ["part 2 (game.part0002.h5): the manifest counts 99 frames, the file holds 21"]


def _manifest_error(folder, manifest, change):
    data = json.load(open(manifest))
    change(data)
    write_manifest(str(folder), "game", data)
    with pytest.raises(rr.PartsError) as error:
        rr.open_session(manifest)
    return str(error.value)


@pytest.mark.parametrize("change,message", [
    (lambda m: m["parts"][1].update(file="../game.part0002.h5"), "names '../game.part0002.h5', not 'game.part0002.h5'"),
    (lambda m: m["parts"][1].update(file="/etc/game.part0002.h5"), "a part must be a file of the manifest's own folder"),
    (lambda m: m["parts"][1].update(file="..part0002.h5"), "names '..part0002.h5'"),
    (lambda m: m["parts"][1].update(file="other.part0002.h5"), "names 'other.part0002.h5', not 'game.part0002.h5'"),
    (lambda m: m.update(name="../game"), "session name '../game' may not contain '/'"),
    (lambda m: m.update(name=".."), "session name '..' may not contain '/', '\\' or NUL, nor start with '.'"),
    (lambda m: m["parts"][1].update(frames="21"), "part 2: 'frames' must be an integer, found a string"),
    (lambda m: m["parts"][1].update(first_tick=True), "part 2: 'first_tick' must be an integer, found a boolean"),
    (lambda m: m["parts"][0].update(number=2), "parts[0] is numbered 2; parts are listed in order from 1"),
    (lambda m: m["parts"][0].update(frames=-1), "'frames' = -1 is out of range"),
    (lambda m: m["parts"][0].update(state="lost"), "'state' is 'lost', expected one of recording, sealed"),
    (lambda m: m["parts"][0].pop("previous_part_last_tick"), "part 1: 'previous_part_last_tick' is missing"),
    (lambda m: m["parts"][0].update(upload=[]), "'upload' must be an object, found an array"),
    (lambda m: m.update(parts={}), "'parts' must be an array, found an object"),
    (lambda m: m.update(parts=[7]), "parts[0] must be a JSON object, found an integer"),
    (lambda m: m.update(version=2), "manifest version 2 is not supported"),
    (lambda m: m.update(format="recorder-session"), "format is 'recorder-session', expected 'recorder-session-manifest'"),
    (lambda m: m.update(mono_to_utc_ns=1 << 64), "'mono_to_utc_ns' = 18446744073709551616 is out of range"),
    (lambda m: m.pop("session_id"), "'session_id' is missing"),
])
def test_hostile_manifests_are_refused_with_a_sentence(split, change, message):
    _, folder, manifest = split
    assert message in _manifest_error(folder, manifest, change)


@pytest.mark.parametrize("content,message", [
    (b"", "not JSON"), (b"[1, 2]", "must be a JSON object, found an array"), (b"\xff\xfe{}", "not UTF-8"),
    (b"[" * 100000 + b"]" * 100000, "not JSON"), (b'{"format": NaN}', "'format' must be a string, found a number"),
])
def test_manifests_that_are_not_json_objects(tmp_path, content, message):
    path = tmp_path / "game.manifest.json"
    path.write_bytes(content)
    with pytest.raises(rr.PartsError, match=message):
        rr.open_session(path)


def test_a_huge_manifest_or_a_fifo_is_not_read(tmp_path):
    path = tmp_path / "game.manifest.json"
    with open(path, "wb") as handle:
        handle.truncate(MAX_MANIFEST_BYTES + 1)
    with pytest.raises(rr.PartsError, match="is 16777217 bytes; a session manifest is at most 16777216"):
        rr.open_session(path)
    os.remove(path)
    os.mkfifo(path)
    with pytest.raises(rr.PartsError, match="is not a regular file"):
        rr.open_session(path)


def test_a_live_last_part_is_read_and_followed(tmp_path):
    """Part 1 sealed, part 2 being written by a SWMR writer process: the sequence grows on refresh()."""
    source = str(tmp_path / "single.h5")
    write_session(source, count=10, height=H, width=W, keyframe_interval=3)
    folder = tmp_path / "out"
    manifest = split_session(source, str(folder), "game", [], manifest_state="recording")
    _set_attr(folder / "game.part0001.h5", "part_final", np.int64(0))
    attrs = {"session_id": SESSION_ID, "part_number": 2, "previous_part_last_tick": 9, "part_final": 0}
    writer = WriterProcess(str(folder / "game.part0002.h5"), keyframe_interval=3, first=10, attrs=attrs)
    try:
        manifest["parts"].append({"number": 2, "file": "game.part0002.h5", "state": "recording",
                                  "previous_part_last_tick": 9, "frames": 0, "events": 0, "samples": 0, "bytes": 0})
        write_manifest(str(folder), "game", manifest)
        assert writer.send("append 4") == "ok 14"
        with rr.open_session(folder / "game.manifest.json") as whole:
            assert whole.swmr and whole.parts[1].live and len(whole) == 14 and whole.end_reason == ""
            assert writer.send("append 5") == "ok 19"
            assert whole.refresh() == 19
            np.testing.assert_array_equal(whole.ticks, np.arange(19))
            with rr.open(source) as single:
                np.testing.assert_array_equal(whole.frame(9), single.frame(9))
            from make_session import scene_image
            for i in (10, 13, 18):
                np.testing.assert_array_equal(whole.frame(i), scene_image(i, H, W))
            assert writer.send("finish") == "done"
            manifest["state"], manifest["end_reason"] = "ended", "stopped"
            manifest["parts"][1].update(state="sealed", frames=9, events=9)
            write_manifest(str(folder), "game", manifest)
            assert whole.refresh() == 19
            assert not whole.swmr and whole.end_reason == "stopped" and whole.clean_shutdown
    finally:
        writer.close()


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "recorder_reader", *map(str, args)], capture_output=True, text=True,
                          cwd=PYTHON_DIR)


def test_inspect_and_frame_accept_a_manifest(split, tmp_path):
    source, folder, manifest = split
    out = _cli("inspect", manifest, "--json")
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["video"]["frames"] == 60 and len(summary["split"]["parts"]) == 3
    text = _cli("inspect", folder / "game.h5")
    assert text.returncode == 0, text.stderr
    assert "split              3 parts every 5 s" in text.stdout
    assert "  [2] game.part0002.h5 sealed, 21 frames, ticks 21..44, 24 events" in text.stdout
    # A part's own path inspects that part alone.
    part = json.loads(_cli("inspect", folder / "game.part0002.h5", "--json").stdout)
    assert part["video"]["frames"] == 21 and "split" not in part
    png = tmp_path / "f.png"
    assert _cli("frame", manifest, 45, png).returncode == 0
    from PIL import Image
    with rr.open(source) as single:
        np.testing.assert_array_equal(np.asarray(Image.open(png)), single.frame(45))
    os.remove(folder / "game.part0002.h5")
    missing = _cli("inspect", manifest)
    assert missing.returncode == 1 and "part 2 is missing" in missing.stderr and "Traceback" not in missing.stderr
    allowed = _cli("inspect", manifest, "--allow-missing", "--json")
    assert allowed.returncode == 0 and json.loads(allowed.stdout)["split"]["gaps"][0]["number"] == 2
    labels = _cli("labels", "import", manifest, "--set", "x", tmp_path / "l.csv")
    assert labels.returncode == 1 and "split session" in labels.stderr


def test_a_hostile_manifest_on_the_command_line_is_one_sentence(tmp_path):
    path = tmp_path / "game.manifest.json"
    path.write_text(json.dumps({"format": "recorder-session-manifest", "version": 1, "name": "game", "parts": 5}))
    out = _cli("inspect", path)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.strip().startswith("recorder-reader: ") and "game.manifest.json: 'split' is missing" in out.stderr


def test_export_mp4_of_a_split_session_equals_the_single_file(split, tmp_path):
    pytest.importorskip("av")
    from recorder_reader.export import export

    source, _, manifest = split
    whole = export(manifest, "mp4", str(tmp_path / "whole.mp4"))
    single = export(source, "mp4", str(tmp_path / "single.mp4"))
    assert whole["frames"] == single["frames"] == 65
