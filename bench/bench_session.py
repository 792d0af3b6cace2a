#!/usr/bin/env python3
"""Records a real game (OpenTTD's animated title screen) with the recorder and with the Python peer,
on the same private Xvfb, in the same run, and prints one table with the ratios recorder/peer.

    bench_session.py [--seconds 30] [--sizes 1920x1080,1280x720,2560x1440] [--peer-codec zstd]
                     [--long SECONDS] [--keep DIR]

Figures per recorder: delivered frames (% of the 60 Hz ticks), dropped ticks, frame interval p50/p99/max
(ms, against 16.67), CPU in cores (user+sys over wall, from wait4), peak RSS, output MB/s, compression
ratio (raw RGB bytes / file bytes). --long N also samples the recorder's RSS every 10 s for N seconds.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECORDER = os.path.join(ROOT, ".build/release/recorder")
PEER = os.path.join(os.path.dirname(ROOT), "shared/bench/py_baseline_recorder.py")


def free_display():
    for n in range(120, 400):
        if not os.path.exists(f"/tmp/.X11-unix/X{n}") and not os.path.exists(f"/tmp/.X{n}-lock"):
            return f":{n}"
    raise SystemExit("no free display number")


def wait_for_display(name, proc, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"Xvfb {name} exited")
        if subprocess.run(["xdpyinfo", "-display", name], capture_output=True).returncode == 0:
            return
        time.sleep(0.1)
    raise SystemExit(f"Xvfb {name} did not come up")


class Game:
    """Xvfb plus OpenTTD's title screen at one resolution."""

    def __init__(self, width, height, workdir):
        self.display = free_display()
        self.xvfb = subprocess.Popen(["Xvfb", self.display, "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp",
                                      "+extension", "MIT-SHM"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_display(self.display, self.xvfb)
        env = dict(os.environ, DISPLAY=self.display, HOME=workdir, SDL_AUDIODRIVER="dummy")
        self.game = subprocess.Popen(["/usr/games/openttd", "-r", f"{width}x{height}", "-s", "null", "-m", "null",
                                      "-v", "sdl"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     cwd=workdir)
        time.sleep(6)  # title screen loads and starts animating
        if self.game.poll() is not None:
            raise SystemExit("openttd exited early")

    def close(self):
        for proc in (self.game, self.xvfb):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()


def run_measured(cmd, seconds_hint, rss_every=None):
    """Runs cmd to completion; returns (wall seconds, rusage, stdout, RSS samples in MB)."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    samples = []
    if rss_every:
        while proc.poll() is None:
            try:
                with open(f"/proc/{proc.pid}/status") as status:
                    for line in status:
                        if line.startswith("VmRSS:"):
                            samples.append((round(time.monotonic() - start), int(line.split()[1]) / 1024))
            except FileNotFoundError:
                break
            time.sleep(rss_every)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    out = proc.stdout.read().decode()
    err = proc.stderr.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        print(err, file=sys.stderr)
        raise SystemExit(f"{cmd[0]} failed")
    return wall, usage, out, samples


def analyse_recorder_file(path, fps):
    import h5py
    with h5py.File(path, "r") as f:
        ts = f["video/timestamp_ns"][:]
        ticks = f["video/tick"][:]
        n, h, w, _ = f["video/frames"].shape
        start = int(f.attrs["session_start_ns"])
        end_ticks = int(round((ts[-1] - start) * fps / 1e9)) + 1 if n else 0
    iv = np.diff(ts) / 1e6
    expected = max(end_ticks, int(ticks[-1]) + 1 if n else 0)
    return {"frames": int(n), "expected": expected, "dropped_ticks": int(expected - n),
            "iv_p50": float(np.percentile(iv, 50)), "iv_p99": float(np.percentile(iv, 99)), "iv_max": float(iv.max()),
            "raw_bytes": int(n) * w * h * 3}


def bench_size(width, height, seconds, peer_codec, long_seconds, workdir):
    game = Game(width, height, workdir)
    try:
        fps = 60
        rec_file = os.path.join(workdir, f"recorder-{width}x{height}.h5")
        cmd = [RECORDER, "record", "--display", game.display, "--output", rec_file, "--duration", str(seconds),
               "--input", "none", "--quiet", "--json"]
        wall, usage, out, rss = run_measured(cmd, seconds, rss_every=10 if long_seconds else None)
        r = analyse_recorder_file(rec_file, fps)
        size = os.path.getsize(rec_file)
        recorder = dict(r, cpu_cores=(usage.ru_utime + usage.ru_stime) / wall, rss_mb=usage.ru_maxrss / 1024,
                        mb_s=size / 1e6 / seconds, ratio=r["raw_bytes"] / size, delivered=100 * r["frames"] / r["expected"])

        peer_file = os.path.join(workdir, f"peer-{width}x{height}.h5")
        env_cmd = [sys.executable, PEER, peer_file, str(seconds), str(fps), peer_codec]
        wall, usage, out, _ = run_measured(env_cmd, seconds)
        p = json.loads(out.strip().splitlines()[-1])
        expected = int(seconds * fps)
        size = os.path.getsize(peer_file)
        peer = {"frames": p["written"], "expected": expected, "dropped_ticks": expected - p["written"],
                "iv_p50": p["interval_ms_p50"], "iv_p99": p["interval_ms_p99"], "iv_max": p["interval_ms_max"],
                "cpu_cores": (usage.ru_utime + usage.ru_stime) / wall, "rss_mb": usage.ru_maxrss / 1024,
                "mb_s": size / 1e6 / seconds, "ratio": p["written"] * width * height * 3 / size,
                "delivered": 100 * p["written"] / expected}

        long_rss = None
        if long_seconds:
            long_file = os.path.join(workdir, f"long-{width}x{height}.h5")
            cmd = [RECORDER, "record", "--display", game.display, "--output", long_file, "--duration", str(long_seconds),
                   "--input", "none", "--quiet"]
            _, usage, _, long_rss = run_measured(cmd, long_seconds, rss_every=10)
            os.remove(long_file)
        return recorder, peer, long_rss
    finally:
        game.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--sizes", default="1920x1080,1280x720,2560x1440")
    parser.add_argument("--peer-codec", default="zstd")
    parser.add_argument("--long", type=float, default=0, help="also record this long at the first size and sample RSS")
    parser.add_argument("--keep", help="keep the session files in this directory")
    args = parser.parse_args()
    workdir = args.keep or tempfile.mkdtemp(prefix="recorder-bench-")
    os.makedirs(workdir, exist_ok=True)
    rows = []
    try:
        for i, size in enumerate(args.sizes.split(",")):
            w, h = (int(v) for v in size.split("x"))
            print(f"# {w}x{h}: {args.seconds:.0f} s recorder, then {args.seconds:.0f} s peer ({args.peer_codec}) ...", flush=True)
            rec, peer, long_rss = bench_size(w, h, args.seconds, args.peer_codec, args.long if i == 0 else 0, workdir)
            rows.append((size, rec, peer, long_rss))
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    print()
    print(f"machine: {os.cpu_count()} cores, {os.uname().release}; OpenTTD title screen; {args.seconds:.0f} s each; peer codec {args.peer_codec}")
    header = ("size", "who", "delivered %", "dropped", "iv p50 ms", "iv p99 ms", "iv max ms", "CPU cores", "RSS MB", "MB/s", "ratio")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for size, rec, peer, _ in rows:
        for who, r in (("recorder", rec), ("python peer", peer)):
            print(f"| {size} | {who} | {r['delivered']:.2f} | {r['dropped_ticks']} | {r['iv_p50']:.2f} | {r['iv_p99']:.2f} | "
                  f"{r['iv_max']:.2f} | {r['cpu_cores']:.2f} | {r['rss_mb']:.0f} | {r['mb_s']:.1f} | {r['ratio']:.1f} |")
        ratio = lambda k: rec[k] / peer[k] if peer[k] else float("nan")
        print(f"| {size} | recorder/peer | {ratio('delivered'):.3f} | | | {ratio('iv_p99'):.3f} | {ratio('iv_max'):.3f} | "
              f"{ratio('cpu_cores'):.2f} | {ratio('rss_mb'):.2f} | {ratio('mb_s'):.2f} | {ratio('ratio'):.2f} |")
    for size, _, _, long_rss in rows:
        if long_rss:
            print(f"\nRSS over a {args.long:.0f} s recording at {size} (s, MB): " + ", ".join(f"{t}:{m:.0f}" for t, m in long_rss))


if __name__ == "__main__":
    main()
