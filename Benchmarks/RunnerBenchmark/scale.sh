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
# CPU per action, split by process as runner-benchmark's is, from /proc over each serve's life:
# runner (the serve processes, every thread), workers (their children, live and reaped) and,
# given WAYMARK_BENCH_DATABASE_DIR (the directory test-postgres.sh printed), postgres (the
# postmaster's process tree, from before the servers start to after they stop). Over a serve's
# life means its workers' start-up too (about 0.2 CPU-seconds each): a row of several short runs
# pays it each time.
# Each row starts from empty tables. A backlog row doing fewer than MIN_ACTIONS actions is run
# again, from empty tables each time, until the runs together reach it (`runs`), and reports
# their sums, so that every backlog row measures about as many actions as the 100,000 one: one
# run of 1,000 instances of 3 actions lasts 0.2 s, and one of 10,000 (30,000 actions) 1.6-1.9 s,
# in which the workers' warm-up and the first claims move the figure by a tenth.
# Prints a table; asserts nothing.
#
#     read -r url dir < <(WAYMARK_PG_DURABLE=1 bash scripts/test-postgres.sh start)
#     swift build -c release --product waymark-run && swift build -c release --product waymarkc
#     WAYMARK_BENCH_DATABASE_URL=$url WAYMARK_BENCH_DATABASE_DIR=$dir bash Benchmarks/RunnerBenchmark/scale.sh
#     bash scripts/test-postgres.sh stop "$dir"
#
# Environment (an empty BACKLOGS, SLEEPING, DEAD or SERVERS skips those rows): BACKLOGS (default
# "1000 10000 100000"), SLEEPING (100000), SLEEPING_N (10000), DEAD (1000000), DEAD_N (10000),
# SERVERS ("1 2 4"), SERVERS_N (10000), STEPS (3), MIN_ACTIONS (100000), BIN (.build/release),
# WAYMARKC ($BIN/waymarkc).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
url="${WAYMARK_BENCH_DATABASE_URL:?set WAYMARK_BENCH_DATABASE_URL (scripts/test-postgres.sh start)}"
database_dir="${WAYMARK_BENCH_DATABASE_DIR:-}"
clock_ticks=$(getconf CLK_TCK)
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
min_actions="${MIN_ACTIONS:-100000}"
expected=$(( steps * (steps - 1) / 2 ))
work="$(mktemp -d /tmp/waymark-scale.XXXXXX)"
export PYTHONPATH="$repo/python${PYTHONPATH:+:$PYTHONPATH}"
pids=()

cleanup() {
    [ -n "${PROBE_PID:-}" ] && kill "$PROBE_PID" 2>/dev/null || true
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
# A psql that died (a lost connection) must end the script through its EXIT trap, which stops the
# servers, not by a SIGPIPE that skips it.
trap '' PIPE
probe() {
    [ -n "${PROBE[1]:-}" ] || { echo "scale.sh: the polling psql exited" >&2; exit 1; }
    echo "$1;" >&"${PROBE[1]}" || { echo "scale.sh: the polling psql exited" >&2; exit 1; }
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

# CPU clock ticks of a live process: "self children", self its own (every thread), children its
# live children's and what its reaped children used.
ticks() {
    local self reaped children=0 child
    read -r self reaped < <(awk '{print $14 + $15, $16 + $17}' "/proc/$1/stat")
    for child in $(pgrep -P "$1" || true); do
        children=$(( children + $(awk '{print $14 + $15}' "/proc/$child/stat" 2>/dev/null || echo 0) ))
    done
    echo "$self $(( reaped + children ))"
}

# CPU clock ticks of the PostgreSQL server's process tree, or 0 without WAYMARK_BENCH_DATABASE_DIR.
postgres_ticks() {
    [ -n "$database_dir" ] || { echo 0; return; }
    local self children
    read -r self children < <(ticks "$(head -1 "$database_dir/data/postmaster.pid")")
    echo $(( self + children ))
}

# Waits (up to 10 s) until the stopped servers' sessions have ended and the postmaster has reaped
# them: a backend that has exited but is not yet reaped shows no CPU anywhere in /proc, and one
# still closing would leave its last work out.
postgres_settle() {
    [ -n "$database_dir" ] || return 0
    local postmaster i
    postmaster=$(head -1 "$database_dir/data/postmaster.pid")
    for ((i = 0; i < 100; i++)); do
        probe "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
        if [ "$reply" = 0 ] && ! ps -o stat= --ppid "$postmaster" | grep -q Z; then return 0; fi
        sleep 0.1
    done
}

# Starts K serve processes, waits until no instance is left queued or running, then prints
# "wall_seconds peak_rss_mb_max finished_total runner_ticks worker_ticks postgres_ticks" and
# stops them.
serve() {
    local k=$1 start end i rss peak=0 finished=0 left n runner=0 workers=0 self children postgres
    postgres=$(postgres_ticks)
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
                       WHERE status = 'queued' OR (status = 'running' AND lease_owner IS NULL AND lease_expires_at IS NOT NULL)
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
        read -r self children < <(ticks "${pids[$i]}")
        runner=$(( runner + self )) workers=$(( workers + children ))
    done
    for pid in "${pids[@]}"; do kill -TERM "$pid"; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    pids=()
    postgres_settle
    postgres=$(( $(postgres_ticks) - postgres ))
    echo "$(echo "$end - $start" | bc) $(( peak / 1024 )) $finished $runner $workers $postgres"
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

printf '%-14s %8s %8s %5s %10s %9s %9s %12s %8s %8s | %s\n' \
    row servers backlog runs actions "span s" "wall s" "actions/s" "peak MB" wrong "µs/action: runner workers postgres"
# µs of CPU per action from clock TICKS over ROWS actions.
per_action() {
    printf '%8.1f' "$(echo "$1 * 1000000 / $clock_ticks / $2" | bc -l)"
}
# Prints one row: NAME SERVERS BACKLOG RUNS ROWS SPAN WALL PEAK WRONG RUNNER WORKERS POSTGRES (ticks;
# postgres shown as "-" without WAYMARK_BENCH_DATABASE_DIR).
print_row() {
    local postgres=-
    [ -n "$database_dir" ] && postgres=$(per_action "${12}" "$5")
    printf '%-14s %8d %8d %5d %10d %9.2f %9.2f %12.0f %8d %8d | %8s %8s %8s\n' \
        "$1" "$2" "$3" "$4" "$5" "$6" "$7" "$(echo "$5 / $6" | bc -l)" "$8" "$9" \
        "$(per_action "${10}" "$5")" "$(per_action "${11}" "$5")" \
        "$postgres"
}
# K serve processes over what is queued, EXPECTED instances to finish: prints "rows span wall
# peak wrong runner workers postgres" (wrong: measure()'s, plus 1 if the finished counters do
# not sum to EXPECTED; the last three in clock ticks).
serve_once() {
    serve "$1" >"$work/serve.out"
    read -r wall peak finished runner workers postgres <"$work/serve.out"
    read -r rows span wrong < <(measure)
    echo "$rows $span $wall $peak $(( wrong + (finished != $2) )) $runner $workers $postgres"
    [ "$finished" = "$2" ] || echo "$1 server(s): finished counters sum to $finished, not $2" >&2
}
# One serve over what is queued; prints the row (ROW, BACKLOG, the instances to finish).
row() {
    serve_once 1 "$3" >"$work/once.out"
    read -r rows span wall peak wrong runner workers postgres <"$work/once.out"
    print_row "$1" 1 "$2" 1 "$rows" "$span" "$wall" "$peak" "$wrong" "$runner" "$workers" "$postgres"
}

for n in $backlogs; do
    runs=$(( (min_actions + n * steps - 1) / (n * steps) ))
    (( runs < 1 )) && runs=1
    all_rows=0 all_span=0 all_wall=0 all_peak=0 all_wrong=0 all_runner=0 all_workers=0 all_postgres=0
    for ((r = 0; r < runs; r++)); do
        queue "$n"
        serve_once 1 "$n" >"$work/once.out"
        read -r rows span wall peak wrong runner workers postgres <"$work/once.out"
        all_runner=$(( all_runner + runner )) all_workers=$(( all_workers + workers )) all_postgres=$(( all_postgres + postgres ))
        all_rows=$(( all_rows + rows ))
        all_span=$(echo "$all_span + $span" | bc -l)
        all_wall=$(echo "$all_wall + $wall" | bc -l)
        (( peak > all_peak )) && all_peak=$peak
        all_wrong=$(( all_wrong + wrong ))
    done
    print_row scale 1 "$n" "$runs" "$all_rows" "$all_span" "$all_wall" "$all_peak" "$all_wrong" \
        "$all_runner" "$all_workers" "$all_postgres"
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
    read -r rows span wall peak wrong runner workers postgres <"$work/once.out"
    print_row servers "$k" "$servers_n" 1 "$rows" "$span" "$wall" "$peak" "$wrong" "$runner" "$workers" "$postgres"
done
