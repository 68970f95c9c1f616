#!/usr/bin/env bash
# The client benchmark end to end: a throwaway PostgreSQL (WAYMARK_PG_DURABLE=1 for fsync on),
# the release toolchain, `waymark-start-workers` serving Ping, then client_benchmark.py.
# Arguments go to client_benchmark.py (--instances N --concurrency C).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/Benchmarks/ClientBenchmark"
(cd "$root" && swift build -c release --product waymarkc >/dev/null && swift build -c release --product waymark-run >/dev/null)
bash "$root/scripts/test-python.sh" --collect-only -q >/dev/null   # makes the virtualenv
python="$root/.build/python-venv/bin/python"
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
