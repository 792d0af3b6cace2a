#!/usr/bin/env bash
# Input benchmark: a generated 1000 Hz mouse (evemu) replayed for 60 s through InputWorker.
# Prints events in/out, loss (must be 0), latency release->ring and the input thread's CPU use.
# Usage: bench/input_bench.sh [--rate HZ] [--seconds S]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product input-bench ${SCRATCH:+--scratch-path "$SCRATCH"} >&2
bin=$(swift build -c release --show-bin-path ${SCRATCH:+--scratch-path "$SCRATCH"})/input-bench
exec "$bin" "$@"
