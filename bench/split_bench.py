#!/usr/bin/env python3
"""Records OpenTTD's title screen with `recorder record` as one file and split into parts, each on a fresh
private Xvfb + OpenTTD (bench_session.Game), and prints CPU, delivery and the rollover times.

    split_bench.py [--seconds 90] [--size 1920x1080] [--every 60] [--keep DIR] [--together]

--together runs both at the same time, each on its own Xvfb + OpenTTD (the second starts 10 s after
the first), so both meet the same machine: for long runs on a machine that is not otherwise quiet.

Delivery is frames stored / ticks of the duration (every part's frames together for the split run);
CPU is the recorder's user+sys over wall (wait4). Rollover: the writer's time from the boundary frame
to the next part open (seal the old part, rename the prepared one into place, write its device rows),
from each part's summary_json (`rollover_ns`). RECORDER=path picks the binary.
"""
import argparse
import json
import threading
import time
import os
import shutil
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_session  # noqa: E402


def analyse_parts(manifest_path, fps, seconds):
    import h5py
    with open(manifest_path) as handle:
        manifest = json.load(handle)
    folder = os.path.dirname(manifest_path)
    frames, last_tick, rollovers, size, lost = 0, -1, [], 0, 0
    for row in manifest["parts"]:
        path = os.path.join(folder, row["file"])
        size += os.path.getsize(path)
        with h5py.File(path, "r") as f:
            ticks = f["video/tick"][:]
            summary = json.loads(f.attrs["summary_json"] or "{}")
            frames += len(ticks)
            last_tick = int(ticks[-1]) if len(ticks) else last_tick
            if row["number"] > 1:
                rollovers.append(summary.get("rollover_ns", 0) / 1e6)
            lost += sum(int(summary.get(k, 0)) for k in ("frames_dropped", "ticks_missed"))
    expected = max(int(round(seconds * fps)), last_tick + 1)
    return {"parts": len(manifest["parts"]), "frames": frames, "expected": expected, "size": size, "rollover_ms": rollovers,
            "reported_lost": lost}


def run(width, height, seconds, workdir, split_every):
    game = bench_session.Game(width, height, workdir)
    try:
        name = f"split{split_every}" if split_every else "whole"
        path = os.path.join(workdir, f"{name}-{width}x{height}.h5")
        cmd = [bench_session.RECORDER, "record", "--display", game.display, "--output", path, "--duration", str(seconds),
               "--input", "none", "--quiet", "--json"] + (["--split-every", str(split_every)] if split_every else [])
        wall, usage, _, _, extras = bench_session.run_measured(cmd, game)
        if split_every:
            r = analyse_parts(os.path.join(workdir, f"{name}-{width}x{height}.manifest.json"), 60, seconds)
        else:
            a = bench_session.analyse_recorder_file(path, 60, seconds)
            r = {"parts": 1, "frames": a["frames"], "expected": a["expected"], "size": os.path.getsize(path), "rollover_ms": [],
                 "reported_lost": a["capture_dropped"] + a["ticks_missed"]}
        return dict(r, **extras, cpu_cores=(usage.ru_utime + usage.ru_stime) / wall, delivered=100 * r["frames"] / r["expected"],
                    mb_s=r["size"] / 1e6 / seconds)
    finally:
        game.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=90)
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--every", type=float, default=60)
    parser.add_argument("--keep")
    parser.add_argument("--together", action="store_true", help="run both variants at once, each on its own display")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    workdir = args.keep or tempfile.mkdtemp(prefix="split-bench-")
    os.makedirs(workdir, exist_ok=True)
    print(f"# split_bench {width}x{height}, {args.seconds:.0f} s each, OpenTTD title screen; {bench_session.machine_description()}")
    print("| variant | parts | delivered (stored / ticks) | lost (reported) | recorder CPU cores | game / X cores | MB/s | rollover ms (each) | load at start |")
    print("|---|---|---|---|---|---|---|---|---|")

    def report(every, r):
        label = f"--split-every {every:g}" if every else "one file"
        rollovers = ", ".join(f"{ms:.1f}" for ms in r["rollover_ms"]) or "-"
        print(f"| {label} | {r['parts']} | {r['delivered']:.2f}% ({r['frames']} / {r['expected']}) | {r['reported_lost']} | "
              f"{r['cpu_cores']:.2f} | {r['game_cores']:.2f} / {r['server_cores']:.2f} | {r['mb_s']:.1f} | {rollovers} | {r['load']:.2f} |",
              flush=True)

    try:
        if args.together:
            results, failures = {}, []

            def one(every):
                folder = os.path.join(workdir, "split" if every else "whole")
                os.makedirs(folder, exist_ok=True)
                try:
                    results[every] = run(width, height, args.seconds, folder, every)
                except BaseException as error:  # reported after both end
                    failures.append(f"{every or 'one file'}: {error}")

            threads = [threading.Thread(target=one, args=(every,)) for every in (None, args.every)]
            for index, thread in enumerate(threads):
                if index:
                    time.sleep(10)  # the first game holds its display before the second picks one
                thread.start()
            for thread in threads:
                thread.join()
            if failures:
                raise SystemExit("; ".join(failures))
            for every in (None, args.every):
                report(every, results[every])
        else:
            for every in (None, args.every):
                report(every, run(width, height, args.seconds, workdir, every))
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
