#!/usr/bin/env bash
# The serve trial of the README, scaled: N queued instances of a three-step workflow (no-op
# actions, inserted in one statement), one `serve` started on them, timed until `status` shows
# them all completed, then stopped with SIGTERM. Usage: serve-trial.sh BUILD_DIR [N]
# (BUILD_DIR holds waymarkc and waymark-run, e.g. .build/release). Prints one line of figures.
set -euo pipefail
build="${1:?usage: serve-trial.sh BUILD_DIR [N]}"
count="${2:-2000}"
root="$(cd "$(dirname "$0")/.." && pwd)"
work=$(mktemp -d /tmp/waymark-trial.XXXXXX)
read -r url dir < <(bash "$root/scripts/test-postgres.sh" start)
cleanup() {
    [ -n "${server:-}" ] && kill "$server" 2>/dev/null || true
    bash "$root/scripts/test-postgres.sh" stop "$dir"
    rm -rf "$work"
}
trap cleanup EXIT
cat >"$work/trial.py" <<'PY'
from waymark import Workflow, action, workflow


@action
async def step(name: str, index: int) -> str:
    return f"{name}-{index}"


@workflow
class TrialWorkflow(Workflow):
    async def run(self, name: str) -> list[str]:
        return [await step(name, 0), await step(name, 1), await step(name, 2)]
PY
"$build/waymarkc" compile "$work/trial.py" -o "$work/trial.wmb"
export WAYMARK_DATABASE_URL="$url" WAYMARK_PYTHON_PACKAGE="$root/python"
"$build/waymark-run" status >/dev/null   # applies the migrations
full=$("$build/waymarkc" inspect "$work/trial.wmb" | sed -n 's/^ *version: \([0-9a-f]*\)$/\1/p' | head -1)
[ -n "$full" ] || { echo "no version in waymarkc inspect's output" >&2; exit 1; }
psql -q "$url" -c "INSERT INTO waymark_workflow_versions (version, name) VALUES ('$full', 'TrialWorkflow')" \
    -c "INSERT INTO waymark_instances (id, workflow, version, status, input)
        SELECT 'trial-' || n, 'TrialWorkflow', '$full', 'queued', '{\"name\": \"n' || n || '\"}' FROM generate_series(1, $count) n"
start=$(date +%s.%N)
"$build/waymark-run" serve "$work/trial.wmb" --workers 2 --quiet 2>"$work/serve.log" &
server=$!
peak=0
while true; do
    done_count=$(psql -tA "$url" -c "SELECT count(*) FROM waymark_instances WHERE status = 'completed'")
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$server/status" 2>/dev/null || echo 0)
    [ "$rss" -gt "$peak" ] && peak=$rss
    [ "$done_count" -ge "$count" ] && break
    kill -0 "$server" 2>/dev/null || { echo "serve died:" >&2; cat "$work/serve.log" >&2; exit 1; }
    sleep 0.2
done
end=$(date +%s.%N)
kill -TERM "$server"
wait "$server" || true
server=""
python3 -c 'import sys; n, s, e, m = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]); print(f"{n} instances ({3*n} actions) in {e-s:.2f} s: {n/(e-s):.0f} instances/s, {3*n/(e-s):.0f} actions/s, peak RSS {m/1024:.0f} MB")' "$count" "$start" "$end" "$peak"
tail -1 "$work/serve.log"
