#!/usr/bin/env python3
"""Records a real game (OpenTTD's animated title screen) with the recorder and with the Python peer,
on the same private Xvfb, in the same run, and prints one table with the ratios recorder/peer.

    bench_session.py [--seconds 30] [--sizes 1920x1080,1280x720,2560x1440] [--peer-codec zstd]
                     [--variants default,format-1] [--long SECONDS] [--long-variant default] [--keep DIR]

Each recorder gets a fresh Xvfb + OpenTTD started the same way and is started the same time after
the game, so both see the same phase of the title sequence (it alternates ~15-20 s holds with ~30 s
full-screen pans; a pan changes almost every pixel every frame).

Figures per recorder: delivered frames (% of the 60 Hz ticks of the duration), dropped ticks, frame
interval p50/p99/max (ms, against 16.67), CPU in cores (user+sys over wall, from wait4), peak RSS,
output MB/s, compression ratio (raw RGB bytes / file bytes); beside them the game's and the X server's
CPU over the same run, the load average when it started, and for the recorder the share of frames stored
whole (keyframes: pans and scene cuts), the share stored against a shifted reference and the writer's
time per frame. Recorder variants: "default" (format_version 2, the motion reference) and "format-1"
(--format-1, no motion reference), each on its own fresh game. --long N also records N seconds with the recorder
(--long-variant) alone and samples its RSS every 10 s. RECORDER=path picks the binary.
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
RECORDER = os.environ.get("RECORDER") or os.path.join(ROOT, ".build/release/recorder")
PEER = os.path.join(os.path.dirname(ROOT), "shared/bench/py_baseline_recorder.py")
#: Recorder variants: row label and extra `recorder record` arguments.
VARIANTS = {"default": ("recorder", []), "format-1": ("recorder --format-1", ["--format-1"])}


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


def process_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average():
    return os.getloadavg()[0]


def grainy_clip(width, height, workdir):
    """A 4-s 60 FPS clip of ffmpeg's testsrc2 under strong temporal film grain (H.264, rendered once per
    size): decoding it at 60 FPS keeps ffplay CPU-hungry, and no two frames share their noise."""
    path = os.path.join(workdir, f"grain-{width}x{height}.mkv")
    if not os.path.exists(path):
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate=60",
                        "-vf", "noise=alls=30:allf=t+u", "-t", "4", "-c:v", "libx264", "-preset", "ultrafast",
                        "-crf", "16", "-pix_fmt", "yuv420p", path], check=True)
    return path


class Game:
    """Xvfb plus a workload at one resolution: OpenTTD's title screen ("openttd") or ffplay looping a
    grainy clip full-screen ("grainy")."""

    def __init__(self, width, height, workdir, workload="openttd"):
        self.display = free_display()
        self.xvfb = subprocess.Popen(["Xvfb", self.display, "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp",
                                      "+extension", "MIT-SHM"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_display(self.display, self.xvfb)
        env = dict(os.environ, DISPLAY=self.display, HOME=workdir, SDL_AUDIODRIVER="dummy")
        if workload == "grainy":
            clip = grainy_clip(width, height, workdir)
            command = ["ffplay", "-v", "error", "-loop", "0", "-an", "-noborder", "-left", "0", "-top", "0",
                       "-x", str(width), "-y", str(height), clip]
        else:
            command = ["/usr/games/openttd", "-r", f"{width}x{height}", "-s", "null", "-m", "null", "-v", "sdl"]
        self.game = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=workdir)
        time.sleep(6)  # the title screen loads and starts animating; the player fills its queues
        if self.game.poll() is not None:
            raise SystemExit(f"{command[0]} exited early")

    def cpu_seconds(self):
        """User+sys seconds used so far by (game, X server)."""
        return tuple(process_cpu_seconds(p.pid) for p in (self.game, self.xvfb))

    def close(self):
        for proc in (self.game, self.xvfb):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()


def run_measured(cmd, game, rss_every=None, env=None):
    """Runs cmd to completion beside `game`; returns (wall seconds, rusage, stdout, RSS samples in MB,
    extras: game and X server CPU in cores over the run, 1-minute load average at the start)."""
    load = load_average()
    game_before, server_before = game.cpu_seconds()
    start = time.monotonic()
    # Files, not pipes: a full pipe would stall the recorder, and wait4 must reap it to get its rusage.
    out_file, err_file = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, stdout=out_file, stderr=err_file, env=env)
    samples = []
    if rss_every:
        next_sample = start
        # WNOWAIT: look without reaping, so wait4 below still gets the rusage (poll() would reap it).
        while os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
            if time.monotonic() >= next_sample:
                next_sample += rss_every
                with open(f"/proc/{proc.pid}/status") as status:
                    for line in status:
                        if line.startswith("VmRSS:"):
                            samples.append((round(time.monotonic() - start), int(line.split()[1]) / 1024))
            time.sleep(0.2)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, so Popen must not wait for it again
    wall = time.monotonic() - start
    game_after, server_after = game.cpu_seconds()
    out_file.seek(0)
    err_file.seek(0)
    out = out_file.read().decode()
    err = err_file.read().decode()
    if proc.returncode != 0:
        print(err, file=sys.stderr)
        raise SystemExit(f"{cmd[0]} failed")
    extras = {"game_cores": (game_after - game_before) / wall, "server_cores": (server_after - server_before) / wall,
              "load": load}
    return wall, usage, out, samples, extras


def analyse_recorder_file(path, fps, seconds):
    """Frames delivered against the ticks of the whole duration (a drop at the end counts too)."""
    import h5py
    with h5py.File(path, "r") as f:
        ts = f["video/timestamp_ns"][:]
        ticks = f["video/tick"][:]
        reference = f["video/reference"][:]
        shifts = f["video/reference_shift"][:] if "video/reference_shift" in f else np.zeros((len(reference), 2))
        n, h, w, _ = f["video/frames"].shape
        summary = json.loads(f.attrs["summary_json"] or "{}")
    iv = np.diff(ts) / 1e6
    expected = max(int(round(seconds * fps)), int(ticks[-1]) + 1 if n else 0)
    return {"frames": int(n), "expected": expected, "dropped_ticks": int(expected - n),
            "iv_p50": float(np.percentile(iv, 50)), "iv_p99": float(np.percentile(iv, 99)), "iv_max": float(iv.max()),
            "raw_bytes": int(n) * w * h * 3, "whole_pct": 100 * float((reference < 0).mean()) if n else 0,
            "shifted_pct": 100 * float(np.any(shifts != 0, axis=1).mean()) if n else 0,
            "writer_p50_ms": summary.get("writer_frame_ns_p50", 0) / 1e6,
            "writer_p99_ms": summary.get("writer_frame_ns_p99", 0) / 1e6,
            "capture_dropped": summary.get("frames_dropped", 0), "ticks_missed": summary.get("ticks_missed", 0)}


def run_recorder(width, height, seconds, workdir, name, extra_args=(), rss_every=None, workload="openttd"):
    game = Game(width, height, workdir, workload)
    try:
        path = os.path.join(workdir, f"{name}-{width}x{height}.h5")
        cmd = [RECORDER, "record", "--display", game.display, "--output", path, "--duration", str(seconds),
               "--input", "none", "--quiet", "--json", *extra_args]
        wall, usage, _, rss, extras = run_measured(cmd, game, rss_every=rss_every)
        r = analyse_recorder_file(path, 60, seconds)
        size = os.path.getsize(path)
        return dict(r, **extras, cpu_cores=(usage.ru_utime + usage.ru_stime) / wall, rss_mb=usage.ru_maxrss / 1024,
                    mb_s=size / 1e6 / seconds, ratio=r["raw_bytes"] / size, delivered=100 * r["frames"] / r["expected"],
                    rss_series=rss, path=path)
    finally:
        game.close()


def run_ffmpeg(width, height, seconds, workdir, name, codec_args, workload="openttd"):
    """ffmpeg x11grab at 60 FPS into Matroska with `codec_args`; frames and intervals from the packets' times."""
    game = Game(width, height, workdir, workload)
    try:
        path = os.path.join(workdir, f"{name}-{width}x{height}.mkv")
        cmd = ["ffmpeg", "-v", "error", "-nostdin", "-f", "x11grab", "-draw_mouse", "0", "-framerate", "60",
               "-video_size", f"{width}x{height}", "-i", game.display, "-t", str(seconds), "-fps_mode", "passthrough",
               *codec_args, path]
        wall, usage, _, _, extras = run_measured(cmd, game)
        probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time",
                                "-of", "csv=p=0", path], capture_output=True, text=True, check=True)
        times = np.sort(np.array([float(v) for v in probe.stdout.split() if v and v != "N/A"]))
        iv = np.diff(times) * 1000 if len(times) > 1 else np.array([0.0])
        expected = int(round(seconds * 60))
        n = len(times)
        size = os.path.getsize(path)
        return dict(extras, frames=n, expected=expected, dropped_ticks=expected - n,
                    iv_p50=float(np.percentile(iv, 50)), iv_p99=float(np.percentile(iv, 99)), iv_max=float(iv.max()),
                    cpu_cores=(usage.ru_utime + usage.ru_stime) / wall, rss_mb=usage.ru_maxrss / 1024,
                    mb_s=size / 1e6 / seconds, ratio=n * width * height * 3 / size, delivered=100 * n / expected,
                    whole_pct=float("nan"), shifted_pct=float("nan"), path=path)
    finally:
        game.close()


#: ffmpeg contenders: row label and output codec arguments.
FFMPEG = {"x264rgb": ("ffmpeg libx264rgb -qp 0 ultrafast", ["-c:v", "libx264rgb", "-qp", "0", "-preset", "ultrafast"]),
          "ffv1": ("ffmpeg ffv1", ["-c:v", "ffv1", "-level", "3", "-threads", "2", "-slices", "4"])}


def run_peer(width, height, seconds, peer_codec, workdir, workload="openttd"):
    game = Game(width, height, workdir, workload)
    try:
        fps = 60
        path = os.path.join(workdir, f"peer-{width}x{height}.h5")
        cmd = [sys.executable, PEER, path, str(seconds), str(fps), peer_codec]
        wall, usage, out, _, extras = run_measured(cmd, game, env=dict(os.environ, DISPLAY=game.display))
        p = json.loads(out.strip().splitlines()[-1])
        expected = int(round(seconds * fps))
        size = os.path.getsize(path)
        return dict(extras, frames=p["written"], expected=expected, dropped_ticks=expected - p["written"],
                    iv_p50=p["interval_ms_p50"], iv_p99=p["interval_ms_p99"], iv_max=p["interval_ms_max"],
                    cpu_cores=(usage.ru_utime + usage.ru_stime) / wall, rss_mb=usage.ru_maxrss / 1024,
                    mb_s=size / 1e6 / seconds, ratio=p["written"] * width * height * 3 / size,
                    delivered=100 * p["written"] / expected, whole_pct=100.0, shifted_pct=0.0, path=path)
    finally:
        game.close()


def machine_description():
    model = "?"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores, {model}, Linux {os.uname().release}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--sizes", default="1920x1080,1280x720,2560x1440")
    parser.add_argument("--peer-codec", default="zstd")
    parser.add_argument("--variants", default="default,format-1", help="recorder variants: " + ", ".join(VARIANTS))
    parser.add_argument("--ffmpeg", default="x264rgb", help="ffmpeg contenders, comma-separated ('' for none): " + ", ".join(FFMPEG))
    parser.add_argument("--workload", default="openttd", choices=["openttd", "grainy"],
                        help="openttd: the title screen; grainy: ffplay looping a grainy 60 FPS clip (CPU-hungry)")
    parser.add_argument("--no-peer", action="store_true", help="leave out the Python peer")
    parser.add_argument("--long", type=float, default=0, help="also record this long at the first size and sample RSS")
    parser.add_argument("--long-variant", default="default", choices=sorted(VARIANTS))
    parser.add_argument("--keep", help="keep the session files in this directory")
    args = parser.parse_args()
    variants = [v for v in args.variants.split(",") if v]
    for variant in variants:
        if variant not in VARIANTS:
            parser.error(f"unknown variant {variant!r}; known: {', '.join(VARIANTS)}")
    contenders = [c for c in args.ffmpeg.split(",") if c]
    for contender in contenders:
        if contender not in FFMPEG:
            parser.error(f"unknown ffmpeg contender {contender!r}; known: {', '.join(FFMPEG)}")
    workdir = args.keep or tempfile.mkdtemp(prefix="recorder-bench-")
    os.makedirs(workdir, exist_ok=True)
    rows = []
    long_run = None
    print(f"machine: {machine_description()}", flush=True)
    try:
        for size in args.sizes.split(","):
            w, h = (int(v) for v in size.split("x"))
            print(f"# {w}x{h} {args.workload}: {args.seconds:.0f} s per recorder variant ({', '.join(variants)}), "
                  f"ffmpeg ({', '.join(contenders) or 'none'}), peer ({'no' if args.no_peer else args.peer_codec}), "
                  f"each on a fresh game", flush=True)
            recs = [(VARIANTS[v][0], run_recorder(w, h, args.seconds, workdir, f"recorder-{v}", VARIANTS[v][1],
                                                  workload=args.workload)) for v in variants]
            others = [(FFMPEG[c][0], run_ffmpeg(w, h, args.seconds, workdir, c, FFMPEG[c][1], args.workload))
                      for c in contenders]
            if not args.no_peer:
                others.append(("python peer", run_peer(w, h, args.seconds, args.peer_codec, workdir, args.workload)))
            rows.append((size, recs, others))
            if not args.keep:
                for _, result in recs + others:
                    os.remove(result["path"])
        if args.long:
            size = args.sizes.split(",")[0]
            w, h = (int(v) for v in size.split("x"))
            print(f"# {w}x{h}: {args.long:.0f} s {VARIANTS[args.long_variant][0]} alone, RSS every 10 s", flush=True)
            long_run = run_recorder(w, h, args.long, workdir, "long", VARIANTS[args.long_variant][1], rss_every=10)
            os.remove(long_run["path"])
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    print()
    print(f"machine: {machine_description()}; workload {args.workload}; {args.seconds:.0f} s each; peer codec {args.peer_codec}")
    header = ("size", "who", "delivered %", "dropped", "iv p50 ms", "iv p99 ms", "iv max ms", "CPU cores", "RSS MB",
              "MB/s", "ratio", "whole frames %", "shifted %", "game cores", "X cores", "load")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for size, recs, others in rows:
        for who, r in recs + others:
            print(f"| {size} | {who} | {r['delivered']:.2f} | {r['dropped_ticks']} | {r['iv_p50']:.2f} | {r['iv_p99']:.2f} | "
                  f"{r['iv_max']:.2f} | {r['cpu_cores']:.2f} | {r['rss_mb']:.0f} | {r['mb_s']:.1f} | {r['ratio']:.1f} | "
                  f"{r['whole_pct']:.0f} | {r['shifted_pct']:.0f} | {r['game_cores']:.2f} | {r['server_cores']:.2f} | {r['load']:.2f} |")
        # Ratios against the first other contender (x264rgb by default, else the peer), same run.
        if not others:
            continue
        base_name, base = others[0]
        for who, rec in recs:
            ratio = lambda k: rec[k] / base[k] if base[k] else float("nan")
            print(f"| {size} | {who} / {base_name} | {ratio('delivered'):.3f} | | | {ratio('iv_p99'):.3f} | {ratio('iv_max'):.3f} | "
                  f"{ratio('cpu_cores'):.2f} | {ratio('rss_mb'):.2f} | {ratio('mb_s'):.2f} | {ratio('ratio'):.2f} | | | "
                  f"{ratio('game_cores'):.2f} | {ratio('server_cores'):.2f} | |")
    print()
    for size, recs, _ in rows:
        for who, rec in recs:
            print(f"{who} {size}: writer per frame p50 {rec['writer_p50_ms']:.1f} ms, p99 {rec['writer_p99_ms']:.1f} ms; "
                  f"dropped for want of a free slot {rec['capture_dropped']}, ticks missed by the capture thread {rec['ticks_missed']}")
    if long_run:
        print(f"\nlong run ({VARIANTS[args.long_variant][0]}) at {args.sizes.split(',')[0]}: {args.long:.0f} s, delivered {long_run['delivered']:.2f} %, "
              f"CPU {long_run['cpu_cores']:.2f} cores, {long_run['mb_s']:.1f} MB/s, peak RSS {long_run['rss_mb']:.0f} MB, "
              f"load {long_run['load']:.2f}")
        print("RSS (s:MB): " + ", ".join(f"{t}:{m:.0f}" for t, m in long_run["rss_series"]))


if __name__ == "__main__":
    main()
