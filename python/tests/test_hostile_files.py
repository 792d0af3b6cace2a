"""Hostile and broken session files: `recorder inspect`/`recover` and `recorderd` stay bounded and clean.

Real binaries on real files: the committed seeds (tiny sessions the recorder wrote, Tests/fuzz/corpus)
edited with h5py or damaged byte-wise, the real daemon over its real socket.
"""
import fcntl
import gzip
import hashlib
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RECORDER = os.environ.get("RECORDER_BIN", os.path.join(REPO, ".build/debug/recorder"))
RECORDERD = os.path.join(os.path.dirname(RECORDER), "recorderd")
CORPUS = os.path.join(REPO, "Tests", "fuzz", "corpus")
sys.path.insert(0, os.path.join(REPO, "scripts"))
import fuzz  # noqa: E402


def seed(tmp_path, name, target=None):
    path = tmp_path / (target or f"{name}.h5")
    with gzip.open(os.path.join(CORPUS, f"{name}.h5.gz"), "rb") as f:
        path.write_bytes(f.read())
    return path


def run(*args, timeout=60):
    assert os.path.exists(RECORDER), f"recorder binary missing at {RECORDER}; build first (make test does)"
    return subprocess.run([RECORDER, *map(str, args)], capture_output=True, text=True, timeout=timeout)


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_clean_error(result, command):
    assert result.returncode > 0, f"{command}: exit {result.returncode}, stderr {result.stderr[-300:]}"
    assert result.stderr.startswith(f"recorder {command}:"), result.stderr[-300:]


CRAFTED = {
    "clean_shutdown as 100000 int64": lambda f: f.attrs.__setitem__("clean_shutdown", np.arange(100000)),
    "format as 64 fixed strings": lambda f: f.attrs.__setitem__("format", np.array([b"recorder-session"] * 64, dtype="S16")),
    "format as 64 variable strings": lambda f: f.attrs.create("format", ["recorder-session"] * 64, dtype=h5py.string_dtype()),
    "end_reason as 5000 fixed strings": lambda f: f.attrs.__setitem__("end_reason", np.array([b"duration"] * 5000, dtype="S8")),
    "video width as string array": lambda f: f["video"].attrs.__setitem__("width", np.array([b"64"] * 300, dtype="S2")),
    "video codec as int array": lambda f: f["video"].attrs.__setitem__("codec", np.arange(1000)),
    "meta note as 3 MB string": lambda f: f["meta"].attrs.__setitem__("note", np.array(b"x" * 3_000_000, dtype="S3000000")),
    "width and height near Int64.max": lambda f: (f["video"].attrs.__setitem__("width", np.int64(2**62)),
                                                 f["video"].attrs.__setitem__("height", np.int64(2**62))),
    "ticks from Int64.min to max": lambda f: f["video/tick"].__setitem__(slice(None), [-2**63, 0, 1, 2, 2**63 - 1]),
    "tick extent 2**40 rows": lambda f: f["video/tick"].resize((2**40,)),
    "devices as a 64x64 dataset": lambda f: (f.__delitem__("input/devices"),
                                            f.create_dataset("input/devices", shape=(64, 64), dtype=[("name", "S128")])),
}


@pytest.mark.parametrize("edit", sorted(CRAFTED))
def test_crafted_attributes_and_extents_give_a_clean_answer(tmp_path, edit):
    """Attributes stored as arrays, wrong types, oversized strings and extents: no memory corruption,
    no trap, no huge allocation; recover of a file whose format is unreadable leaves it unchanged."""
    path = seed(tmp_path, "clean-zstd")
    with h5py.File(path, "r+") as f:
        CRAFTED[edit](f)
    for args in (("inspect",), ("inspect", "--json")):
        result = run(*args, path)
        assert result.returncode >= 0, f"{args}: killed by signal {-result.returncode}: {result.stderr[-300:]}"
        if result.returncode == 0 and "--json" in args:
            json.loads(result.stdout)
        elif result.returncode != 0:
            assert_clean_error(result, "inspect")
    before = digest(path)
    result = run("recover", path)
    assert result.returncode >= 0, f"recover: killed by signal {-result.returncode}: {result.stderr[-300:]}"
    if result.returncode != 0:
        assert_clean_error(result, "recover")
    if edit.startswith("format"):
        assert result.returncode != 0 and "not a recorder session" in result.stderr
        assert digest(path) == before


def test_a_crash_inside_libhdf5_is_reported_as_a_damaged_file(tmp_path):
    """A bit-flipped session (found by make fuzz) whose variable-length string makes libhdf5's global
    heap read overflow its buffer: the tools report it and exit 70, never die by a signal."""
    path = tmp_path / "heap.h5"
    with gzip.open(os.path.join(REPO, "Tests", "fuzz", "regressions", "vlen-global-heap-overflow.h5.gz"), "rb") as f:
        path.write_bytes(f.read())
    for args in (("inspect",), ("inspect", "--json"), ("recover",)):
        result = run(*args, path)
        assert result.returncode >= 0, f"{args}: killed by signal {-result.returncode}"
        assert_clean_error(result, args[0])
        if result.returncode == 70:
            assert "crashed the HDF5 library" in result.stderr


def test_recover_refuses_what_is_not_a_recorder_session_and_leaves_it_unchanged(tmp_path):
    empty = tmp_path / "empty.h5"
    empty.write_bytes(b"")
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["data"] = np.arange(10)
        f.attrs["clean_shutdown"] = np.int64(0)
        f.create_group("video").create_dataset("frames", data=np.zeros((2, 4, 4, 3), dtype="u1"))
    noise = tmp_path / "noise.h5"
    noise.write_bytes(os.urandom(4096))
    for path in (empty, foreign, noise):
        before = digest(path)
        result = run("recover", path)
        assert_clean_error(result, "recover")
        assert "left as it is" in result.stderr
        assert digest(path) == before, f"{path.name} was changed"


def test_recover_refuses_a_file_whose_writer_holds_its_lock(tmp_path):
    """The writer's OFD lock marks a file live; recover must not touch it while the lock is held."""
    path = seed(tmp_path, "killed")
    before = digest(path)
    with open(path, "r+b") as held:
        fcntl.fcntl(held, fcntl.F_OFD_SETLK, struct.pack("hhqqi", fcntl.F_WRLCK, 0, 0, 0, 0))
        result = run("recover", path)
        assert_clean_error(result, "recover")
        assert "being written by a running recorder" in result.stderr
        assert digest(path) == before
    # Lock released (the writer died): the same file now recovers.
    result = run("recover", "--json", path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["endReason"] == "recovered"


def test_recover_does_not_write_through_a_symlink(tmp_path):
    target = seed(tmp_path, "killed")
    link = tmp_path / "link.h5"
    link.symlink_to(target)
    before = digest(target)
    result = run("recover", link)
    assert_clean_error(result, "recover")
    assert "symbolic link" in result.stderr
    assert digest(target) == before


def test_fuzz_short_run_with_fixed_seeds(tmp_path):
    """50 mutants (truncations, bit flips, crafted attributes, foreign files) with fixed seeds."""
    figures = fuzz.fuzz(RECORDER, count=50, seed=19, failures_dir=str(tmp_path / "failures"), log=lambda line: None)
    assert figures["inputs"] == 50
    assert figures["failures"] == 0, json.dumps(figures["failure_cases"], indent=1)


# MARK: the daemon with broken files in its folder

def request(socket_path, command, timeout):
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(timeout)
        s.connect(str(socket_path))
        s.sendall(json.dumps({"command": command}).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            assert chunk, "daemon closed the connection"
            data += chunk
        return json.loads(data)


def damaged_copies(tmp_path, directory):
    """A killed session, a truncated and a bit-flipped unsealed one, crafted and foreign files."""
    killed = seed(tmp_path, "killed").read_bytes()
    (directory / "a-killed.h5").write_bytes(killed)
    (directory / "b-truncated.h5").write_bytes(killed[:3000])
    flipped = bytearray(killed)
    for offset in (600, 1500, 2100):
        flipped[offset] ^= 0x10
    (directory / "c-flipped.h5").write_bytes(bytes(flipped))
    crafted = seed(tmp_path, "clean-zstd", "crafted-source.h5")
    with h5py.File(crafted, "r+") as f:
        f.attrs["clean_shutdown"] = np.arange(100000)
        f.attrs["format"] = np.array([b"recorder-session"] * 64, dtype="S16")
    shutil.copy(crafted, directory / "d-crafted.h5")
    (directory / "e-empty.h5").write_bytes(b"")
    shutil.copy(seed(tmp_path, "lz4-motion"), directory / "f-good.h5")


def test_daemon_with_corrupt_and_crafted_files_starts_answers_and_sets_them_aside(tmp_path):
    assert os.path.exists(RECORDERD), f"recorderd missing at {RECORDERD}"
    out = tmp_path / "out"
    out.mkdir()
    damaged_copies(tmp_path, out)
    socket_path = tmp_path / "control.sock"
    log = open(tmp_path / "recorderd.log", "w")
    daemon = subprocess.Popen([RECORDERD, "--socket", str(socket_path), "--output-dir", str(out)], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 120
        while not socket_path.exists():
            assert daemon.poll() is None, f"recorderd exited {daemon.returncode}: {(tmp_path / 'recorderd.log').read_text()[-2000:]}"
            assert time.monotonic() < deadline, "recorderd did not open its socket"
            time.sleep(0.1)
        # Answers come without waiting on the damaged files; the bounds leave a loaded machine room
        # (a child process per file takes a while to start there) and still catch a hang.
        started = time.monotonic()
        status = request(socket_path, "status", timeout=30)
        assert status["ok"] and status["state"] == "idle"
        assert time.monotonic() - started < 10.0
        started = time.monotonic()
        listing = request(socket_path, "list", timeout=60)
        assert time.monotonic() - started < 30.0, f"list took {time.monotonic() - started:.1f} s"
        sessions = {item["name"]: item for item in listing["sessions"]}
        # The killed session was recovered at start-up; the good one is listed as it was.
        assert sessions["a-killed"]["summary"]["end_reason"] == "recovered"
        assert sessions["f-good"]["summary"]["clean_shutdown"] is True
        # What could not be recovered went to damaged/ (or, if still present, is listed as damaged).
        aside = set(os.listdir(out / "damaged")) if (out / "damaged").exists() else set()
        for name in ("b-truncated", "c-flipped", "d-crafted", "e-empty"):
            assert f"{name}.h5" in aside or "summary_error" in sessions.get(name, {"summary_error": ""}) \
                or sessions[name]["summary"]["end_reason"] == "recovered", name
        assert "d-crafted.h5" in aside and "e-empty.h5" in aside
        # The daemon still works and stops cleanly on SIGTERM.
        assert request(socket_path, "status", timeout=30)["ok"]
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=60) == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        log.close()
