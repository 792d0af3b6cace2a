#!/usr/bin/env bash
# Motion reference on consecutive real frames of a recorded session (e.g. one kept by
# `bench/bench_session.py --keep DIR`): search cost, shifted-residual zstd time and size against whole
# frames. Usage: bench/motion_bench.sh SESSION.h5 FIRST_FRAME [COUNT]   (default 32 frames from FIRST_FRAME;
# pick a pan: `recorder inspect` shows the frames stored whole). Needs the Python reader (make deps).
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 SESSION.h5 FIRST_FRAME [COUNT]" >&2; exit 2; }
session=$1 first=$2 count=${3:-32}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
gcc -O2 -I"$root/Sources/CFrameKernels/include" -I"$root/Sources/CChunkCodec/include" $(pkg-config --cflags libzstd liblz4) \
    -o "$work/motion_bench" "$root/bench/motion_bench.c" "$root/Sources/CFrameKernels/CFrameKernels.c" \
    "$root/Sources/CChunkCodec/CChunkCodec.c" $(pkg-config --libs libzstd liblz4)
size=$(PYTHONPATH="$root/python" python3 - "$session" "$work" "$first" "$count" <<'PY'
import sys, recorder_reader
session, work, first, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
s = recorder_reader.open(session)
for i in range(first, min(first + count, len(s))):
    s.frame(i).tofile(f"{work}/frame{i:06d}.rgb")
print(s.width, s.height)
PY
)
cd "$work" && ./motion_bench $size frame*.rgb
