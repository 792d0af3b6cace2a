#!/usr/bin/env bash
# make bench: three workloads on private Xvfbs (OpenTTD's animated title screen, OpenTTD in a game with
# its view scrolled by xdotool, ffplay looping a grainy clip) at 1280x720, 1920x1080, 2560x1440 (60 FPS)
# and 3840x2160@30, each recorded by `recorder record` (format 2, the default, and --format-1), by
# ffmpeg x11grab + libx264rgb -qp 0 ultrafast and by the Python peer (../shared/bench/py_baseline_recorder.py)
# in the same run; prints one table per workload with ratios against x264rgb (random-frame decode times
# included), then the capture grab cost against a bare XShmGetImage loop (capture_bench.sh).
# Arguments go to bench_session.py after the default workloads (e.g. --long 600, --workload grainy,
# --sizes 1920x1080); RECORDER=path and SCRATCH=.build-x pick the build.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=""
for p in openttd openttd-opengfx ffmpeg xdotool; do dpkg-query -W -f='${Status}\n' $p 2>/dev/null | grep -q '^install ok installed$' || missing="$missing $p"; done
if [ -n "$missing" ]; then
    echo "installing$missing"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
python3 -c "import mss" 2>/dev/null || python3 -m pip install -q --disable-pip-version-check "mss>=10.2"
python3 -c "import av" 2>/dev/null || python3 -m pip install -q --disable-pip-version-check av
python3 bench/bench_session.py --workloads openttd,openttd-scroll,grainy "$@"
# The grab cost beside a bare XShmGetImage loop, on an idle 1920x1080 Xvfb (no game).
echo
echo "# capture-bench, 1920x1080, 10 s (load $(cut -d' ' -f1 /proc/loadavg))"
SCRATCH="${SCRATCH:-.build}" bench/capture_bench.sh 10
