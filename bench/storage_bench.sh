#!/bin/sh
# Storage benchmark: the session writer on 60 real 1080p OpenTTD frames, every codec x interval x policy,
# then lossless check + random/sequential decode timings in h5py.
#   sh bench/storage_bench.sh            (grabs the frames first if bench/out has none)
set -eu
cd "$(dirname "$0")/.."
FRAMES=bench/out/openttd_1920x1080_60.bgrx
if [ ! -f "$FRAMES" ]; then
    # OpenTTD's animated title screen on a private 1080p Xvfb (apt-get install openttd openttd-opengfx).
    Xvfb :77 -screen 0 1920x1080x24 -nolisten tcp & XVFB=$!
    sleep 2
    DISPLAY=:77 SDL_AUDIODRIVER=dummy /usr/games/openttd -r 1920x1080 -v sdl -s null -m null & GAME=$!
    sleep 8
    DISPLAY=:77 python3 bench/grab_openttd_frames.py "$FRAMES" 60 60
    kill $GAME; sleep 1; kill $XVFB
fi
swift build -c release --product storage-bench --scratch-path "${SCRATCH:-.build}"
"${SCRATCH:-.build}/release/storage-bench" bench "$FRAMES" 1920 1080 bench/out/files "${REPEAT:-1}"
python3 bench/storage_bench_decode.py "$FRAMES" 1920 1080 bench/out/files/*.h5
