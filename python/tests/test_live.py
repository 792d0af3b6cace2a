"""Following a session while a SWMR writer process appends frames; reading a killed writer's file."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import recorder_reader as rr
from make_session import scene_image

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
H, W = 32, 40


class WriterProcess:
    """make_session.py --swmr-writer in a subprocess, driven line by line."""

    def __init__(self, path, codec="zstd", keyframe_interval=3, first=0, attrs=None):
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(TESTS_DIR, "make_session.py"), "--swmr-writer", path, str(H), str(W),
             codec, str(keyframe_interval), str(first), json.dumps(attrs or {})],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.expect() == "ready"

    def expect(self):
        line = self.process.stdout.readline().strip()
        if not line:
            raise AssertionError("writer said nothing: %s" % self.process.stderr.read())
        return line

    def send(self, command):
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self.expect()

    def close(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            stream.close()


@pytest.fixture()
def writer(tmp_path):
    path = str(tmp_path / "live.h5")
    process = WriterProcess(path)
    yield path, process
    process.close()


def assert_frames_exact(session, indices):
    for i in indices:
        np.testing.assert_array_equal(session.frame(i), scene_image(i, H, W), err_msg="frame %d" % i)


def test_refresh_follows_frames_appended_by_a_swmr_writer(writer):
    path, process = writer
    assert process.send("append 5") == "ok 5"
    session = rr.open(path)  # auto-detect: the writer holds the file, so SWMR read
    try:
        assert session.swmr is True
        assert not session.clean_shutdown and session.end_reason == ""
        assert len(session) == 5
        assert_frames_exact(session, range(5))
        assert len(session.events()) == 5
        assert process.send("append 7") == "ok 12"
        assert len(session) == 5  # nothing moves until refresh()
        assert session.refresh() == 12
        assert len(session) == 12
        assert session.ticks.tolist() == list(range(12))
        assert_frames_exact(session, range(5, 12))  # frame 5 refers to frame 4, read before the refresh
        assert len(session.events()) == 12
        assert session.frame_index(session.timestamps_ns[-1] + 1) == 11
        for _ in range(3):
            assert process.send("append 4").startswith("ok ")
            session.refresh()
        assert len(session) == 24
        assert_frames_exact(session, [23, 0, 17])
        assert process.send("finish") == "done"
    finally:
        session.close()
    with rr.open(path) as sealed:
        assert sealed.swmr is False and sealed.clean_shutdown and sealed.end_reason == "stopped"
        assert len(sealed) == 24
        assert_frames_exact(sealed, range(24))


def test_file_of_a_killed_writer_opens_in_swmr_mode(writer):
    path, process = writer
    assert process.send("append 9") == "ok 9"
    process.process.kill()
    process.process.wait(timeout=30)
    with rr.open(path) as session:
        assert session.swmr is True and not session.clean_shutdown
        assert len(session) == 9
        assert_frames_exact(session, range(9))
        summary = session.summary()
        assert summary["live"] is True and summary["end_reason"] == "" and summary["video"]["frames"] == 9


def test_unsealed_closed_file_opens_and_reads(tmp_path):
    from make_session import write_session

    path = str(tmp_path / "unsealed.h5")
    images = write_session(path, count=7, keyframe_interval=3, clean=False)
    with rr.open(path) as session:
        assert not session.clean_shutdown and session.end_reason == ""
        assert session.swmr is True  # clean_shutdown != 1: opened so that refresh() can follow
        assert session.refresh() == 7
        for i in range(7):
            np.testing.assert_array_equal(session.frame(i), images[i])
    with rr.open(path, swmr=False) as session:
        assert session.swmr is False and session.refresh() == 7


def test_follow_yields_frames_as_the_writer_appends_them(writer):
    import threading
    import time

    path, process = writer
    assert process.send("append 2") == "ok 2"
    replies = []

    def keep_appending():
        for _ in range(4):
            time.sleep(0.15)
            replies.append(process.send("append 3"))

    with rr.open(path) as session:
        feeder = threading.Thread(target=keep_appending, name="swmr-feeder")
        feeder.start()
        seen = []
        # idle_timeout far above the feeder's 0.15 s pauses: a loaded machine may stretch them.
        for i, image in session.follow(poll_interval=0.02, idle_timeout=10):
            np.testing.assert_array_equal(image, scene_image(i, H, W))
            seen.append(i)
        feeder.join(timeout=30)
        assert replies == ["ok 5", "ok 8", "ok 11", "ok 14"]
        assert seen == list(range(14))
