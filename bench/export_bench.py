"""Export speed and size per target on one session file: `python3 bench/export_bench.py FILE.h5 [OUT_DIR]`.

Runs `recorder export` (RECORDER=path, default .build/release/recorder, else .build/debug/recorder) for
mp4, lossless with FFV1 and with libx264rgb -qp 0, rerun and label-studio, one after another, and prints
one table: frames exported, wall seconds, frames/s, CPU cores (user+sys of the export / wall, from
wait4), output bytes. For the lossless files it then decodes them with the ffmpeg program and counts
the frames that differ from the reader's decode (0 = exact).
"""
import hashlib
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "python"))

import numpy as np  # noqa: E402

import recorder_reader as rr  # noqa: E402


def recorder_binary():
    if os.environ.get("RECORDER"):
        return os.environ["RECORDER"]
    for config in ("release", "debug"):
        path = os.path.join(REPO, ".build", config, "recorder")
        if os.path.exists(path):
            return path
    raise SystemExit("no recorder build: swift build -c release")


def size_of(path):
    if os.path.isdir(path):
        return sum(os.path.getsize(os.path.join(path, name)) for name in os.listdir(path))
    return os.path.getsize(path)


def run_export(recorder, source, target, output, *extra):
    start = time.monotonic()
    proc = subprocess.Popen([recorder, "export", source, "--to", target, "--output", output, *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("export %s failed: %s" % (target, proc.stderr.read().decode()))
    proc.stderr.close()
    return wall, (usage.ru_utime + usage.ru_stime) / wall


def differing_frames(source, video):
    """Frames whose ffmpeg decode differs from the reader's image (and the decode time)."""
    with rr.open(source) as session:
        size = session.width * session.height * 3
        start = time.monotonic()
        proc = subprocess.Popen(["ffmpeg", "-v", "error", "-i", video, "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                                stdout=subprocess.PIPE)
        decoded, wrong = 0, 0
        digests = []
        while True:
            data = proc.stdout.read(size)
            if not data:
                break
            digests.append(hashlib.sha256(data).digest())
            decoded += 1
        proc.wait()
        decode_seconds = time.monotonic() - start
        for i, image in session.iter_frames():
            if i >= len(digests) or digests[i] != hashlib.sha256(np.ascontiguousarray(image).tobytes()).digest():
                wrong += 1
        return wrong + abs(decoded - len(session)), decoded, decode_seconds


def main():
    source = sys.argv[1]
    out_dir = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="export-bench-")
    recorder = recorder_binary()
    with rr.open(source) as session:
        frames, ticks = len(session), int(session.ticks[-1]) + 1
        raw = session.raw_bytes
        print("# %s: %dx%d, %d stored frames, %d ticks, %.0f fps, %.1f MB stored, load %s"
              % (source, session.width, session.height, frames, ticks, session.fps,
                 os.path.getsize(source) / 1e6, open("/proc/loadavg").read().split()[0]))
        print("# recorder: %s, %d cores" % (recorder, os.cpu_count()))
    runs = [("mp4", "out.mp4", (), ticks), ("lossless", "ffv1.mkv", ("--lossless-codec", "ffv1"), frames),
            ("lossless", "x264rgb.mkv", ("--lossless-codec", "libx264rgb"), frames),
            ("rerun", "out.rrd", (), ticks), ("label-studio", "project", (), ticks)]
    print("| target | output | frames | wall s | frames/s | CPU cores | MB | raw/out |")
    print("|---|---|---|---|---|---|---|---|")
    for target, name, extra, count in runs:
        output = os.path.join(out_dir, name)
        wall, cores = run_export(recorder, source, target, output, *extra)
        size = size_of(output)
        print("| %s | %s | %d | %.1f | %.1f | %.2f | %.1f | %.1f |"
              % (target, name, count, wall, count / wall, cores, size / 1e6, raw / size))
    for name in ("ffv1.mkv", "x264rgb.mkv"):
        wrong, decoded, seconds = differing_frames(source, os.path.join(out_dir, name))
        print("# %s: ffmpeg decoded %d frames in %.1f s (%.1f frames/s), %d differ from the reader's"
              % (name, decoded, seconds, decoded / seconds, wrong))


if __name__ == "__main__":
    main()
