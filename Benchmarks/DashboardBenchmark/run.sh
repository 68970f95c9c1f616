#!/usr/bin/env bash
# The dashboard's instance list over a million instance rows: first page, a page deep in the
# list (by cursor), filtered pages and the throughput page, through HTTP, beside the same keyset query run
# directly in psql (the baseline). Starts its own PostgreSQL; release build.
#   bash Benchmarks/DashboardBenchmark/run.sh [rows]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
rows=${1:-1000000}
(cd "$root" && swift build -c release --product waymark-run >/dev/null)
read -r url dir < <(bash "$root/scripts/test-postgres.sh" start)
cleanup() {
    [ -n "${dashboard:-}" ] && kill "$dashboard" 2>/dev/null
    bash "$root/scripts/test-postgres.sh" stop "$dir"
}
trap cleanup EXIT
export WAYMARK_DATABASE_URL="$url"
"$root/.build/release/waymark-run" status >/dev/null   # applies the migrations
echo "seeding $rows instances..." >&2
psql -q "$url" <<SQL
INSERT INTO waymark_workflow_versions (version, name) VALUES ('v1', 'Checkout'), ('v2', 'Report');
INSERT INTO waymark_instances (id, workflow, version, status, input, created_at, updated_at)
SELECT md5(n::text), CASE WHEN n % 4 = 0 THEN 'Report' ELSE 'Checkout' END, CASE WHEN n % 4 = 0 THEN 'v2' ELSE 'v1' END,
    (ARRAY['completed', 'completed', 'completed', 'failed', 'running', 'queued'])[1 + n % 6], '{}',
    now() - make_interval(secs => n), now() - make_interval(secs => n)
FROM generate_series(1, $rows) n;
ANALYZE waymark_instances;
SQL
log=$(mktemp)
"$root/.build/release/waymark-run" dashboard --addr 127.0.0.1:0 2>"$log" &
dashboard=$!
until grep -q "dashboard on" "$log"; do sleep 0.1; done
base=$(grep -o "http://[0-9.:]*" "$log")
python3 - "$base" "$url" "$rows" <<'PY'
import json, statistics, subprocess, sys, time, urllib.request

base, url, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])

def timed(path, runs=20):
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        with urllib.request.urlopen(base + path) as response:
            body = response.read()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), max(samples), body

def psql(sql, runs=20):
    samples = []
    for _ in range(runs):
        out = subprocess.run(["psql", "-qAt", url, "-c", "\\timing on", "-c", sql], capture_output=True, text=True).stdout
        samples.append(float([line for line in out.splitlines() if line.startswith("Time:")][0].split()[1]))
    return statistics.median(samples), max(samples)

# A cursor about 90% of the way down the list.
_, _, first = timed("/api/instances?limit=50", runs=1)
deep = subprocess.run(["psql", "-qAt", url, "-c",
    f"SELECT extract(epoch FROM created_at) || '_' || id FROM waymark_instances ORDER BY created_at DESC, id DESC OFFSET {int(rows * 0.9)} LIMIT 1"],
    capture_output=True, text=True).stdout.strip()
cases = [
    ("first page (HTML)", "/instances", None),
    ("first page (JSON)", "/api/instances", "SELECT id FROM waymark_instances ORDER BY created_at DESC, id DESC LIMIT 50"),
    ("page at 90% (JSON, cursor)", f"/api/instances?after={deep}", None),
    ("status=failed (JSON)", "/api/instances?status=failed", "SELECT id FROM waymark_instances WHERE status = 'failed' ORDER BY created_at DESC, id DESC LIMIT 50"),
    ("workflow=Report (JSON)", "/api/instances?workflow=Report", None),
    ("id prefix (JSON)", "/api/instances?id=abc", None),
    ("throughput, 10 min (JSON)", "/api/throughput?minutes=10", None),
    ("throughput, 60 min (HTML)", "/throughput?minutes=60", None),
]
print(f"\n{rows:,} instance rows, 50 per page, median and worst of 20 requests\n")
print(f"| {'request':<28} | {'median ms':>9} | {'worst ms':>8} | {'SQL alone (psql) ms':>19} |")
print(f"|{'-'*30}|{'-'*11}|{'-'*10}|{'-'*21}|")
for name, path, sql in cases:
    median, worst, _ = timed(path)
    baseline = f"{psql(sql)[0]:.2f}" if sql else ""
    print(f"| {name:<28} | {median:>9.1f} | {worst:>8.1f} | {baseline:>19} |")
PY
