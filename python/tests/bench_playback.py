"""Prints reader throughput on a synthetic 1920x1080 session (figures, not assertions).

    python3 python/tests/bench_playback.py [--frames 120] [--width 1920] [--height 1080]
"""

import argparse
import os
import sys
import tempfile
import time

sys.path[:0] = [os.path.dirname(os.path.dirname(os.path.abspath(__file__))), os.path.dirname(os.path.abspath(__file__))]

import numpy as np  # noqa: E402

import recorder_reader as rr  # noqa: E402
from make_session import write_session  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--height", type=int, default=1080)
    args = parser.parse_args()
    print("%d frames %dx%d, synthetic moving scene" % (args.frames, args.width, args.height))
    with tempfile.TemporaryDirectory() as tmp:
        for codec in ("zstd", "lz4", "none"):
            for keyframe_interval in (1, 30):
                path = os.path.join(tmp, "%s-%d.h5" % (codec, keyframe_interval))
                write_session(path, count=args.frames, height=args.height, width=args.width, codec=codec,
                              keyframe_interval=keyframe_interval)
                with rr.open(path) as s:
                    began = time.perf_counter()
                    for _ in s:
                        pass
                    sequential = args.frames / (time.perf_counter() - began)
                    reads = s.chunk_reads
                with rr.open(path) as s:
                    order = np.random.default_rng(1).permutation(args.frames)
                    began = time.perf_counter()
                    for i in order:
                        s.frame(int(i))
                    random_fps = args.frames / (time.perf_counter() - began)
                    ratio = s.compression_ratio
                print("%-5s K=%-3d sequential %7.1f frames/s (%d chunk reads)  random %7.1f frames/s  "
                      "compression ratio %.1f" % (codec, keyframe_interval, sequential, reads, random_fps, ratio))


if __name__ == "__main__":
    main()
