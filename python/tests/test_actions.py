"""Session.actions() and keys_down_at() on files the recorder wrote, live (umockdev nodes through
libevdev) and replayed, against a frame-by-frame computation with plain h5py."""
import os

import h5py
import hdf5plugin  # noqa: F401
import numpy as np
import pytest

import recorder_reader as rr
import umockdev_input as um
from test_live_input import EVEMU
from test_swift_recorded import RECORDER, display, record  # noqa: F401  (module-scoped Xvfb fixture)

MOUSE_BUTTONS = set(range(0x110, 0x118))


def is_key(code):
    return not (0x100 <= code < 0x160 or 0x2c0 <= code < 0x300)


def expected_actions(path):
    """Frame by frame: replay everything before t_i for the state, then look inside [t_i, t_{i+1})."""
    with h5py.File(path, "r") as f:
        ts = f["video/timestamp_ns"][:].astype(np.int64)
        ev = f["input/events"][:]
        held0 = f["input/keys_held_at_start"][:]
        info = f["input/abs_info"][:]
    t = ev["t_ns"].astype(np.int64)
    ends = np.append(ts[1:], np.iinfo(np.int64).max)
    keys, buttons, rel, wheel, axes = [], [], [], [], []
    for start, end in zip(ts, ends):
        down = {(int(r["device"]), int(r["code"])) for r in held0}
        for r in ev[(t < start) & (ev["type"] == 1)]:
            (down.add if r["value"] else down.discard)((int(r["device"]), int(r["code"])))
        inside = ev[(t >= start) & (t < end)]
        pressed = {int(r["code"]) for r in inside if r["type"] == 1 and r["value"]}
        codes = {c for _, c in down} | pressed
        keys.append({c for c in codes if is_key(c)})
        buttons.append({c for c in codes if c in MOUSE_BUTTONS})
        total = lambda code: int(inside["value"][(inside["type"] == 2) & (inside["code"] == code)].astype(np.int64).sum())  # noqa: E731
        rel.append((total(0), total(1)))
        wheel.append((total(8), total(6)))
        row = []
        for a in info:
            mine = ev[(t < end) & (ev["type"] == 3) & (ev["device"] == a["device"]) & (ev["code"] == a["code"])]
            value = int(mine["value"][-1]) if len(mine) else int(a["value"])
            lo, hi = int(a["min"]), int(a["max"])
            # A value outside the axis' range (an emulated node's 0 at open below min 1) is clipped.
            row.append(min(1, max(-1, 2 * (value - lo) / (hi - lo) - 1)) if lo < 0 < hi else min(1, max(0, (value - lo) / (hi - lo))))
        axes.append(row)
    return keys, buttons, np.array(rel), np.array(wheel), np.array(axes).reshape(len(ts), len(info))


def check(path):
    keys, buttons, rel, wheel, axes = expected_actions(path)
    with rr.open(path) as s:
        a = s.actions()
        assert len(a) == len(s) == len(keys)
        got_keys = [{int(c) for c in a.key_codes[row]} for row in a.keys]
        got_buttons = [{int(c) for c in a.button_codes[row]} for row in a.buttons]
        assert got_keys == keys
        assert got_buttons == buttons
        np.testing.assert_array_equal(a.rel, rel)
        np.testing.assert_array_equal(a.wheel, wheel)
        np.testing.assert_allclose(a.abs, axes, atol=1e-12)
        assert np.all(np.abs(a.abs) <= 1.0)
        # keys_down_at against a plain replay at a few instants.
        with h5py.File(path, "r") as f:
            ev = f["input/events"][:]
        key_events = ev[ev["type"] == 1]
        for t in np.quantile(s.timestamps_ns, [0.0, 0.3, 0.6, 1.0]).astype(np.int64):
            down = set()
            for r in key_events[key_events["t_ns"] <= t]:
                (down.add if r["value"] else down.discard)(int(r["code"]))
            assert s.keys_down_at(int(t)) == sorted(down)
        return a


def test_actions_of_a_live_recording(display, tmp_path):  # noqa: F811
    """Keyboard, mouse and gamepad at once, each an emulated node read through libevdev."""
    feeds = []
    for node, (desc, events) in enumerate([("logitech-k400-plus.events", None),
                                           ("saitek-rat5-mouse.desc", "saitek-rat5-mouse.events"),
                                           ("madcatz-xbox360-pad.events", None)]):
        device, expected = um.parse_evemu(os.path.join(EVEMU, desc))
        if events:
            _, expected = um.parse_evemu(os.path.join(EVEMU, events))
        device_file, ioctl_file, devnode = um.write_umockdev(device, str(tmp_path), 20 + node)
        script = um.write_script(expected, str(tmp_path / ("feed%d.script" % node)), delay_ms=3)
        feeds.append((device_file, ioctl_file, devnode, "-s", script))
    out = str(tmp_path / "a.h5")
    # The mouse's 803 frames at 3 ms, with room for a loaded machine.
    rc, log = um.record_under_umockdev(RECORDER, display, out, um.LEAD_MS / 1000 + 5, feeds)
    assert rc == 0, log
    a = check(out)
    assert a.keys.any() and a.buttons.any() and np.abs(a.rel).sum() > 0 and a.wheel.shape == (len(a), 2)
    # The pad: 4 stick axes and 2 hat axes centred, 2 triggers not; the keyboard: ABS_VOLUME, not centred.
    assert len(a.abs_axes) == 9 and a.abs_centred.tolist().count(True) == 6
    assert np.abs(a.abs).max() > 0


@pytest.mark.parametrize("fixture", ["madcatz-xbox360-pad.events", "saitek-rat5-mouse.desc,saitek-rat5-mouse.events",
                                     "logitech-k400-plus.events"])
def test_actions_of_a_replayed_recording(display, tmp_path, fixture):  # noqa: F811
    path = tmp_path / "r.h5"
    parts = [os.path.join(EVEMU, p) for p in fixture.split(",")]
    record(display, path, "--duration", "4", "--input", "replay:" + ",".join(parts))
    a = check(str(path))
    assert len(a) > 0
