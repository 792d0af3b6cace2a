"""The live evdev path (libevdev, epoll, inotify) of `recorder record --input auto` on emulated nodes.

Every node is a umockdev device answering with a real device's ioctl answers (the USB keyboard
dump, or an evemu description of a real device) and fed a real device's events; the recorder runs
under `umockdev-run` or, for hotplug, under a testbed driver. The expected events come from this
file's own parsing of the fixtures (umockdev_input), never from the recorder.
"""
import json
import os
import signal
import subprocess

import h5py
import hdf5plugin  # noqa: F401
import numpy as np
import pytest

import umockdev_input as um
from test_swift_recorded import RECORDER, display  # noqa: F401  (module-scoped Xvfb fixture)

SHARED = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))),
                      "shared", "fixtures")
UMOCKDEV = os.path.join(SHARED, "umockdev")
EVEMU = os.path.join(SHARED, "evemu")
TESTS_DIR = os.path.dirname(os.path.abspath(__file__))


def stored(path):
    """(events as (type, code, value, flags, device) rows, devices, notes, abs_info) read with plain h5py."""
    with h5py.File(path, "r") as f:
        assert f.attrs["clean_shutdown"] == 1
        events = f["input/events"][:]
        devices = f["input/devices"][:]
        notes = [(n["kind"].decode(), n["message"].decode()) for n in f["log/notes"][:]]
        abs_info = f["input/abs_info"][:]
    rows = [(int(e["type"]), int(e["code"]), int(e["value"]), int(e["flags"]), int(e["device"])) for e in events]
    for device in set(events["device"].tolist()):
        assert np.all(np.diff(events["t_ns"][events["device"] == device].astype(np.int64)) >= 0)
    return rows, devices, notes, abs_info


def triples(rows, device=None):
    return [(t, c, v) for t, c, v, _, d in rows if device is None or d == device]


def assert_not_refused(notes):
    assert not [n for n in notes if n[0] == "device-unreadable"], notes


def record_usb_keyboard(display, out, seconds, feed_option, feed_file):
    """Records `seconds` with the USB keyboard dump emulated as /dev/input/event5 and fed `feed_file`
    (`-e` an evemu recording, `-s` a umockdev script); returns the recorder's (returncode, stderr)."""
    node = (os.path.join(UMOCKDEV, "usbkbd.umockdev"), os.path.join(UMOCKDEV, "usbkbd.ioctl"), "/dev/input/event5")
    return um.record_under_umockdev(RECORDER, display, out, seconds, [(*node, feed_option, feed_file)])


def test_usb_keyboard_dump_fed_an_evemu_recording_records_every_event(display, tmp_path):  # noqa: F811
    """The issue's command: the raw USB keyboard dump (evtest's buffer sizes, no EVIOCSCLOCKID)."""
    feed = os.path.join(EVEMU, "logitech-k400-plus.events")
    _, expected = um.parse_evemu(feed)
    out = str(tmp_path / "k.h5")
    # The recording spans 11.6 s and umockdev plays it in real time.
    rc, log = record_usb_keyboard(display, out, 12.5, "-e", feed)
    assert rc == 0, log
    rows, devices, notes, _ = stored(out)
    assert triples(rows) == [(t, c, v) for _, t, c, v in expected]
    assert len(rows) == 15
    assert devices["clock_source"].tolist() == [b"realtime"]
    assert devices["path"].tolist() == [b"/dev/input/event5"]
    assert [k for k, _ in notes].count("clock-realtime") == 1
    assert_not_refused(notes)


def test_usb_keyboard_dump_fed_its_script(display, tmp_path):  # noqa: F811
    script = os.path.join(UMOCKDEV, "usbkbd.script")
    expected = [record for _, records in um.parse_script(script) for record in records]
    out = str(tmp_path / "s.h5")
    rc, log = record_usb_keyboard(display, out, 3, "-s", script)
    assert rc == 0, log
    rows, _, notes, _ = stored(out)
    assert triples(rows) == expected and len(expected) == 15
    assert_not_refused(notes)


def test_usb_keyboard_answers_through_libevdev(display, tmp_path):  # noqa: F811
    """The same keyboard's answers in libevdev's buffer sizes: libevdev sets it up and classifies it."""
    device = um.parse_ioctl_dump(os.path.join(UMOCKDEV, "usbkbd.ioctl"))
    device_file, ioctl_file, devnode = um.write_umockdev(device, str(tmp_path), 5)
    script = os.path.join(UMOCKDEV, "usbkbd.script")
    expected = [record for _, records in um.parse_script(script) for record in records]
    out = str(tmp_path / "l.h5")
    rc, log = um.record_under_umockdev(RECORDER, display, out, 3, [(device_file, ioctl_file, devnode, "-s", script)])
    assert rc == 0, log
    rows, devices, notes, _ = stored(out)
    assert triples(rows) == expected
    assert devices["kind"].tolist() == [b"keyboard"] and devices["name"].tolist() == [b"HID 05f3:0007"]
    assert not [n for n in notes if n[0] == "device-degraded"], notes
    assert_not_refused(notes)


EVEMU_FIXTURES = [
    ("logitech-k400-plus.events", None, "keyboard"),
    ("saitek-rat5-mouse.desc", "saitek-rat5-mouse.events", "mouse"),
    ("ps2-generic-mouse.desc", "ps2-generic-mouse.events", "mouse"),
    ("madcatz-xbox360-pad.events", None, "gamepad"),
]


@pytest.mark.parametrize("desc,events,kind", EVEMU_FIXTURES)
def test_every_evemu_fixture_runs_through_libevdev_on_an_emulated_node(display, tmp_path, desc, events, kind):  # noqa: F811
    device, expected = um.parse_evemu(os.path.join(EVEMU, desc))
    if events:
        _, expected = um.parse_evemu(os.path.join(EVEMU, events))
    device_file, ioctl_file, devnode = um.write_umockdev(device, str(tmp_path), 3)
    feed = um.write_script(expected, str(tmp_path / "feed.script"))
    frames = sum(1 for _, t, c, _ in expected if (t, c) == (um.EV_SYN, um.SYN_REPORT))
    out = str(tmp_path / "e.h5")
    # The script's lead, then 2 ms per frame and more on a loaded machine: room for 4 ms.
    rc, log = um.record_under_umockdev(RECORDER, display, out, round(um.LEAD_MS / 1000 + 1.5 + frames * 0.004, 1),
                                       [(device_file, ioctl_file, devnode, "-s", feed)])
    assert rc == 0, log
    rows, devices, notes, abs_info = stored(out)
    # libevdev passes on only what the node declares (a kernel never sends anything else); the K400
    # recording's description lacks EV_MSC although its events carry MSC_SCAN.
    declared = [(t, c, v) for _, t, c, v in expected if t == um.EV_SYN or (device.has_type(t) and c in device.codes(t))]
    assert triples(rows) == declared
    assert len(declared) == len(expected) - (3 if desc.startswith("logitech") else 0)
    assert devices["kind"].tolist() == [kind.encode()]
    assert devices["clock_source"].tolist() == [b"realtime"]
    assert not [n for n in notes if n[0] == "device-degraded"], notes
    assert_not_refused(notes)
    # abs_info: one row per EV_ABS code with the description's range.
    assert sorted(abs_info["code"].tolist()) == sorted(device.codes(um.EV_ABS))
    for row in abs_info:
        _, lo, hi, fuzz, flat, res = device.absinfo[int(row["code"])]
        assert (row["min"], row["max"], row["fuzz"], row["flat"], row["resolution"]) == (lo, hi, fuzz, flat, res)


def test_syn_dropped_runs_libevdevs_resync_and_flags_its_events(display, tmp_path):  # noqa: F811
    """A gamepad pushes a stick and holds a button, then the kernel drops events: libevdev asks the
    node for its state (all at rest in the dump) and the differences come out flagged synthetic."""
    device, _ = um.parse_evemu(os.path.join(EVEMU, "madcatz-xbox360-pad.events"))
    device_file, ioctl_file, devnode = um.write_umockdev(device, str(tmp_path), 4)
    BTN_SOUTH, ABS_X, ABS_RZ = 0x130, 0x00, 0x05
    before = [(0.0, 3, ABS_X, 12000), (0.0, 0, 0, 0), (0.01, 1, BTN_SOUTH, 1), (0.01, 3, ABS_RZ, 200), (0.01, 0, 0, 0)]
    after = [(0.5, 3, ABS_X, -500), (0.5, 0, 0, 0)]
    # A long pause around the drop: libevdev discards what is queued behind a SYN_DROPPED.
    feed = um.write_script_records([(um.LEAD_MS, before[:2]), (1, before[2:]), (200, [(0.2, 0, um.SYN_DROPPED, 0)]), (300, after)],
                                   str(tmp_path / "drop.script"))
    out = str(tmp_path / "d.h5")
    rc, log = um.record_under_umockdev(RECORDER, display, out, um.LEAD_MS / 1000 + 2,
                                       [(device_file, ioctl_file, devnode, "-s", feed)])
    assert rc == 0, log
    rows, _, notes, _ = stored(out)
    real = [(t, c, v) for t, c, v, flags, _ in rows if not flags & 1]
    synthetic = [(t, c, v) for t, c, v, flags, _ in rows if flags & 1]
    assert real == [(t, c, v) for _, t, c, v in before] + [(0, um.SYN_DROPPED, 0)] + [(t, c, v) for _, t, c, v in after]
    # Independent expectation: every key down and every axis off its dumped value goes back to the
    # dump's state (keys up, axes at the EVIOCGABS value), then one SYN_REPORT.
    state = {}
    for _, t, c, v in before:
        if t in (1, 3):
            state[(t, c)] = v
    dumped = {(3, code): info[0] for code, info in device.absinfo.items()}
    expected = sorted((t, c, 0 if t == 1 else dumped[(t, c)]) for (t, c), v in state.items()
                      if (t == 1 and v) or (t == 3 and v != dumped[(t, c)]))
    assert sorted(synthetic[:-1]) == expected and synthetic[-1] == (0, 0, 0)
    synthetic_at = [i for i, r in enumerate(rows) if r[3] & 1]
    drop_at = [i for i, r in enumerate(rows) if r[:3] == (0, um.SYN_DROPPED, 0)][0]
    assert synthetic_at == list(range(drop_at + 1, drop_at + 1 + len(synthetic)))
    assert any(k == "syn-dropped" for k, _ in notes), notes


def test_hotplug_while_recording(display, tmp_path):  # noqa: F811
    """A mouse appears after the start, is removed while it is read, and comes back: each arrival
    is picked up (a new row each time), the removal is a device-removed note, the session goes on."""
    device, events = um.parse_evemu(os.path.join(EVEMU, "saitek-rat5-mouse.desc"))
    _, events = um.parse_evemu(os.path.join(EVEMU, "saitek-rat5-mouse.events"))
    device_file, ioctl_file, devnode = um.write_umockdev(device, str(tmp_path), 9)
    # It comes back as another node (umockdev keeps a removed node's emulation attached to its name).
    again_file, again_ioctl, again_node = um.write_umockdev(device, str(tmp_path), 10)
    # 10 ms per frame: the removal at 1 s comes while the first script is still being read.
    first = um.write_script(events[:600], str(tmp_path / "first.script"), delay_ms=10, lead_ms=100)
    # Its script may start at a first open that fails (the node appears before its ioctl answers)
    # and flow before the retry 250 ms later: a 1 s lead keeps that backlog empty.
    second = um.write_script(events[300:600], str(tmp_path / "second.script"), delay_ms=5, lead_ms=1000)
    out = str(tmp_path / "h.h5")
    plan = {
        "log": str(tmp_path / "h.log"), "timeout": 60,
        "command": [RECORDER, "record", "--display", display, "--output", out, "--duration", "9", "--input", "auto"],
        "steps": [
            {"do": "wait_log", "text": "recorder: recording"},
            {"do": "sleep", "seconds": 1.0},
            {"do": "add", "devnode": devnode, "umockdev": device_file, "ioctl": ioctl_file, "script": first},
            {"do": "sleep", "seconds": 1.0},
            {"do": "remove", "devnode": devnode},
            {"do": "sleep", "seconds": 0.5},
            {"do": "add", "devnode": again_node, "umockdev": again_file, "ioctl": again_ioctl, "script": second},
        ],
    }
    plan_path = str(tmp_path / "plan.json")
    with open(plan_path, "w") as f:
        json.dump(plan, f)
    driver = subprocess.Popen(["umockdev-wrapper", "/usr/bin/python3", os.path.join(TESTS_DIR, "umockdev_hotplug.py"), plan_path],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        _, stderr = driver.communicate(timeout=90)
    finally:
        # The recorder and umockdev's feeders outlive a driver that failed.
        try:
            os.killpg(driver.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    result = subprocess.CompletedProcess(driver.args, driver.returncode, "", stderr)
    with open(plan["log"]) as f:
        log = f.read()
    assert result.returncode == 0, result.stderr + log
    rows, devices, notes, _ = stored(out)
    kinds = [k for k, _ in notes]
    assert devices["id"].tolist() == [0, 1] and devices["kind"].tolist() == [b"mouse", b"mouse"]
    assert kinds.count("device-added") == 2
    assert "device-removed" in kinds
    assert kinds.index("device-removed") < len(kinds) - 1 - kinds[::-1].index("device-added")
    # The first node went away mid-script: what was read is a prefix of its events, in order.
    first_read = triples(rows, 0)
    assert 0 < len(first_read) < 600
    assert first_read == [(t, c, v) for _, t, c, v in events[:len(first_read)]]
    removed = [m for k, m in notes if k == "device-removed" and "device 0 " in m]
    assert removed and "%d events read" % len(first_read) in removed[0]
    assert triples(rows, 1) == [(t, c, v) for _, t, c, v in events[300:600]]
    assert not [n for n in notes if n[0] == "device-unreadable"], notes
