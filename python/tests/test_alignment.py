"""Timestamps, ticks, cursor and the input/state alignment helpers on crafted data."""

import datetime as dt

import h5py
import numpy as np
import pytest

import recorder_reader as rr
from make_session import MONO_TO_UTC_NS, START_NS, write_session

MS = 1_000_000
# Six frames at ticks 0,1,2,5,6,9 (4 dropped slots); timestamps 100 ms + tick * 10 ms.
TICKS = [0, 1, 2, 5, 6, 9]
TIMESTAMPS = [START_NS + 100 * MS + t * 10 * MS for t in TICKS]
EVENTS = [
    (START_NS + 50 * MS, 0, 1, 30, 1, 0),    # before the first frame
    (TIMESTAMPS[0], 0, 1, 30, 0, 0),         # exactly at frame 0
    (TIMESTAMPS[0] + 1, 1, 2, 0, 5, 0),
    (TIMESTAMPS[0] + 2, 1, 0, 0, 0, 0),
    (TIMESTAMPS[2] - 1, 1, 2, 1, -3, 1),     # last ns of frame 1's time
    (TIMESTAMPS[2], 0, 1, 31, 1, 2),         # exactly at frame 2
    (TIMESTAMPS[5] + 30 * MS, 0, 1, 31, 0, 0),
]


@pytest.fixture()
def session(tmp_path):
    path = str(tmp_path / "aligned.h5")
    write_session(
        path, count=6, ticks=TICKS, timestamps=TIMESTAMPS, events=EVENTS,
        samples=[(START_NS + k * 200 * MS, 10 + k, 20 + k, 1.0 - k / 4, k / 4) for k in range(3)],
        windows=[(START_NS, 0x1400007, "Game — level 1".encode(), b"game.Game", 4242, 0, 0, 640, 480)],
        notes=[(START_NS + 5, b"capture", b"target-found", b"window 0x1400007"),
               (START_NS + 9, b"input", b"device-added", b"Test Mouse")],
        meta={"player": "p1", "level": "3"},
    )
    with rr.open(path) as s:
        yield s


def test_ticks_and_dropped_slots(session):
    np.testing.assert_array_equal(session.ticks, TICKS)
    np.testing.assert_array_equal(session.timestamps_ns, TIMESTAMPS)
    assert session.dropped_ticks == 4
    gaps = session.tick_gaps()
    assert gaps["frame"].tolist() == [3, 5] and gaps["missing"].tolist() == [2, 2]


def test_dropped_slots_before_the_first_frame(tmp_path):
    path = str(tmp_path / "late.h5")
    write_session(path, count=3, ticks=[2, 3, 7])
    with rr.open(path) as s:
        assert s.dropped_ticks == 2 + 3
        assert s.tick_gaps().tolist() == [(0, 2), (2, 3)]


def test_frame_index(session):
    assert session.frame_index(START_NS) == -1
    assert session.frame_index(TIMESTAMPS[0] - 1) == -1
    assert session.frame_index(TIMESTAMPS[0]) == 0
    assert session.frame_index(TIMESTAMPS[3] - 1) == 2
    assert session.frame_index(TIMESTAMPS[3]) == 3
    assert session.frame_index(TIMESTAMPS[5] + 10**12) == 5
    times = np.array([TIMESTAMPS[0] - 1, TIMESTAMPS[1] + 7, TIMESTAMPS[4], TIMESTAMPS[5] + 1])
    indices = session.frame_index(times)
    assert indices.dtype == np.int64 and indices.tolist() == [-1, 1, 4, 5]
    assert session.frame_index(session.events()["t_ns"]).tolist() == [-1, 0, 0, 0, 1, 2, 5]


def test_events_window_and_filters(session):
    all_events = session.events()
    assert all_events.dtype.names == ("t_ns", "device", "type", "code", "value", "flags")
    assert len(all_events) == 7
    assert session.events(TIMESTAMPS[0], TIMESTAMPS[2])["t_ns"].tolist() == [e[0] for e in EVENTS[1:5]]
    assert len(session.events(start_ns=TIMESTAMPS[2])) == 2
    assert len(session.events(end_ns=TIMESTAMPS[0])) == 1
    assert session.events(device=1)["value"].tolist() == [5, 0, -3]
    assert session.events(type=1, device=0)["code"].tolist() == [30, 30, 31, 31]
    assert (session.events()["flags"] & rr.EVENT_FLAG_REDACTED).nonzero()[0].tolist() == [5]
    assert session.event_counts() == {0: 4, 1: 3}


def test_events_between_frames(session):
    assert session.events_between_frames(0, 2)["t_ns"].tolist() == [e[0] for e in EVENTS[1:5]]
    assert session.events_between_frames(0, 1)["t_ns"].tolist() == [e[0] for e in EVENTS[1:4]]
    assert session.events_between_frames(2, 3)["t_ns"].tolist() == [EVENTS[5][0]]
    assert session.events_between_frames(-1, len(session))["t_ns"].tolist() == [EVENTS[6][0]]
    assert len(session.events_between_frames(3, 3)) == 0
    with pytest.raises(IndexError):
        session.events_between_frames(0, 7)


def test_events_out_of_order_are_still_selected(tmp_path):
    path = str(tmp_path / "unordered.h5")
    shuffled = [EVENTS[k] for k in (3, 0, 6, 1, 5, 2, 4)]
    write_session(path, count=6, ticks=TICKS, timestamps=TIMESTAMPS, events=shuffled)
    with rr.open(path) as s:
        got = s.events(TIMESTAMPS[0], TIMESTAMPS[2])["t_ns"].tolist()
        assert got == [EVENTS[k][0] for k in (3, 1, 2, 4)]  # read order kept


def test_utc(session):
    assert session.mono_to_utc_ns == MONO_TO_UTC_NS
    assert session.utc_ns(START_NS) == START_NS + MONO_TO_UTC_NS
    when = session.utc(START_NS + 1_234_567)
    assert when == dt.datetime(2026, 11, 18, 11, 6, 40, 1234, tzinfo=dt.timezone.utc)
    array = session.utc(session.timestamps_ns)
    assert array.dtype == np.dtype("datetime64[ns]")
    assert array[0] == np.datetime64("2026-11-18T11:06:40.100000000")


def test_cursor_origin_flags(session):
    assert session.cursor.shape == (6, 2)
    assert session.cursor.tolist() == [[i % 64, i % 48] for i in range(6)]
    assert session.origin.tolist() == [[0, 0]] * 6
    assert session.frame_flags.tolist() == [0] * 6


def test_devices_state_window_notes_meta(session):
    devices = session.devices
    assert [d["name"] for d in devices] == ["Test Keyboard", "Test Mouse"]
    assert devices[0]["capabilities"] == {0: [0], 1: [30, 31, 32]}
    assert devices[1]["capabilities"] == {0: [0], 1: [272], 2: [0, 1]}
    assert devices[0]["keys_held_at_start"] == [42] and devices[1]["keys_held_at_start"] == []
    assert devices[0]["path"] == "/dev/input/event3" and devices[1]["kind"] == "mouse"
    samples = session.state_samples()
    assert samples.dtype.names == ("t_ns", "cursor_x", "cursor_y", "hp", "mana")
    assert samples["hp"].tolist() == [1.0, 0.75, 0.5]
    assert len(session.state_samples(START_NS + 100 * MS, START_NS + 400 * MS)) == 1
    assert session.state_fields == ["hp", "mana"]
    assert session.window_changes() == [{
        "t_ns": START_NS, "window_id": 0x1400007, "title": "Game — level 1", "wm_class": "game.Game",
        "pid": 4242, "x": 0, "y": 0, "width": 640, "height": 480}]
    assert [(n["kind"], n["message"]) for n in session.notes()] == [
        ("target-found", "window 0x1400007"), ("device-added", "Test Mouse")]
    assert session.meta == {"player": "p1", "level": "3"}
    attributes = session.attributes
    assert attributes["format"] == "recorder-session" and attributes["format_version"] == 1
    assert attributes["clean_shutdown"] == 1 and session.clean_shutdown and session.end_reason == "duration"
    assert session.session_start_ns == START_NS


def test_summary_counts(session):
    summary = session.summary()
    assert summary["video"]["frames"] == 6 and summary["video"]["dropped_ticks"] == 4
    span_s = (TIMESTAMPS[-1] - TIMESTAMPS[0]) / 1e9
    assert summary["video"]["fps_achieved"] == pytest.approx(5 / span_s)
    last_sample_ns = START_NS + 400 * MS  # later than the last frame and the last event
    assert summary["duration_s"] == pytest.approx((last_sample_ns - START_NS) / 1e9)
    by_device = {d["id"]: d for d in summary["input"]["devices"]}
    assert by_device[0]["by_type"] == {"EV_KEY": 4} and by_device[1]["by_type"] == {"EV_REL": 2, "EV_SYN": 1}
    assert summary["note_kinds"] == {"device-added": 1, "target-found": 1}
    assert summary["state"] == {"samples": 3, "rate_hz": 5, "fields": ["hp", "mana"]}
