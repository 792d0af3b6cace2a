#!/usr/bin/env bash
# make bench: OpenTTD's animated title screen on a private Xvfb, recorded by `recorder record` (format 2,
# the default, and --format-1), by ffmpeg x11grab + libx264rgb -qp 0 ultrafast and by the Python peer
# (../shared/bench/py_baseline_recorder.py) in the same run; prints one table with ratios against x264rgb,
# then the capture grab cost against a bare XShmGetImage loop (capture_bench.sh).
# Arguments go to bench_session.py (e.g. --long 600); RECORDER=path and SCRATCH=.build-x pick the build.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=""
for p in openttd openttd-opengfx ffmpeg; do dpkg-query -W -f='${Status}\n' $p 2>/dev/null | grep -q '^install ok installed$' || missing="$missing $p"; done
if [ -n "$missing" ]; then
    echo "installing$missing"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
python3 -c "import mss" 2>/dev/null || python3 -m pip install -q --disable-pip-version-check "mss>=10.2"
python3 bench/bench_session.py "$@"
# The grab cost beside a bare XShmGetImage loop, on an idle 1920x1080 Xvfb (no game).
echo
echo "# capture-bench, 1920x1080, 10 s (load $(cut -d' ' -f1 /proc/loadavg))"
SCRATCH="${SCRATCH:-.build}" bench/capture_bench.sh 10
