#!/usr/bin/env python3
"""How fast recorderd answers `status` and `list` with killed, corrupt and crafted files in its folder.

Builds the folder of python/tests/test_hostile_files.py (a killed session, a truncated and a
bit-flipped copy, crafted attributes, an empty file, a good file), starts the real daemon on it,
and prints the time to the first `status` and `list` answers, then to a second pair (after the
start-up recovery and the summaries are done). Repeats --runs times with a fresh folder.

    bench/damaged_folder_bench.py [--runs N] [--recorderd PATH]
"""
import argparse
import os
import pathlib
import signal
import statistics
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "python" / "tests"))
import test_hostile_files as hostile  # noqa: E402


def timed(socket_path, command):
    started = time.monotonic()
    reply = hostile.request(socket_path, command, timeout=120)
    assert reply["ok"], reply
    return time.monotonic() - started


def one_run(recorderd):
    with tempfile.TemporaryDirectory(prefix="damaged-folder-") as tmp:
        tmp = pathlib.Path(tmp)
        out = tmp / "out"
        out.mkdir()
        hostile.damaged_copies(tmp, out)
        socket_path = tmp / "control.sock"
        with open(tmp / "recorderd.log", "w") as log:
            daemon = subprocess.Popen([recorderd, "--socket", str(socket_path), "--output-dir", str(out)],
                                      stdout=log, stderr=log)
            try:
                while not socket_path.exists():
                    if daemon.poll() is not None:
                        raise SystemExit(f"recorderd exited {daemon.returncode}")
                    time.sleep(0.01)
                figures = [timed(socket_path, "status"), timed(socket_path, "list"),
                           timed(socket_path, "status"), timed(socket_path, "list")]
                daemon.send_signal(signal.SIGTERM)
                daemon.wait(timeout=60)
                return figures
            finally:
                if daemon.poll() is None:
                    daemon.kill()
                    daemon.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--recorderd", default=hostile.RECORDERD)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    rows = [one_run(args.recorderd) for _ in range(args.runs)]
    names = ["first status", "first list", "second status", "second list"]
    print(f"{'answer':<14} {'median ms':>10} {'max ms':>10}   ({args.runs} daemons, fresh folder each)")
    for i, name in enumerate(names):
        column = [row[i] * 1000 for row in rows]
        print(f"{name:<14} {statistics.median(column):>10.1f} {max(column):>10.1f}")
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
