#!/usr/bin/env bash
# The client benchmark end to end: a throwaway PostgreSQL (WAYMARK_PG_DURABLE=1 for fsync on),
# the release toolchain, `waymark-start-workers` serving Ping, DBOS in a virtualenv of its own
# (requirements-dbos.txt), then client_benchmark.py.
# Arguments go to client_benchmark.py (--instances N --concurrency C).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/Benchmarks/ClientBenchmark"
(cd "$root" && swift build -c release --product waymarkc >/dev/null && swift build -c release --product waymark-run >/dev/null)
bash "$root/scripts/test-python.sh" --collect-only -q >/dev/null   # makes the virtualenv
python="$root/.build/python-venv/bin/python"
# DBOS's rows: its own virtualenv, so its dependencies never meet ours. A failed install is not
# fatal: the table then says why the rows are missing.
dbos_venv="$root/.build/client-benchmark-dbos-venv"
dbos_stamp="$dbos_venv/.requirements.sha256"
dbos_wanted=$(sha256sum "$here/requirements-dbos.txt" | cut -d' ' -f1)
if [ ! -x "$dbos_venv/bin/python" ] || [ "$(cat "$dbos_stamp" 2>/dev/null)" != "$dbos_wanted" ]; then
    rm -rf "$dbos_venv"
    if python3 -m venv "$dbos_venv" && "$dbos_venv/bin/pip" install --quiet -r "$here/requirements-dbos.txt" >"$root/.build/client-benchmark-dbos-install.log" 2>&1; then
        echo "$dbos_wanted" >"$dbos_stamp"
    else
        export WAYMARK_BENCH_DBOS_SKIPPED="pip install -r requirements-dbos.txt failed: $(tail -n 1 "$root/.build/client-benchmark-dbos-install.log" 2>/dev/null)"
    fi
fi
if [ -z "${WAYMARK_BENCH_DBOS_SKIPPED:-}" ]; then export WAYMARK_BENCH_DBOS_PYTHON="$dbos_venv/bin/python"; fi
read -r url dir < <(bash "$root/scripts/test-postgres.sh" start)
cache=$(mktemp -d)
cleanup() {
    [ -n "${serve:-}" ] && kill -TERM "$serve" 2>/dev/null && wait "$serve" 2>/dev/null
    bash "$root/scripts/test-postgres.sh" stop "$dir"
    rm -rf "$cache"
}
trap cleanup EXIT
export WAYMARK_DATABASE_URL="$url" WAYMARK_CACHE_DIR="$cache" WAYMARK_USER_MODULE=ping PYTHONPATH="$here"
export WAYMARK_WAYMARKC="$root/.build/release/waymarkc" WAYMARK_RUN="$root/.build/release/waymark-run"
(cd "$here" && exec "$python" -m waymark.start_workers --quiet) 2>"$cache/serve.log" &
serve=$!
until grep -q "serving 1 workflow" "$cache/serve.log" 2>/dev/null; do
    kill -0 "$serve" 2>/dev/null || { cat "$cache/serve.log" >&2; exit 1; }
    sleep 0.2
done
cd "$here" && "$python" client_benchmark.py "$@"
