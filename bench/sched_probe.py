#!/usr/bin/env python3
"""Who waits for a core while the recorder records a CPU-hungry game: `perf sched` over a live session.

Starts a private Xvfb with the `grainy` workload of bench_session.py (ffplay looping a grainy clip) or
another of its workloads, records SECONDS with `recorder record --input none`, runs `perf sched record`
over the middle of the session, and prints `perf sched latency` for the recorder's threads, the X server
and the game's threads (average and longest wait in the run queue), then the session's own counts.
Needs perf (linux-perf) and root (or perf_event_paranoid <= 1).

    python3 bench/sched_probe.py [--size 1920x1080] [--workload grainy] [--seconds 16]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_session as bench  # noqa: E402  the same games, sizes and recorder binary


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--workload", default="grainy", choices=sorted(bench.WORKLOADS))
    parser.add_argument("--seconds", type=int, default=16)
    args = parser.parse_args()
    if args.seconds < 6:
        raise SystemExit("--seconds must be at least 6 (perf runs from the 2nd second to 2 s before the end)")
    size = bench.parse_sizes(args.size)[0]
    with tempfile.TemporaryDirectory(prefix="sched-probe-") as workdir:
        game = bench.Game(size, workdir, args.workload, "probe")
        try:
            path = game.base + ".h5"
            recorder = subprocess.Popen(
                [bench.RECORDER, "record", "--display", game.display, "--output", path, "--duration", str(args.seconds),
                 "--fps", str(size.fps), "--input", "none", "--quiet", "--json"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            data = os.path.join(workdir, "sched.data")
            subprocess.run(["sleep", "2"], check=True)
            subprocess.run(["perf", "sched", "record", "-k", "CLOCK_MONOTONIC", "-o", data, "--", "sleep", str(args.seconds - 4)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            if recorder.wait() != 0:
                raise SystemExit("recorder record failed")
        finally:
            game.close()
        latency = subprocess.run(["perf", "sched", "latency", "-i", data, "--sort", "max"],
                                 capture_output=True, text=True, check=True).stdout
        print(f"{args.workload} at {size.label}, perf over {args.seconds - 4} s of a {args.seconds}-s session:")
        for line in latency.splitlines():
            if line.lstrip().startswith(("Task", "rec-", "Xvfb", "read_thread", "llvmpipe", "video_decoder", "ffplay", "openttd")):
                print(line.rstrip())
        import h5py
        with h5py.File(path, "r") as f:
            summary = json.loads(f.attrs["summary_json"])
        keys = ("frames", "frames_dropped", "ticks_missed", "frames_fast", "frames_unfiltered", "frames_taken_over")
        print({key: summary.get(key) for key in keys})


if __name__ == "__main__":
    main()
