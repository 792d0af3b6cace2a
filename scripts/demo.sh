#!/usr/bin/env bash
# make demo: records a few seconds of a moving scene on a private Xvfb display and prints the summary and the file.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.build/release
OUT_DIR=${RECORDER_DEMO_DIR:-$(mktemp -d /tmp/recorder-demo.XXXXXX)}
SECONDS_TO_RECORD=${RECORDER_DEMO_SECONDS:-5}
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

if [ -n "${RECORDER_DEMO_DISPLAY:-}" ]; then
    DISPLAY_NAME=$RECORDER_DEMO_DISPLAY
else
    for n in $(seq 77 200); do
        [ -e /tmp/.X11-unix/X$n ] || [ -e /tmp/.X$n-lock ] || { DISPLAY_NAME=:$n; break; }
    done
    Xvfb "$DISPLAY_NAME" -screen 0 1280x720x24 -nolisten tcp +extension MIT-SHM >/dev/null 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do xdpyinfo -display "$DISPLAY_NAME" >/dev/null 2>&1 && break; sleep 0.05; done
fi
# The scene prints "ready" once its first frame is on screen; the recording starts after that.
ready=$(mktemp -u)
mkfifo "$ready"
python3 scripts/moving_scene.py "$DISPLAY_NAME" $((SECONDS_TO_RECORD + 5)) >"$ready" &
pids+=($!)
read -r -t 60 _ <"$ready" || echo "moving scene did not start" >&2
rm -f "$ready"
FILE="$OUT_DIR/demo-$(date +%Y%m%d-%H%M%S).h5"
echo "recording $SECONDS_TO_RECORD s of a moving scene on $DISPLAY_NAME"
# Input: a real gamepad recording played as a live device, when the shared fixtures are beside the repo.
PAD=../shared/fixtures/evemu/madcatz-xbox360-pad.events
INPUT=none
[ -f "$PAD" ] && INPUT="replay:$(cd "$(dirname "$PAD")" && pwd)/$(basename "$PAD")"
"$BIN/recorder" record --display "$DISPLAY_NAME" --output "$FILE" --duration "$SECONDS_TO_RECORD" --input "$INPUT" --meta demo=1
echo
"$BIN/recorder" inspect "$FILE"
SHEET="${FILE%.h5}-contact-sheet.png"
(cd python && python3 -m recorder_reader inspect "$FILE" --contact-sheet "$SHEET" >/dev/null) && echo "contact sheet: $SHEET"
echo
echo "session file: $FILE"
