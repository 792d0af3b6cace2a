#!/usr/bin/env bash
# Runs the parser fuzz tests (evemu files, probe files, control request lines) longer than `make test`
# does: mutations of the committed seeds (Tests/fuzz-corpus, ../shared/fixtures/evemu) with a fixed
# seed, each input checked to end in a clean error or a correct result (a trap fails the run).
#
#   scripts/fuzz_parsers.sh [SECONDS_PER_TEST] [SEED]
#
# Defaults: 200 s per test, seed 1. A failure names the seed; rerun with it to reproduce.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-200}
seed=${2:-1}
swift build --build-tests
export FUZZ_SECONDS=$seconds FUZZ_SEED=$seed FUZZ_ITERATIONS=${FUZZ_ITERATIONS:-1000000}
filter='EvemuHostileTests/mutatedFixtures|ProbeHostileTests/mutatedProbeFiles|HostileControlTests/mutatedRequestLines'
echo "fuzzing parsers: ${seconds} s per test, seed ${seed}"
if ! swift test --skip-build --filter "$filter"; then
    echo "fuzz_parsers: FAILED with FUZZ_SEED=${seed} FUZZ_SECONDS=${seconds}" >&2
    exit 1
fi
