"""`python3 -m recorder_reader inspect`: text, --json, contact sheet and timeline PNGs."""

import json
import os
import subprocess
import sys

import h5py
import numpy as np
import pytest
from PIL import Image

from make_session import START_NS, write_session

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MS = 1_000_000


def run_reader(*args):
    env = dict(os.environ, PYTHONPATH=PACKAGE_ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), MPLBACKEND="Agg")
    return subprocess.run([sys.executable, "-m", "recorder_reader", *args], capture_output=True, text=True,
                          env=env, timeout=120)


@pytest.fixture(scope="module")
def session_file(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("inspect") / "played.h5")
    ticks = [t for t in range(40) if t not in (10, 11, 25)]
    events = []
    for k in range(12):
        t = START_NS + k * 50 * MS
        events += [(t, 0, 1, 30 + k % 3, 1, 0), (t + 1, 0, 0, 0, 0, 0),
                   (t + 2, 1, 2, 0, 3, 0), (t + 3, 1, 2, 1, -2, 0), (t + 4, 1, 0, 0, 0, 0)]
    images = write_session(
        path, count=len(ticks), ticks=ticks, codec="zstd", keyframe_interval=6, events=events,
        samples=[(START_NS + k * 200 * MS, 1, 2, 1 - k / 4, k / 4) for k in range(4)],
        notes=[(START_NS + 5, b"capture", b"x-error", b"BadMatch")], meta={"game": "demo"})
    return path, ticks, images


def stored_chunk_bytes(path):
    """Sum of the frame chunks' sizes, from the chunk index (independent of get_storage_size)."""
    with h5py.File(path, "r") as f:
        frames = f["video/frames"]
        return sum(frames.id.get_chunk_info(k).size for k in range(frames.id.get_num_chunks()))


def test_inspect_text(session_file):
    path, ticks, _ = session_file
    result = run_reader("inspect", path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.splitlines()[0] == path
    assert "64x48, 37 frames, 60 fps target" in out
    assert "3 dropped ticks" in out
    assert "zstd level 3, keyframe interval 6 (7 whole, 30 residual frames)" in out
    assert "compression ratio %.2f" % (37 * 48 * 64 * 3 / stored_chunk_bytes(path)) in out
    assert "60 events from 2 devices" in out
    assert "[0] Test Keyboard" in out and "EV_KEY 12, EV_SYN 12" in out
    assert "[1] Test Mouse" in out and "EV_REL 24, EV_SYN 12" in out
    assert "4 samples at 5 Hz, fields: hp, mana" in out
    assert "duration; clean shutdown: yes" in out
    assert "notes              1 (x-error 1)" in out
    assert "meta               game=demo" in out


def test_inspect_json(session_file):
    path, ticks, _ = session_file
    result = run_reader("inspect", path, "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    video = summary["video"]
    assert video["frames"] == 37 and video["dropped_ticks"] == 3
    assert video["stored_bytes"] == stored_chunk_bytes(path)
    assert video["compression_ratio"] == pytest.approx(37 * 48 * 64 * 3 / stored_chunk_bytes(path))
    assert video["fps_achieved"] == pytest.approx(36 / ((ticks[-1] - ticks[0]) * round(1e9 / 60) / 1e9))
    assert summary["clean_shutdown"] is True and summary["end_reason"] == "duration"
    assert summary["input"]["events"] == 60
    assert summary["state"]["fields"] == ["hp", "mana"]
    assert summary["recorded_summary"] == {"frames": 37}


def test_contact_sheet_and_timeline(session_file, tmp_path):
    path, _, images = session_file
    sheet, timeline = str(tmp_path / "sheet.png"), str(tmp_path / "out" / "timeline.png")
    result = run_reader("inspect", path, "--json", "--contact-sheet", sheet, "--frames", "6", "--columns", "3",
                        "--thumb-width", "100", "--timeline", timeline)
    assert result.returncode == 0, result.stderr
    # 3 columns x 2 rows of 100x75 thumbnails with 14 px labels and 4 px padding.
    with Image.open(sheet) as png:
        assert png.format == "PNG" and png.size == (3 * 100 + 4 * 4, 2 * (75 + 14) + 3 * 4)
        pixels = np.asarray(png.convert("RGB"))
    # Thumbnails in reading order are frames 0, 7, 14, 22, 29, 36: compare each thumbnail's mean colour.
    for slot, index in enumerate([0, 7, 14, 22, 29, 36]):
        row, column = divmod(slot, 3)
        x, y = 4 + column * 104, 4 + row * 93
        thumb = pixels[y:y + 75, x:x + 100].reshape(-1, 3).mean(axis=0)
        np.testing.assert_allclose(thumb, images[index].reshape(-1, 3).mean(axis=0), atol=4)
    with Image.open(timeline) as png:
        assert png.format == "PNG" and png.size == (1400, 900)
        assert len(np.unique(np.asarray(png.convert("L")))) > 10  # something was drawn
    summary = json.loads(result.stdout)
    assert summary["contact_sheet"] == {"path": sheet, "width": 316, "height": 190}


def test_frame_command_writes_the_decoded_frame(session_file, tmp_path):
    path, _, images = session_file
    out = str(tmp_path / "f.png")
    result = run_reader("frame", path, "-2", out)
    assert result.returncode == 0, result.stderr
    with Image.open(out) as png:
        np.testing.assert_array_equal(np.asarray(png.convert("RGB")), images[-2])


def test_inspect_errors(tmp_path):
    result = run_reader("inspect", str(tmp_path / "missing.h5"))
    assert result.returncode == 1 and "no such session file" in result.stderr
    bogus = str(tmp_path / "bogus.h5")
    with open(bogus, "wb") as f:
        f.write(b"not hdf5")
    result = run_reader("inspect", bogus)
    assert result.returncode == 1 and result.stderr.startswith("recorder-reader:")
