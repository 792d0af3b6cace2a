#!/usr/bin/env python3
"""How long the writer's chunk writes take with and without write-behind, on this machine.

Writes COUNT chunks of CHUNK_MB random bytes to a fresh file, one every 10 ms (a grainy 1080p60
session writes a 5.8 MB chunk every ~17 ms), and times each pwrite. Variants, run one after the other
in the order given, each on its own fresh file:

- `kernel`: the page cache is left to the kernel, every written byte stays cached;
- `window-N`: a second thread does what the recorder's `rec-writeback` does (RecorderCore/WriteBehind):
  every 20 ms it starts writeback of the new bytes (sync_file_range WRITE) and drops everything but
  the newest N MiB from the cache (sync_file_range WAIT + posix_fadvise DONTNEED, 2 MiB-aligned).

Where a new page-cache page is dear (a VM whose freed memory goes back to the host), `kernel` pays that
for every chunk and `window-N` only until the window is full: its pages are then reused. Run `kernel`
first, or after a pause of a few seconds, so it does not reuse the pages another variant just freed.

    python3 bench/page_cache_bench.py [--count 600] [--chunk-mb 5.76] [--variants kernel,window-64,window-16] [--dir DIR]
"""
import argparse
import ctypes
import os
import threading
import time

SYNC_FILE_RANGE_WAIT_BEFORE, SYNC_FILE_RANGE_WRITE, SYNC_FILE_RANGE_WAIT_AFTER = 1, 2, 4
FOLIO = 2 << 20
STEP = 8 << 20

libc = ctypes.CDLL(None, use_errno=True)
libc.sync_file_range.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]


def trim_loop(fd, window, done):
    """The write-behind: writeback of new bytes, then everything out of the window dropped."""
    started = dropped = 0
    while not done.is_set():
        size = os.fstat(fd).st_size
        if size > started:
            libc.sync_file_range(fd, started, size - started, SYNC_FILE_RANGE_WRITE)
            started = size
        target = (size - window) & ~(FOLIO - 1)
        if target - dropped >= STEP:
            libc.sync_file_range(fd, dropped, target - dropped,
                                 SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER)
            os.posix_fadvise(fd, dropped, target - dropped, os.POSIX_FADV_DONTNEED)
            dropped = target
        done.wait(0.02)


def run(variant, directory, count, chunk):
    """Times `count` pwrites of `chunk` under `variant`; returns the times in ms."""
    path = os.path.join(directory, f"page-cache-bench-{variant}.bin")
    fd = os.open(path, os.O_CREAT | os.O_TRUNC | os.O_RDWR, 0o600)
    done = threading.Event()
    trimmer = None
    if variant.startswith("window-"):
        trimmer = threading.Thread(target=trim_loop, args=(fd, int(variant.split("-")[1]) << 20, done))
        trimmer.start()
    data = os.urandom(chunk)
    times, offset = [], 0
    try:
        for _ in range(count):
            start = time.perf_counter()
            os.pwrite(fd, data, offset)
            times.append((time.perf_counter() - start) * 1000)
            offset += chunk
            time.sleep(0.01)
    finally:
        done.set()
        if trimmer:
            trimmer.join()
        os.close(fd)
        os.unlink(path)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=600)
    parser.add_argument("--chunk-mb", type=float, default=5.76)
    parser.add_argument("--variants", default="kernel,window-64")
    parser.add_argument("--dir", default=os.environ.get("TMPDIR", "/tmp"))
    parser.add_argument("--pause", type=float, default=5.0, help="seconds between variants")
    args = parser.parse_args()
    chunk = int(args.chunk_mb * 1e6)
    print(f"{args.count} writes of {chunk / 1e6:.2f} MB, one every 10 ms, in {args.dir}")
    print("| variant | p50 ms | p90 ms | p99 ms | max ms | after the first 100: p50 / p99 ms |")
    print("|---|---|---|---|---|---|")
    for index, variant in enumerate(args.variants.split(",")):
        if index:
            time.sleep(args.pause)
        times = run(variant, args.dir, args.count, chunk)
        ordered = sorted(times)
        late = sorted(times[100:]) or ordered

        def pct(values, p):
            return values[min(len(values) - 1, int(len(values) * p / 100))]
        print(f"| {variant} | {pct(ordered, 50):.2f} | {pct(ordered, 90):.2f} | {pct(ordered, 99):.2f} | "
              f"{ordered[-1]:.2f} | {pct(late, 50):.2f} / {pct(late, 99):.2f} |", flush=True)


if __name__ == "__main__":
    main()
