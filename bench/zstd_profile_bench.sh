#!/usr/bin/env bash
# Whole-frame zstd profiles on real frames of a recorded session (e.g. one kept by
# `bench/bench_session.py --keep DIR`): time and size per frame, stock levels against the recorder's
# screen profile. Usage: bench/zstd_profile_bench.sh SESSION.h5 [FRAME_INDEX...]
# (default: 8 frames spread over the session). Needs the Python reader (make deps).
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 SESSION.h5 [FRAME_INDEX...]" >&2; exit 2; }
session=$1; shift
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
gcc -O2 -o "$work/zstd_profile_bench" "$(dirname "$0")/zstd_profile_bench.c" -lzstd
size=$(python3 - "$session" "$work" "$@" <<'PY'
import sys, recorder_reader
session, work, picks = sys.argv[1], sys.argv[2], [int(i) for i in sys.argv[3:]]
s = recorder_reader.open(session)
n = len(s.references)
picks = picks or [n * k // 8 for k in range(8)]
for i in picks:
    s.frame(i).tofile(f"{work}/frame{i:06d}.rgb")
print(s.width, s.height)
PY
)
"$work/zstd_profile_bench" $size "$work"/frame*.rgb
