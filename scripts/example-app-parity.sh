#!/usr/bin/env bash
# Compiles waymark's example application (example_app/ of a waymark checkout) unchanged, from a
# temporary copy, and runs each of its workflows both ways: compiled (waymark-run --canonical,
# in-memory store, real Python workers) and inline in plain Python (python -m waymark.inline).
# Prints each case that differs, then "example app: N workflows compiled, M cases run (W
# workflows), E equal". Exit 1 when anything differs or does not compile.
#
#   bash scripts/example-app-parity.sh /path/to/waymark/example_app
#
# Every workflow of the app is runnable here: its actions need no service (the retry and
# timeout probes keep counters in /tmp/waymark-example-retry-counters, as the app does).
# DurableSleepWorkflow and LoopingSleepWorkflow return wall-clock timestamps from an action;
# those are masked before comparing. Sleeps and backoff are skipped (scale 0) on both sides;
# action timeouts are real (TimeoutProbeWorkflow waits one second per attempt).
set -u
app=${1:?usage: scripts/example-app-parity.sh /path/to/waymark/example_app}
root="$(cd "$(dirname "$0")/.." && pwd)"
waymarkc=${WAYMARKC:-"$root/.build/debug/waymarkc"}
runner=${WAYMARK_RUN:-"$root/.build/debug/waymark-run"}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$app" "$work/app"
source_root="$work/app/src"
module="$source_root/example_app/workflows.py"
bundle="$work/app.wmb"
if ! "$waymarkc" compile "$module" -I "$source_root" -o "$bundle" >"$work/compile.log" 2>&1; then
    cat "$work/compile.log"
    echo "example app: does not compile"
    exit 1
fi
compiled=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["workflows"]))' "$bundle")

# workflow <TAB> input, one case a line.
cases=$(cat <<'EOF'
ParallelMathWorkflow	{"number": 5}
ParallelMathWorkflow	{"number": 0}
ParallelMathWorkflow	{"number": 12}
SequentialChainWorkflow	{"text": "waymark"}
ConditionalBranchWorkflow	{"value": 80}
ConditionalBranchWorkflow	{"value": 30}
ConditionalBranchWorkflow	{"value": 5}
LoopProcessingWorkflow	{"items": ["alpha", "beta", "gamma"]}
LoopProcessingWorkflow	{"items": []}
WhileLoopWorkflow	{"limit": 4}
WhileLoopWorkflow	{"limit": 0}
LoopReturnWorkflow	{"items": [3, 1, 4, 1, 5], "needle": 4}
LoopReturnWorkflow	{"items": [3, 1], "needle": 9}
ErrorHandlingWorkflow	{"should_fail": true}
ErrorHandlingWorkflow	{"should_fail": false}
ExceptionMetadataWorkflow	{"should_fail": true}
ExceptionMetadataWorkflow	{"should_fail": false}
ZeroDivisionWorkflow	{"denominator": 0}
ZeroDivisionWorkflow	{"denominator": 3}
ZeroDivisionWorkflow	{"denominator": -4}
RetryCounterWorkflow	{"succeed_on_attempt": 2, "max_attempts": 3}
RetryCounterWorkflow	{"succeed_on_attempt": 5, "max_attempts": 2, "counter_slot": 7}
TimeoutProbeWorkflow	{"max_attempts": 1}
TimeoutProbeWorkflow	{"max_attempts": 2, "counter_slot": 3}
DurableSleepWorkflow	{"seconds": 2}
EarlyReturnLoopWorkflow	{"input_text": "a, b,,c"}
EarlyReturnLoopWorkflow	{"input_text": "no_session:a,b"}
GuardFallbackWorkflow	{"user": "ada"}
GuardFallbackWorkflow	{"user": "Empty"}
KwOnlyLocationWorkflow	{}
KwOnlyLocationWorkflow	{"latitude": 52.52, "longitude": 13.405}
KwOnlyLocationWorkflow	{"latitude": "1.5"}
UndefinedVariableWorkflow	{"input_text": "x"}
LoopExceptionWorkflow	{"items": ["good1", "bad", "good2", "BAD2"]}
LoopExceptionWorkflow	{"items": ["good"]}
SpreadEmptyCollectionWorkflow	{"items": []}
SpreadEmptyCollectionWorkflow	{"items": ["a", "b", "c"]}
NoOpWorkflow	{"indices": [1, 2, 3, 4, 5]}
NoOpWorkflow	{"indices": []}
ManyActionsWorkflow	{}
ManyActionsWorkflow	{"action_count": 5, "parallel": false}
LoopingSleepWorkflow	{"iterations": 2, "sleep_seconds": 1}
EOF
)

mask() {  # ISO timestamps from get_timestamp()
    sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+/<time>/g'
}
run=0
equal=0
declare -A seen=()
while IFS=$'\t' read -r workflow input; do
    run=$((run + 1))
    seen[$workflow]=1
    compiled_out=$("$runner" "$bundle" --workflow "$workflow" --input "$input" --canonical --sleep-scale 0 \
        --workers 1 --quiet 2>"$work/run.err" | mask)
    inline_out=$(cd "$source_root" && PYTHONPATH="$root/python:$source_root" WAYMARK_SLEEP_SCALE=0 \
        python3 -m waymark.inline "$module" --workflow "$workflow" --input "$input" 2>"$work/inline.err" | mask)
    if [ -n "$inline_out" ] && [ "$compiled_out" = "$inline_out" ]; then
        equal=$((equal + 1))
    else
        echo "DIFFERS $workflow $input"
        echo "  python:   $inline_out $(head -c 300 "$work/inline.err")"
        echo "  compiled: $compiled_out $(grep -v 'in-memory store' "$work/run.err" | head -c 300)"
    fi
done <<<"$cases"
echo "example app: $compiled workflows compiled, $run cases run (${#seen[@]} workflows), $equal equal"
[ "$equal" -eq "$run" ]
