#!/usr/bin/env bash
# Capture benchmark: starts a private 1920x1080 Xvfb with MIT-SHM, builds capture-bench in release
# mode and prints grab time next to a bare XShmGetImage loop, wake-up error and drops.
# Usage: bench/capture_bench.sh [SECONDS] (default 10). SCRATCH=.build-x to pick the build folder.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN="${1:-10}"
SCRATCH="${SCRATCH:-.build}"
swift build -c release --scratch-path "$SCRATCH" --product capture-bench >/dev/null
BIN="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)/capture-bench"

for n in $(seq 150 250); do
    [[ -e /tmp/.X$n-lock || -e /tmp/.X11-unix/X$n ]] || { DISPLAY_NUMBER=$n; break; }
done
Xvfb ":$DISPLAY_NUMBER" -screen 0 1920x1080x24 -nolisten tcp +extension MIT-SHM -noreset >/dev/null 2>&1 &
XVFB_PID=$!
# Xvfb may inherit a blocked SIGTERM; SIGKILL always works.
trap 'kill -9 $XVFB_PID 2>/dev/null; rm -f /tmp/.X$DISPLAY_NUMBER-lock /tmp/.X11-unix/X$DISPLAY_NUMBER' EXIT
for _ in $(seq 100); do xdpyinfo -display ":$DISPLAY_NUMBER" >/dev/null 2>&1 && break; sleep 0.05; done

"$BIN" --display ":$DISPLAY_NUMBER" --seconds "$SECONDS_TO_RUN" --fps 60
