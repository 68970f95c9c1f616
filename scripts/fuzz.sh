#!/usr/bin/env bash
# The differential fuzzer, for long runs: N random workflows (default 200) from SEED (default:
# random), each run inline in Python and compiled at -O0 and -O; prints every divergence and
# every compiler rejection with the program that caused it, then a summary line
# (programs, compiled, ran, divergences). Exit 1 when anything diverged.
#
#   bash scripts/fuzz.sh 2000          # a random seed (printed)
#   bash scripts/fuzz.sh 2000 12345    # the same programs again
#
# Runs through the test binary's DifferentialFuzzTests (one compiler in-process, one runner
# with one worker pool); `swift test` runs the same test with a fixed seed.
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-200}"
seed="${2:-$(( (RANDOM << 15) | RANDOM ))}"
echo "fuzz: $count programs, seed $seed" >&2
swift build --build-tests >&2
log="$(mktemp)"
status=0
WAYMARK_FUZZ_COUNT="$count" WAYMARK_FUZZ_SEED="$seed" \
    swift test --skip-build --filter DifferentialFuzzTests >"$log" 2>&1 || status=$?
# The findings and the summary, without the test runner's own lines.
sed -n '/^\(DIVERGENCE\|COMPILER\)/,/^----$/p; /^fuzz: /p' "$log"
if [ "$status" -ne 0 ] && ! grep -q '^fuzz: ' "$log"; then
    cat "$log" >&2
fi
rm -f "$log"
exit "$status"
