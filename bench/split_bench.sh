#!/usr/bin/env bash
# Split sessions against one file: OpenTTD's title screen at 1080p on a private Xvfb, recorded by
# `recorder record` without and with --split-every (60 s by default), each on a fresh game; prints
# CPU, delivery (ticks stored / ticks) and every rollover's time. Arguments go to split_bench.py
# (--seconds 90 --size 1920x1080 --every 60 --keep DIR); RECORDER=path picks the binary.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=""
for p in openttd openttd-opengfx; do dpkg-query -W -f='${Status}\n' $p 2>/dev/null | grep -q '^install ok installed$' || missing="$missing $p"; done
if [ -n "$missing" ]; then
    echo "installing$missing"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
[ -n "${RECORDER:-}" ] || [ -x .build/release/recorder ] || swift build -c release --product recorder
python3 bench/split_bench.py "$@"
