#!/usr/bin/env python3
"""Records a real game with the recorder, with ffmpeg and with the Python peer, on the same kind of private
Xvfb, in the same run, and prints one table per workload with the ratios recorder/x264rgb.

    bench_session.py [--seconds 30] [--sizes 1280x720,1920x1080,2560x1440,3840x2160@30]
                     [--workloads openttd,openttd-scroll,grainy] [--variants default,format-1]
                     [--ffmpeg x264rgb,ffv1] [--no-peer] [--peer-codec zstd] [--decode-frames 50]
                     [--long SECONDS] [--long-variant default] [--keep DIR]

Sizes are WxH (60 FPS) or WxH@FPS: every contender captures at that rate (`recorder record --fps`,
ffmpeg `-framerate`, the peer's fps argument), and delivered % and the intervals are against it.

Workloads (`--workloads a,b,c` runs several, one table each; `--workload` is the same option):
- openttd: OpenTTD's animated title screen. It alternates ~15-20 s holds with ~30 s full-screen pans (a
  pan changes almost every pixel every frame); every contender is started the same 6 s after the game,
  so all see the same phase of the title sequence.
- openttd-scroll: OpenTTD in a running game (`-g`, fixed seed, 256x256 map, start year 1950, autosave
  off), its main view scrolled all the time by xdotool holding the arrow keys in turn (right, down, left,
  up; 2 s each, so the view comes back every 8 s and never reaches the map's edge). The script waits until
  the screen shows the in-game status bar (0.4-0.8 s after the start at every size from 640x360 to
  3840x2160 on the 2-core bench machine; the wait gives up after 60 s), starts the keys, checks that two grabs 0.5 s apart differ
  (saved as *-scroll-a.png / -b.png beside the recordings) and starts the contender 1 s later; every
  contender gets its own fresh game and the same driving. OpenTTD moves a key-scrolled view once per game
  tick (30 ms): at 60 FPS about 45 % of the frames repeat the one before, at 30 FPS none do.
- grainy: ffplay looping, full-screen, a 4-s clip of testsrc2 under strong temporal film grain at the
  size's frame rate (CPU-hungry, and no two frames share their noise).

Figures per contender: delivered frames (% of the FPS ticks of the duration), dropped ticks, frame interval
p50/p99/max (ms, against 1000/FPS), CPU in cores (user+sys over wall, from wait4), peak RSS (VmHWM), output MB/s,
compression ratio (raw RGB bytes / file bytes); beside them the game's and the X server's CPU over the same
run and the load average when it started; for the recorder the share of frames stored whole (keyframes:
pans and scene cuts), the share stored against a shifted reference and the writer's time per frame.

Random-frame decode (decode p50/p99 ms): after each run, --decode-frames frames (50; 0 to skip) picked at
random with a fixed seed are decoded by index, each from scratch, in the picked order, and timed from the
request to an (H, W, 3) RGB uint8 array. Each file is opened once and its frame index read before timing:
open cost excluded. Recorder: the repo's reader (python/recorder_reader), `session.frame(i)` with its
decode cache cleared before each frame. ffmpeg's .mkv: PyAV, seek to the frame's pts (backward=True,
any_frame=False, i.e. to the keyframe at or before it), decode forward to that pts, `to_ndarray("rgb24")`;
the frame landed on must carry the requested pts. Peer: h5py reads the frame's chunk. Every decoded image's
shape is checked, and the three lowest picked frames are compared with a sequential decode from frame 0.

Recorder variants: "default" (format_version 2, the motion reference), "format-1" (--format-1, no
motion reference) and "page-cache-all" (RECORDER_PAGE_CACHE_WINDOW_MB=all: the writer leaves every written
page in the page cache), each on its own fresh game. After each recorder run, `fincore` reports how much of
its file is still cached. --long N also records N seconds with the recorder
(--long-variant) alone at the first size and workload and samples its RSS every 10 s. RECORDER=path picks
the binary.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from typing import NamedTuple

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))  # the repo's recorder_reader, not an installed copy
RECORDER = os.environ.get("RECORDER") or os.path.join(ROOT, ".build/release/recorder")
PEER = os.path.join(os.path.dirname(ROOT), "shared/bench/py_baseline_recorder.py")
#: Recorder variants: row label, extra `recorder record` arguments, extra environment.
VARIANTS = {"default": ("recorder", [], {}), "format-1": ("recorder --format-1", ["--format-1"], {}),
            # The writer's write-behind off: the kernel keeps every written page cached, as before issue 16's last stop.
            "page-cache-all": ("recorder, page cache left to the kernel", [], {"RECORDER_PAGE_CACHE_WINDOW_MB": "all"})}
WORKLOADS = {"openttd": "OpenTTD's title screen",
             "openttd-scroll": "OpenTTD in a game, the view scrolled by arrow keys",
             "grainy": "ffplay looping a grainy clip at the size's FPS (CPU-hungry)"}
DEFAULT_SIZES = "1280x720,1920x1080,2560x1440,3840x2160@30"
DEFAULT_FPS = 60
FPS_RANGE = range(1, 241)  # what `recorder record --fps` accepts (SessionOptions.fps)
TITLE_SETTLE_SECONDS = 6  # openttd / grainy: the title screen loads and animates; ffplay fills its queues
IN_GAME_TIMEOUT_SECONDS = 60
SCROLL_SETTLE_SECONDS = 1  # openttd-scroll: from the scroll check to the contender's start
SCROLL_LEGS = (("Right", 2.0), ("Down", 2.0), ("Left", 2.0), ("Up", 2.0))  # arrow key held, seconds
#: OpenTTD (OpenGFX) paints the bottom edge of its windows, and so of the in-game status bar along the
#: screen's last row, in this grey; the title and the map generation screens have no window there.
STATUS_BAR_EDGE = (98, 101, 98)
OPENTTD_CONFIG = """[gui]
autosave = off
[game_creation]
map_x = 8
map_y = 8
"""
GAME_SEED = 16  # openttd-scroll: `openttd -G`, the same map for every contender
DECODE_SEED = 16  # the random frames decoded after each run


class Size(NamedTuple):
    """One screen size and the frame rate every contender captures it at."""
    width: int
    height: int
    fps: int = DEFAULT_FPS

    @property
    def label(self):
        """WxH@FPS, as in the tables."""
        return f"{self.width}x{self.height}@{self.fps}"


def parse_sizes(text):
    """`WxH` or `WxH@FPS`, comma-separated, as Sizes (FPS 60 when left out); argparse type."""
    sizes = []
    for item in text.split(","):
        item = item.strip()
        dims, _, fps = item.partition("@")
        w, _, h = dims.partition("x")
        try:
            size = Size(int(w), int(h), int(fps) if fps else DEFAULT_FPS)
        except ValueError:
            size = None
        if size is None or size.width <= 0 or size.height <= 0:
            raise argparse.ArgumentTypeError(f"bad size {item!r}: expected WxH or WxH@FPS, e.g. 1920x1080 or 3840x2160@30")
        if size.fps not in FPS_RANGE:
            raise argparse.ArgumentTypeError(f"bad frame rate in {item!r}: FPS must be {FPS_RANGE.start}..{FPS_RANGE.stop - 1}")
        sizes.append(size)
    return sizes


def names_from(known, what):
    """An argparse type: comma-separated names, each one of `known` (empty items ignored)."""
    def parse(text):
        names = [n for n in text.split(",") if n]
        for name in names:
            if name not in known:
                raise argparse.ArgumentTypeError(f"unknown {what} {name!r}; known: {', '.join(known)}")
        return names
    return parse


def free_display():
    """An X display name (":N", N from 120) with neither a socket nor a lock file."""
    for n in range(120, 400):
        if not os.path.exists(f"/tmp/.X11-unix/X{n}") and not os.path.exists(f"/tmp/.X{n}-lock"):
            return f":{n}"
    raise SystemExit("no free display number")


def wait_for_display(name, proc, timeout=10):
    """Waits until the X server `proc` answers on display `name` (xdpyinfo)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"Xvfb {name} exited")
        if subprocess.run(["xdpyinfo", "-display", name], capture_output=True).returncode == 0:
            return
        time.sleep(0.1)
    raise SystemExit(f"Xvfb {name} did not come up")


def grab_screen(display, width, height):
    """One frame of the display as an (H, W, 3) RGB array (ffmpeg x11grab, without the X cursor)."""
    out = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-f", "x11grab", "-draw_mouse", "0",
                          "-video_size", f"{width}x{height}", "-i", display, "-frames:v", "1",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(out, np.uint8).reshape(height, width, 3)


def save_png(image, path):
    """Writes an (H, W, 3) RGB array as PNG (through ffmpeg, so no imaging library is needed)."""
    height, width, _ = image.shape
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-video_size",
                    f"{width}x{height}", "-i", "-", "-frames:v", "1", path], input=image.tobytes(), check=True)


def shows_status_bar(image):
    """True when the screen's last row is, around its middle, the bottom edge of OpenTTD's status bar:
    the game is running (neither the title screen nor the map generation screen has a window there)."""
    width = image.shape[1]
    half = min(150, width // 4)  # the status bar is ~710 px wide at any screen size (GUI scale 1)
    middle = image[-1, width // 2 - half:width // 2 + half]
    return bool(np.all(middle == STATUS_BAR_EDGE, axis=1).mean() > 0.95)


def process_cpu_seconds(pid):
    """User+sys CPU seconds used so far by process `pid` (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average():
    """The 1-minute load average."""
    return os.getloadavg()[0]


def grainy_clip(size, workdir):
    """A 4-s clip of ffmpeg's testsrc2 under strong temporal film grain at the size's frame rate (H.264,
    rendered once per size): decoding it in real time keeps ffplay CPU-hungry, and no two frames share
    their noise."""
    path = os.path.join(workdir, f"grain-{size.width}x{size.height}-{size.fps}.mkv")
    if not os.path.exists(path):
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                        f"testsrc2=size={size.width}x{size.height}:rate={size.fps}", "-vf", "noise=alls=30:allf=t+u",
                        "-t", "4", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "16", "-pix_fmt", "yuv420p", path],
                       check=True)
    return path


class ScrollDriver:
    """Holds the arrow keys in turn (SCROLL_LEGS) with xdotool on a thread of its own, so OpenTTD's main
    view keeps moving and comes back to where it started every cycle."""

    def __init__(self, display):
        self.env = dict(os.environ, DISPLAY=display)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._drive, name="scroll", daemon=True)
        self.thread.start()

    def _key(self, action, key):
        """xdotool keydown / keyup of one key."""
        subprocess.run(["xdotool", action, key], env=self.env, check=True)

    def _drive(self):
        """The thread: one leg after another until stop()."""
        while not self.stopping.is_set():
            for key, seconds in SCROLL_LEGS:
                self._key("keydown", key)
                self.stopping.wait(seconds)
                self._key("keyup", key)
                if self.stopping.is_set():
                    return

    def stop(self):
        """Releases the key held and ends the thread."""
        self.stopping.set()
        self.thread.join()


class Game:
    """Xvfb plus a workload (WORKLOADS) at one size, for the contender `name`; `base` is the path, without
    extension, of that run's files in workdir (the session; the scroll check's PNGs)."""

    def __init__(self, size, workdir, workload, name):
        self.workload = workload
        self.base = os.path.join(workdir, f"{name}-{workload}-{size.label}")
        self.game = self.driver = None
        self.display = free_display()
        self.xvfb = subprocess.Popen(["Xvfb", self.display, "-screen", "0", f"{size.width}x{size.height}x24",
                                      "-nolisten", "tcp", "+extension", "MIT-SHM"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_display(self.display, self.xvfb)
            self._start(size, workdir)
        except BaseException:
            self.close()
            raise

    def _start(self, size, workdir):
        """Starts the workload and waits until it is in the state every contender starts in."""
        env = dict(os.environ, DISPLAY=self.display, HOME=workdir, SDL_AUDIODRIVER="dummy")
        openttd = ["/usr/games/openttd", "-r", f"{size.width}x{size.height}", "-s", "null", "-m", "null", "-v", "sdl"]
        if self.workload == "grainy":
            command = ["ffplay", "-v", "error", "-loop", "0", "-an", "-noborder", "-left", "0", "-top", "0",
                       "-x", str(size.width), "-y", str(size.height), grainy_clip(size, workdir)]
        elif self.workload == "openttd-scroll":
            config = os.path.join(workdir, "openttd-bench.cfg")
            with open(config, "w") as f:
                f.write(OPENTTD_CONFIG)
            command = openttd + ["-c", config, "-x", "-g", "-G", str(GAME_SEED), "-t", "1950"]
        else:
            command = openttd
        self.game = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=workdir)
        if self.workload == "openttd-scroll":
            in_game = self._wait_in_game(size)
            self.driver = ScrollDriver(self.display)
            changed = self._check_scrolling(size)
            print(f"  {self.workload}: in game {in_game:.1f} s after the start; scrolling, {changed:.0f} % of "
                  f"the pixels changed in 0.5 s", flush=True)
            time.sleep(SCROLL_SETTLE_SECONDS)
        else:
            time.sleep(TITLE_SETTLE_SECONDS)
        if self.game.poll() is not None:
            raise SystemExit(f"{command[0]} exited early")

    def _wait_in_game(self, size):
        """Waits until the new game shows its status bar; returns the seconds waited."""
        start = time.monotonic()
        while not shows_status_bar(grab_screen(self.display, size.width, size.height)):
            if self.game.poll() is not None:
                raise SystemExit("openttd exited before its game started")
            if time.monotonic() - start > IN_GAME_TIMEOUT_SECONDS:
                raise SystemExit(f"openttd showed no game after {IN_GAME_TIMEOUT_SECONDS} s")
            time.sleep(0.2)
        return time.monotonic() - start

    def _check_scrolling(self, size):
        """Two grabs 0.5 s apart must differ (the view moves); saves them as PNGs and returns the share
        of pixels that changed, in %."""
        first = grab_screen(self.display, size.width, size.height)
        time.sleep(0.5)
        second = grab_screen(self.display, size.width, size.height)
        save_png(first, self.base + "-scroll-a.png")
        save_png(second, self.base + "-scroll-b.png")
        changed = 100 * float(np.any(first != second, axis=2).mean())
        if changed < 20:
            raise SystemExit(f"the game's view does not scroll: {changed:.0f} % of the pixels changed in 0.5 s")
        return changed

    def cpu_seconds(self):
        """User+sys seconds used so far by (game, X server)."""
        return tuple(process_cpu_seconds(p.pid) for p in (self.game, self.xvfb))

    def close(self):
        """Stops the driving, the workload and the X server."""
        if self.driver:
            self.driver.stop()
        for proc in (self.game, self.xvfb):
            if proc is None or proc.poll() is not None:
                continue
            if proc is self.game and self.workload == "openttd-scroll":
                proc.kill()  # in a game, SIGTERM only opens OpenTTD's "quit?" dialog
            else:
                proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def read_status_kb(pid, *fields):
    """The named /proc/PID/status fields (kB), as found (none once the process has exited)."""
    values = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in fields:
                values[name] = int(value.split()[0])
    return values


def run_measured(cmd, game, rss_every=None, env=None):
    """Runs cmd to completion beside `game`; returns (stdout, RSS samples in MB every `rss_every` s, figures:
    its CPU in cores (user+sys over wall, from wait4) and peak RSS, the game's and X server's CPU in cores over
    the run, the 1-minute load average at the start).

    Peak RSS is the process's VmHWM, read every 0.05 s until it exits: wait4's ru_maxrss would also count
    this script's own footprint, which the child carries until its exec."""
    load = load_average()
    game_before, server_before = game.cpu_seconds()
    start = time.monotonic()
    # Files, not pipes: a full pipe would stall the recorder, and wait4 must reap it to get its rusage.
    out_file, err_file = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, stdout=out_file, stderr=err_file, env=env)
    samples, peak_kb = [], 0
    next_sample = start
    # WNOWAIT: look without reaping, so wait4 below still gets the rusage (poll() would reap it).
    while os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
        status = read_status_kb(proc.pid, "VmHWM", "VmRSS")
        peak_kb = max(peak_kb, status.get("VmHWM", 0))
        if rss_every and time.monotonic() >= next_sample and "VmRSS" in status:
            next_sample += rss_every
            samples.append((round(time.monotonic() - start), status["VmRSS"] / 1024))
        time.sleep(0.05)
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
    figures = {"game_cores": (game_after - game_before) / wall, "server_cores": (server_after - server_before) / wall,
               "load": load, "cpu_cores": (usage.ru_utime + usage.ru_stime) / wall, "rss_mb": peak_kb / 1024}
    return out, samples, figures


def output_figures(path, size, seconds, frames, expected=None):
    """The figures every contender shares, from its output file and its frame count."""
    expected = expected or int(round(seconds * size.fps))
    file_bytes = os.path.getsize(path)
    return {"frames": frames, "expected": expected, "dropped_ticks": expected - frames,
            "delivered": 100 * frames / expected, "mb_s": file_bytes / 1e6 / seconds,
            "ratio": frames * size.width * size.height * 3 / file_bytes, "path": path}


def interval_figures(iv_ms):
    """p50 / p99 / max of the intervals between stored frames, in ms."""
    iv_ms = np.asarray(iv_ms) if len(iv_ms) else np.array([0.0])
    return {"iv_p50": float(np.percentile(iv_ms, 50)), "iv_p99": float(np.percentile(iv_ms, 99)),
            "iv_max": float(iv_ms.max())}


def analyse_recorder_file(path, size, seconds):
    """Frames delivered against the ticks of the whole duration (a drop at the end counts too)."""
    import h5py
    with h5py.File(path, "r") as f:
        ts = f["video/timestamp_ns"][:]
        ticks = f["video/tick"][:]
        reference = f["video/reference"][:]
        shifts = f["video/reference_shift"][:] if "video/reference_shift" in f else np.zeros((len(reference), 2))
        n = f["video/frames"].shape[0]
        summary = json.loads(f.attrs["summary_json"] or "{}")
    expected = max(int(round(seconds * size.fps)), int(ticks[-1]) + 1 if n else 0)
    return dict(output_figures(path, size, seconds, int(n), expected), **interval_figures(np.diff(ts) / 1e6),
                whole_pct=100 * float((reference < 0).mean()) if n else 0,
                shifted_pct=100 * float(np.any(shifts != 0, axis=1).mean()) if n else 0,
                writer_p50_ms=summary.get("writer_frame_ns_p50", 0) / 1e6,
                writer_p99_ms=summary.get("writer_frame_ns_p99", 0) / 1e6,
                capture_dropped=summary.get("frames_dropped", 0), ticks_missed=summary.get("ticks_missed", 0))


def cached_mb(path):
    """MB of `path` in the page cache now (util-linux fincore), or None without it."""
    try:
        out = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES", path],
                             capture_output=True, text=True, check=True).stdout
        return int(out.split()[0]) / 1e6
    except (OSError, subprocess.CalledProcessError, ValueError, IndexError):
        return None


def run_recorder(size, seconds, workdir, workload, name, variant=VARIANTS["default"], rss_every=None):
    """`recorder record` at the size's FPS on a fresh game, as `variant` (label, arguments, environment)."""
    _, extra_args, extra_env = variant
    game = Game(size, workdir, workload, name)
    try:
        path = game.base + ".h5"
        cmd = [RECORDER, "record", "--display", game.display, "--output", path, "--duration", str(seconds),
               "--fps", str(size.fps), "--input", "none", "--quiet", "--json", *extra_args]
        _, rss, extras = run_measured(cmd, game, rss_every=rss_every, env=dict(os.environ, **extra_env) if extra_env else None)
        return dict(analyse_recorder_file(path, size, seconds), **extras, rss_series=rss, cached_mb=cached_mb(path),
                    file_mb=os.path.getsize(path) / 1e6)
    finally:
        game.close()


def run_ffmpeg(size, seconds, workdir, workload, name, codec_args):
    """ffmpeg x11grab at the size's FPS into Matroska with `codec_args`; frames and intervals from the
    packets' times."""
    game = Game(size, workdir, workload, name)
    try:
        path = game.base + ".mkv"
        cmd = ["ffmpeg", "-v", "error", "-nostdin", "-f", "x11grab", "-draw_mouse", "0", "-framerate", str(size.fps),
               "-video_size", f"{size.width}x{size.height}", "-i", game.display, "-t", str(seconds),
               "-fps_mode", "passthrough", *codec_args, path]
        _, _, extras = run_measured(cmd, game)
    finally:
        game.close()
    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time",
                            "-of", "csv=p=0", path], capture_output=True, text=True, check=True)
    times = np.sort(np.array([float(v) for v in probe.stdout.split() if v and v != "N/A"]))
    return dict(extras, **output_figures(path, size, seconds, len(times)), **interval_figures(np.diff(times) * 1000),
                whole_pct=float("nan"), shifted_pct=float("nan"))


#: ffmpeg contenders: row label and output codec arguments.
FFMPEG = {"x264rgb": ("ffmpeg libx264rgb -qp 0 ultrafast", ["-c:v", "libx264rgb", "-qp", "0", "-preset", "ultrafast"]),
          "ffv1": ("ffmpeg ffv1", ["-c:v", "ffv1", "-level", "3", "-threads", "2", "-slices", "4"])}
BASELINE = "x264rgb"  # the ratio rows divide by this contender when it ran


def run_peer(size, seconds, peer_codec, workdir, workload):
    """The Python peer (mss + h5py) at the size's FPS on a fresh game."""
    game = Game(size, workdir, workload, "peer")
    try:
        path = game.base + ".h5"
        cmd = [sys.executable, PEER, path, str(seconds), str(size.fps), peer_codec]
        out, _, extras = run_measured(cmd, game, env=dict(os.environ, DISPLAY=game.display))
    finally:
        game.close()
    p = json.loads(out.strip().splitlines()[-1])
    return dict(extras, **output_figures(path, size, seconds, p["written"]),
                iv_p50=p["interval_ms_p50"], iv_p99=p["interval_ms_p99"], iv_max=p["interval_ms_max"],
                whole_pct=100.0, shifted_pct=0.0)


class RecorderFrames:
    """A recorder session read with the repo's reader; `frame(i)` decodes from scratch (cache cleared)."""

    def __init__(self, path):
        import recorder_reader
        self.session = recorder_reader.open(path)

    def __len__(self):
        return len(self.session)

    def frame(self, i):
        self.session.clear_cache()
        return self.session.frame(i)

    def sequential(self, stop):
        for _, image in self.session.iter_frames(0, stop):
            yield image

    def close(self):
        self.session.close()


class MkvFrames:
    """ffmpeg's Matroska output read with PyAV; frame i is the i-th packet (libx264rgb ultrafast has no
    B-frames, so decode order is display order). Timestamps cannot name a frame: x11grab's millisecond
    timestamps repeat (38 of 900 frames of a 2160p30 run)."""

    def __init__(self, path):
        import av
        self.container = av.open(path)
        self.stream = self.container.streams.video[0]
        packets = [p for p in self.container.demux(self.stream) if p.pts is not None]
        self.pts = [p.pts for p in packets]
        self.keyframes = [i for i, p in enumerate(packets) if p.is_keyframe]

    def __len__(self):
        return len(self.pts)

    def _decode_from_keyframe(self, k):
        """Frames from keyframe packet k on, in order."""
        self.container.seek(self.pts[k], stream=self.stream, backward=True, any_frame=False)
        frames = self.container.decode(self.stream)
        for frame in frames:
            if frame.pts == self.pts[k]:
                yield frame
                break
        else:
            raise RuntimeError(f"seeking to keyframe pts {self.pts[k]} found no frame with it")
        yield from frames

    def frame(self, i):
        """Seeks to the keyframe at or before frame i and decodes forward to frame i."""
        k = max(j for j in self.keyframes if j <= i) if self.keyframes and self.keyframes[0] <= i else 0
        for n, frame in enumerate(self._decode_from_keyframe(k), start=k):
            if n == i:
                if frame.pts != self.pts[i]:
                    raise RuntimeError(f"frame {i} decoded with pts {frame.pts}, its packet has {self.pts[i]}")
                return frame.to_ndarray(format="rgb24")
        raise RuntimeError(f"no frame {i}")

    def sequential(self, stop):
        for n, frame in enumerate(self._decode_from_keyframe(0)):
            if n == stop:
                return
            if frame.pts != self.pts[n]:
                raise RuntimeError(f"sequential frame {n} has pts {frame.pts}, expected {self.pts[n]}")
            yield frame.to_ndarray(format="rgb24")

    def close(self):
        self.container.close()


class PeerFrames:
    """The Python peer's file: one compressed chunk per frame in /frames, read with h5py."""

    def __init__(self, path):
        import h5py
        import hdf5plugin  # noqa: F401  registers the peer's compression filters
        self.file = h5py.File(path, "r")
        self.frames = self.file["frames"]

    def __len__(self):
        return self.frames.shape[0]

    def frame(self, i):
        return self.frames[i]

    def sequential(self, stop):
        for i in range(stop):
            yield self.frames[i]

    def close(self):
        self.file.close()


def random_decode_figures(reader_class, path, size, count):
    """decode_p50 / decode_p99 (ms) of `count` random frames (seed DECODE_SEED) read by index, each from
    scratch, after opening the file with `reader_class` (not timed). Checks every image's shape and the
    three lowest picked frames against a sequential decode."""
    missing = {"decode_p50": float("nan"), "decode_p99": float("nan")}
    if count <= 0:
        return missing
    reader = reader_class(path)
    try:
        if not len(reader):
            return missing
        picked = np.random.default_rng(DECODE_SEED).choice(len(reader), size=min(count, len(reader)), replace=False)
        times, images = [], {}
        checked = set(np.sort(picked)[:3].tolist())
        for i in picked.tolist():
            start = time.perf_counter()
            image = reader.frame(i)
            times.append((time.perf_counter() - start) * 1000)
            if image.shape != (size.height, size.width, 3) or image.dtype != np.uint8:
                raise SystemExit(f"{path}: frame {i} decoded as {image.dtype} {image.shape}")
            if i in checked:
                images[i] = np.array(image)
        for i, image in enumerate(reader.sequential(max(checked) + 1)):
            if i in checked and not np.array_equal(image, images[i]):
                raise SystemExit(f"{path}: frame {i} decoded by index differs from the sequential decode")
    finally:
        reader.close()
    return {"decode_p50": float(np.percentile(times, 50)), "decode_p99": float(np.percentile(times, 99))}


def machine_description():
    """Cores, CPU model and kernel, for the tables' heading."""
    model = "?"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores, {model}, Linux {os.uname().release}"


#: Table columns: header, result key, format of a contender's row, format of a ratio row (None: left blank).
COLUMNS = (("delivered %", "delivered", ".2f", ".3f"), ("dropped", "dropped_ticks", "d", None),
           ("iv p50 ms", "iv_p50", ".2f", None), ("iv p99 ms", "iv_p99", ".2f", ".3f"),
           ("iv max ms", "iv_max", ".2f", ".3f"), ("CPU cores", "cpu_cores", ".2f", ".2f"),
           ("RSS MB", "rss_mb", ".0f", ".2f"), ("MB/s", "mb_s", ".1f", ".2f"), ("ratio", "ratio", ".1f", ".2f"),
           ("whole frames %", "whole_pct", ".0f", None), ("shifted %", "shifted_pct", ".0f", None),
           ("game cores", "game_cores", ".2f", ".2f"), ("X cores", "server_cores", ".2f", ".2f"),
           ("load", "load", ".2f", None), ("decode p50 ms", "decode_p50", ".1f", ".3g"),
           ("decode p99 ms", "decode_p99", ".1f", ".3g"))


def cell(value, spec):
    """A table cell: blank for a missing figure (NaN)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return format(value, spec)


def print_table(workload, rows, args):
    """One workload's table (a row per contender, then each recorder variant over the baseline) and the
    recorders' writer figures."""
    print()
    print(f"machine: {machine_description()}; workload {workload}; {args.seconds:.0f} s each; "
          f"peer codec {args.peer_codec}; random-frame decode of {args.decode_frames} frames")
    print("| " + " | ".join(("size", "who") + tuple(c[0] for c in COLUMNS)) + " |")
    print("|" + "---|" * (len(COLUMNS) + 2))
    for size, recs, others in rows:
        for who, r in recs + others:
            print(f"| {size.label} | {who} | " + " | ".join(cell(r[key], spec) for _, key, spec, _ in COLUMNS) + " |")
        if not others:
            continue
        base_name, base = next(((who, r) for who, r in others if who == FFMPEG[BASELINE][0]), others[0])
        for who, rec in recs:
            ratios = (cell(rec[key] / base[key] if base[key] else float("nan"), spec) if spec else ""
                      for _, key, _, spec in COLUMNS)
            print(f"| {size.label} | {who} / {base_name} | " + " | ".join(ratios) + " |")
    print()
    for size, recs, _ in rows:
        for who, rec in recs:
            print(f"{who} {size.label}: writer per frame p50 {rec['writer_p50_ms']:.1f} ms, p99 {rec['writer_p99_ms']:.1f} ms; "
                  f"dropped for want of a free slot {rec['capture_dropped']}, ticks missed by the capture thread {rec['ticks_missed']}; "
                  + (f"{rec['cached_mb']:.0f} of its {rec['file_mb']:.0f} MB still in the page cache"
                     if rec.get("cached_mb") is not None else "page cache: fincore not available"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--sizes", type=parse_sizes, default=parse_sizes(DEFAULT_SIZES),
                        help=f"WxH or WxH@FPS (default FPS {DEFAULT_FPS}), comma-separated; default {DEFAULT_SIZES}")
    parser.add_argument("--workloads", "--workload", type=names_from(WORKLOADS, "workload"), default=["openttd"],
                        help="comma-separated, one table each: " + "; ".join(f"{k}: {v}" for k, v in WORKLOADS.items()))
    parser.add_argument("--peer-codec", default="zstd")
    parser.add_argument("--variants", type=names_from(VARIANTS, "variant"), default=["default", "format-1"],
                        help="recorder variants: " + ", ".join(VARIANTS))
    parser.add_argument("--ffmpeg", type=names_from(FFMPEG, "ffmpeg contender"), default=[BASELINE],
                        help="ffmpeg contenders, comma-separated ('' for none): " + ", ".join(FFMPEG))
    parser.add_argument("--no-peer", action="store_true", help="leave out the Python peer")
    parser.add_argument("--decode-frames", type=int, default=50,
                        help="random frames decoded by index after each run (0: skip)")
    parser.add_argument("--long", type=float, default=0, help="also record this long at the first size and sample RSS")
    parser.add_argument("--long-variant", default="default", choices=sorted(VARIANTS))
    parser.add_argument("--keep", help="keep the session files (and the scroll check's PNGs) in this directory")
    args = parser.parse_args()
    variants, contenders = args.variants, args.ffmpeg
    workdir = args.keep or tempfile.mkdtemp(prefix="recorder-bench-")
    os.makedirs(workdir, exist_ok=True)
    tables = []
    long_run = None
    print(f"machine: {machine_description()}", flush=True)
    try:
        for workload in args.workloads:
            rows = []
            for size in args.sizes:
                print(f"# {size.label} {workload}: {args.seconds:.0f} s per recorder variant ({', '.join(variants)}), "
                      f"ffmpeg ({', '.join(contenders) or 'none'}), peer ({'no' if args.no_peer else args.peer_codec}), "
                      f"each on a fresh game", flush=True)
                recs = [(VARIANTS[v][0], run_recorder(size, args.seconds, workdir, workload, f"recorder-{v}", VARIANTS[v]))
                        for v in variants]
                encoded = [(FFMPEG[c][0], run_ffmpeg(size, args.seconds, workdir, workload, c, FFMPEG[c][1]))
                           for c in contenders]
                peer = [] if args.no_peer else \
                    [("python peer", run_peer(size, args.seconds, args.peer_codec, workdir, workload))]
                for reader, results in ((RecorderFrames, recs), (MkvFrames, encoded), (PeerFrames, peer)):
                    for _, result in results:
                        result.update(random_decode_figures(reader, result["path"], size, args.decode_frames))
                        if not args.keep:
                            os.remove(result["path"])
                rows.append((size, recs, encoded + peer))
            tables.append((workload, rows))
        if args.long:
            size, workload = args.sizes[0], args.workloads[0]
            print(f"# {size.label} {workload}: {args.long:.0f} s {VARIANTS[args.long_variant][0]} alone, RSS every 10 s",
                  flush=True)
            long_run = run_recorder(size, args.long, workdir, workload, "long", VARIANTS[args.long_variant], rss_every=10)
            os.remove(long_run["path"])
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    for workload, rows in tables:
        print_table(workload, rows, args)
    if long_run:
        print(f"\nlong run ({VARIANTS[args.long_variant][0]}) at {args.sizes[0].label} {args.workloads[0]}: "
              f"{args.long:.0f} s, delivered {long_run['delivered']:.2f} %, CPU {long_run['cpu_cores']:.2f} cores, "
              f"{long_run['mb_s']:.1f} MB/s, peak RSS {long_run['rss_mb']:.0f} MB, load {long_run['load']:.2f}")
        print("RSS (s:MB): " + ", ".join(f"{t}:{m:.0f}" for t, m in long_run["rss_series"]))


if __name__ == "__main__":
    main()
