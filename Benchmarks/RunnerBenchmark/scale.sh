#!/usr/bin/env bash
# Scale and several-servers rows for the runner benchmark, through real `waymark-run serve`
# processes (release build) on one PostgreSQL:
#   scale:   BACKLOGS pre-queued instances of SequentialWorkflow(STEPS), one serve with
#            --max-instances 500: actions/s and the serve process's peak RSS (VmHWM).
#   sleeping: SLEEPING instances asleep until tomorrow, created before SLEEPING_N queued ones,
#            served as the scale rows are: the claim must not read the sleepers.
#   dead:    DEAD instances queued, then all completed by one UPDATE without a VACUUM (DEAD dead
#            row versions in the table and the claim index, as after that many completions, for
#            autovacuum to clean), then DEAD_N queued ones served as the scale rows are.
#   servers: SERVERS_N queued instances served by 1, 2 and 4 serve processes at once: total
#            actions/s; every instance completed with the expected result, exactly STEPS journal
#            rows each, and the servers' finished counters (/metrics) sum to the instance count.
# actions/s = journal rows / (last completion - first journal row), both from the database's
# clock, so worker start-up is left out; the wall time from starting the servers is printed too.
# Each row starts from empty tables. A backlog row doing fewer than MIN_ACTIONS actions is run
# again, from empty tables each time, until the runs together reach it (`runs`), and reports
# their sums: 1,000 instances of 3 actions last 0.2 s, too short to hold to 15% on their own.
# Prints a table; asserts nothing.
#
#     read -r url dir < <(WAYMARK_PG_DURABLE=1 bash scripts/test-postgres.sh start)
#     swift build -c release --product waymark-run && swift build -c release --product waymarkc
#     WAYMARK_BENCH_DATABASE_URL=$url bash Benchmarks/RunnerBenchmark/scale.sh
#     bash scripts/test-postgres.sh stop "$dir"
#
# Environment (an empty BACKLOGS, SLEEPING, DEAD or SERVERS skips those rows): BACKLOGS (default
# "1000 10000 100000"), SLEEPING (100000), SLEEPING_N (10000), DEAD (1000000), DEAD_N (10000),
# SERVERS ("1 2 4"), SERVERS_N (10000), STEPS (3), MIN_ACTIONS (30000), BIN (.build/release),
# WAYMARKC ($BIN/waymarkc).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
url="${WAYMARK_BENCH_DATABASE_URL:?set WAYMARK_BENCH_DATABASE_URL (scripts/test-postgres.sh start)}"
bin="${BIN:-$repo/.build/release}"
waymarkc="${WAYMARKC:-$bin/waymarkc}"
steps="${STEPS:-3}"
backlogs="${BACKLOGS-1000 10000 100000}"
server_counts="${SERVERS-1 2 4}"
servers_n="${SERVERS_N:-10000}"
sleeping="${SLEEPING-100000}"
sleeping_n="${SLEEPING_N:-10000}"
dead="${DEAD-1000000}"
dead_n="${DEAD_N:-10000}"
min_actions="${MIN_ACTIONS:-30000}"
expected=$(( steps * (steps - 1) / 2 ))
work="$(mktemp -d /tmp/waymark-scale.XXXXXX)"
export PYTHONPATH="$repo/python${PYTHONPATH:+:$PYTHONPATH}"
pids=()

cleanup() {
    [ -n "${PROBE_PID:-}" ] && kill "$PROBE_PID" 2>/dev/null
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

sql() { psql "$url" -X -q -t -A -v ON_ERROR_STOP=1 -c "$1"; }

# One psql session for serve()'s polling: a psql started per probe, five times a second, took 7%
# of the machine's CPU during a run (perf -a), from the processes being measured. probe SQL sets
# $reply to the one-line answer.
coproc PROBE { psql "$url" -X -q -t -A -v ON_ERROR_STOP=1; }
probe() {
    echo "$1;" >&"${PROBE[1]}"
    read -r -t 60 reply <&"${PROBE[0]}" || { echo "scale.sh: the polling psql did not answer" >&2; exit 1; }
}

# The bundle, and its version row (submit migrates the schema and creates it).
cp "$here/workflows.py" "$work/"
"$waymarkc" compile "$work/workflows.py" -o "$work/bench.wmb"
"$bin/waymark-run" submit "$work/bench.wmb" --workflow SequentialWorkflow --input "{\"steps\": $steps}" \
    --database-url "$url" >/dev/null
version=$(sql "SELECT version FROM waymark_instances WHERE workflow = 'SequentialWorkflow' LIMIT 1")

# Empty tables, then COUNT queued instances in one statement.
queue() {
    sql "TRUNCATE waymark_journal, waymark_instances, waymark_runners CASCADE" >/dev/null
    add "$1"
    sql "VACUUM ANALYZE waymark_instances" >/dev/null
}

# COUNT more queued instances (ids scale-NNNNNNNNNN, the ones measure() checks), created now. The
# ids sort in creation order, as the runtime's own ids (version 7 UUIDs, time first) do: plain
# scale-N scattered each instance's journal rows over the journal's primary-key index.
add() {
    sql "INSERT INTO waymark_instances (id, workflow, version, status, input)
         SELECT 'scale-' || lpad(g::text, 10, '0'), 'SequentialWorkflow', '$version', 'queued', '{\"steps\": $steps}'
         FROM generate_series(1, $1) g" >/dev/null
}

# Empty tables, then COUNT instances (ids other-N) of STATUS and WAKE_AT created an hour ago.
others() {
    sql "TRUNCATE waymark_journal, waymark_instances, waymark_runners CASCADE" >/dev/null
    sql "INSERT INTO waymark_instances (id, workflow, version, status, input, wake_at, created_at, updated_at)
         SELECT 'other-' || lpad(g::text, 10, '0'), 'SequentialWorkflow', '$version', '$2', '{\"steps\": $steps}', $3,
                now() - interval '1 hour', now() - interval '1 hour'
         FROM generate_series(1, $1) g" >/dev/null
}

# Starts K serve processes, waits until no instance is left queued or running, then prints
# "wall_seconds peak_rss_mb_max finished_total" and stops them.
serve() {
    local k=$1 start end i rss peak=0 finished=0 left n
    pids=()
    start=$(date +%s.%N)
    for ((i = 0; i < k; i++)); do
        "$bin/waymark-run" serve "$work/bench.wmb" --database-url "$url" --max-instances 500 \
            --concurrency-per-worker 50 --quiet --dashboard "127.0.0.1:$((24200 + i))" \
            >"$work/serve$i.log" 2>&1 &
        pids+=($!)
    done
    while :; do
        # Through the claim's partial index (queued) and (status, lease_expires_at) (running),
        # one row each: a count over the whole backlog would cost the machine more as the
        # backlog grows and skew the comparison.
        probe "SELECT (SELECT created_at FROM waymark_instances
                       WHERE status = 'queued' OR (status = 'running' AND lease_owner IS NULL)
                       ORDER BY created_at LIMIT 1) IS NOT NULL
                   OR (SELECT 1 FROM waymark_instances WHERE status = 'running'
                       ORDER BY status, lease_expires_at LIMIT 1) IS NOT NULL"
        [ "$reply" = f ] && break
        for pid in "${pids[@]}"; do
            kill -0 "$pid" 2>/dev/null || { echo "serve $pid exited: $(tail -5 "$work"/serve*.log)" >&2; exit 1; }
        done
        sleep 0.2
    done
    end=$(date +%s.%N)
    for ((i = 0; i < k; i++)); do
        rss=$(awk '/VmHWM/ {print $2}' "/proc/${pids[$i]}/status")
        (( rss > peak )) && peak=$rss
        n=$(curl -s "http://127.0.0.1:$((24200 + i))/metrics" |
            awk '/^waymark_instances_finished_total/ {s += $NF} END {print s + 0}')
        finished=$(( finished + n ))
    done
    for pid in "${pids[@]}"; do kill -TERM "$pid"; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    pids=()
    echo "$(echo "$end - $start" | bc) $(( peak / 1024 )) $finished"
}

# Database-side figures: "journal_rows span_seconds wrong_instances"
# (wrong: not completed with the expected result, or not exactly STEPS journal rows).
measure() {
    sql "SELECT (SELECT count(*) FROM waymark_journal),
                round(extract(epoch FROM (SELECT max(updated_at) FROM waymark_instances)
                                       - (SELECT min(created_at) FROM waymark_journal))::numeric, 3),
                (SELECT count(*) FROM waymark_instances i
                 WHERE i.id LIKE 'scale-%' AND (i.status <> 'completed' OR i.result IS DISTINCT FROM '$expected'
                    OR (SELECT count(*) FROM waymark_journal j WHERE j.instance_id = i.id) <> $steps))" |
        tr '|' ' '
}

printf '%-14s %8s %8s %5s %10s %9s %9s %12s %8s %8s\n' \
    row servers backlog runs actions "span s" "wall s" "actions/s" "peak MB" wrong
# Prints one row: NAME SERVERS BACKLOG RUNS ROWS SPAN WALL PEAK WRONG.
print_row() {
    printf '%-14s %8d %8d %5d %10d %9.2f %9.2f %12.0f %8d %8d\n' \
        "$1" "$2" "$3" "$4" "$5" "$6" "$7" "$(echo "$5 / $6" | bc -l)" "$8" "$9"
}
# K serve processes over what is queued, EXPECTED instances to finish: prints "rows span wall
# peak wrong" (wrong: measure()'s, plus 1 if the finished counters do not sum to EXPECTED).
serve_once() {
    serve "$1" >"$work/serve.out"
    read -r wall peak finished <"$work/serve.out"
    read -r rows span wrong < <(measure)
    echo "$rows $span $wall $peak $(( wrong + (finished != $2) ))"
    [ "$finished" = "$2" ] || echo "$1 server(s): finished counters sum to $finished, not $2" >&2
}
# One serve over what is queued; prints the row (ROW, BACKLOG, the instances to finish).
row() {
    serve_once 1 "$3" >"$work/once.out"
    read -r rows span wall peak wrong <"$work/once.out"
    print_row "$1" 1 "$2" 1 "$rows" "$span" "$wall" "$peak" "$wrong"
}

for n in $backlogs; do
    runs=$(( (min_actions + n * steps - 1) / (n * steps) ))
    (( runs < 1 )) && runs=1
    all_rows=0 all_span=0 all_wall=0 all_peak=0 all_wrong=0
    for ((r = 0; r < runs; r++)); do
        queue "$n"
        serve_once 1 "$n" >"$work/once.out"
        read -r rows span wall peak wrong <"$work/once.out"
        all_rows=$(( all_rows + rows ))
        all_span=$(echo "$all_span + $span" | bc -l)
        all_wall=$(echo "$all_wall + $wall" | bc -l)
        (( peak > all_peak )) && all_peak=$peak
        all_wrong=$(( all_wrong + wrong ))
    done
    print_row scale 1 "$n" "$runs" "$all_rows" "$all_span" "$all_wall" "$all_peak" "$all_wrong"
done
for n in $sleeping; do
    others "$n" sleeping "now() + interval '1 day'"
    add "$sleeping_n"
    sql "VACUUM ANALYZE waymark_instances" >/dev/null
    row "asleep $n" "$sleeping_n" "$sleeping_n"
done
for n in $dead; do
    others "$n" queued NULL
    sql "VACUUM ANALYZE waymark_instances" >/dev/null
    sql "UPDATE waymark_instances SET status = 'completed', result = '0', updated_at = now() - interval '1 hour'" >/dev/null
    add "$dead_n"
    row "dead $n" "$dead_n" "$dead_n"
done
for k in $server_counts; do
    queue "$servers_n"
    serve_once "$k" "$servers_n" >"$work/once.out"
    read -r rows span wall peak wrong <"$work/once.out"
    print_row servers "$k" "$servers_n" 1 "$rows" "$span" "$wall" "$peak" "$wrong"
done
