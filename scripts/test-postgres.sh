#!/usr/bin/env bash
# A throwaway PostgreSQL for tests: `start` prints the connection URL and its directory,
# `restart DIR` restarts the server (for reconnection tests), `stop DIR` removes it.
# Runs the server as the postgres user when invoked as root (PostgreSQL refuses root), on a free
# loopback port, with its data and socket in a temporary directory. It trades durability for speed
# (fsync=off, synchronous_commit=off) unless WAYMARK_PG_DURABLE=1: benchmarks quote both.
set -euo pipefail

bindir=""
for candidate in "$(pg_config --bindir 2>/dev/null || true)" /usr/lib/postgresql/*/bin; do
    if [ -n "$candidate" ] && [ -x "$candidate/initdb" ]; then bindir="$candidate"; break; fi
done
[ -n "$bindir" ] || { echo "no PostgreSQL server binaries (initdb) found; install postgresql" >&2; exit 1; }

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
start)
    dir=$(mktemp -d /tmp/waymark-pg.XXXXXX)
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_owner "$bindir/initdb" -D "$dir/data" -U waymark --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1
    durability="-c fsync=off -c synchronous_commit=off"
    # Durable, and with room for the WAL a busy server writes between timed checkpoints: on the
    # default max_wal_size (1GB) a 100,000-instance backlog forced a checkpoint every ~50 s, and
    # the full-page writes after each slowed it 6-22% against a 10,000 one (Benchmarks/README.md).
    [ "${WAYMARK_PG_DURABLE:-0}" = 1 ] && durability="-c fsync=on -c synchronous_commit=on -c max_wal_size=4GB"
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o \
        "-p $port -k $dir -c listen_addresses=127.0.0.1 $durability -c max_connections=100" \
        start >/dev/null
    echo "postgresql://waymark@127.0.0.1:$port/postgres $dir"
    ;;
restart)
    dir="${2:?usage: test-postgres.sh restart DIR}"
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m fast -w restart >/dev/null
    ;;
stop)
    dir="${2:?usage: test-postgres.sh stop DIR}"
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
*)
    echo "usage: test-postgres.sh start | restart DIR | stop DIR" >&2
    exit 2
    ;;
esac
