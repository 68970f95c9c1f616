"""Enqueue -> result through the Python client, beside a raw psycopg baseline, in one run.

    bash Benchmarks/ClientBenchmark/run.sh          (starts PostgreSQL and the workers itself)

Rows: `waymark client`: `await Ping().run(i)` from one asyncio process with C callers in flight,
a one-action workflow run by `waymark-start-workers` in another process. `raw INSERT+NOTIFY`:
the floor of any Postgres queue, one INSERT that notifies, awaited through LISTEN on its own
connection (psycopg, no worker, no action). `DBOS ...`: the same workflow (one step returning its
input) through DBOS's Python library (dbos_benchmark.py, its own virtualenv and process, a
database of its own on the same server); DBOS executes workflows inside the app process itself.
Latency is per call, enqueue to result; every result is checked.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import json
import statistics
import subprocess
import uuid
from urllib.parse import urlsplit, urlunsplit

import psycopg

from ping import Ping
from timing import measure, percentile


async def client_call(i: int) -> None:
    assert await Ping().run(i) == i


class RawQueue:
    """INSERT ... + pg_notify in one statement; a LISTEN connection wakes the caller."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.waiters: dict[str, asyncio.Future] = {}

    async def start(self) -> None:
        self.writer = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
        await self.writer.execute("CREATE TABLE IF NOT EXISTS bench_raw (id text PRIMARY KEY, payload text)")
        self.lock = asyncio.Lock()
        self.listener = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
        await self.listener.execute("LISTEN bench_raw")
        self.task = asyncio.create_task(self.listen())

    async def listen(self) -> None:
        async for notice in self.listener.notifies():
            future = self.waiters.pop(notice.payload, None)
            if future is not None and not future.done():
                future.set_result(None)

    async def call(self, i: int) -> None:
        key = str(uuid.uuid4())
        future = asyncio.get_running_loop().create_future()
        self.waiters[key] = future
        async with self.lock:
            await self.writer.execute(
                "WITH created AS (INSERT INTO bench_raw VALUES (%s, %s) RETURNING id) SELECT pg_notify('bench_raw', id) FROM created",
                (key, str(i)),
            )
        await future


def dbos_rows(url: str, instances: int, concurrency: int) -> tuple[list[tuple], str | None]:
    """DBOS's rows from dbos_benchmark.py in DBOS's own virtualenv, or why there are none."""
    skipped = os.environ.get("WAYMARK_BENCH_DBOS_SKIPPED")
    python = os.environ.get("WAYMARK_BENCH_DBOS_PYTHON")
    if skipped or not python:
        return [], skipped or "WAYMARK_BENCH_DBOS_PYTHON is not set (run.sh sets it)"
    # A database of its own on the same server: DBOS creates it and its system tables at launch.
    database = urlunsplit(urlsplit(url)._replace(path="/dbos_bench"))
    command = [python, "dbos_benchmark.py", database, "--instances", str(instances), "--concurrency", str(concurrency)]
    try:
        finished = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    except subprocess.TimeoutExpired:
        return [], "dbos_benchmark.py did not finish within 30 minutes"
    if finished.returncode != 0:
        last = (finished.stderr.strip().splitlines() or ["no output"])[-1]
        return [], f"dbos_benchmark.py exited with {finished.returncode}: {last}"
    rows = []
    for line in finished.stdout.splitlines():
        row = json.loads(line)
        rows.append((row["name"], row["calls"], row["p50"], row["p99"], row["rate"]))
    return rows, None


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--instances", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=100)
    options = parser.parse_args()
    url = os.environ["WAYMARK_DATABASE_URL"]

    await client_call(-1)  # compiles (cached) and warms the connections
    raw = RawQueue(url)
    await raw.start()
    rows = []
    for name, call in (("raw INSERT+NOTIFY (baseline)", raw.call), ("waymark client", client_call)):
        latencies, elapsed = await measure(call, options.instances, options.concurrency)
        rows.append((name, len(latencies), statistics.median(latencies), percentile(latencies, 0.99), len(latencies) / elapsed))
    raw.task.cancel()
    extra, skipped = await asyncio.to_thread(dbos_rows, url, options.instances, options.concurrency)
    rows += extra
    print(f"\n{options.instances} calls, {options.concurrency} in flight, one asyncio process\n")
    print(f"| {'path':<30} | {'calls':>6} | {'p50 ms':>8} | {'p99 ms':>8} | {'calls/s':>8} |")
    print(f"|{'-' * 32}|{'-' * 8}|{'-' * 10}|{'-' * 10}|{'-' * 10}|")
    for name, count, p50, p99, rate in rows:
        print(f"| {name:<30} | {count:>6} | {p50 * 1000:>8.1f} | {p99 * 1000:>8.1f} | {rate:>8.0f} |")
    if skipped:
        print(f"| {'DBOS (skipped, see below)':<30} | {'-':>6} | {'-':>8} | {'-':>8} | {'-':>8} |")
        print(f"\nDBOS rows skipped: {skipped}")


if __name__ == "__main__":
    asyncio.run(main())
