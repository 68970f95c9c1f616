"""Enqueue -> result through the Python client, beside a raw psycopg baseline, in one run.

    bash Benchmarks/ClientBenchmark/run.sh          (starts PostgreSQL and the workers itself)

Rows: `waymark client`: `await Ping().run(i)` from one asyncio process with C callers in flight,
a one-action workflow run by `waymark-start-workers` in another process. `raw INSERT+NOTIFY`:
the floor of any Postgres queue, one INSERT that notifies, awaited through LISTEN on its own
connection (psycopg, no worker, no action). Latency is per call, enqueue to result.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid

import psycopg

from ping import Ping


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


async def measure(call, total: int, concurrency: int) -> tuple[list[float], float]:
    latencies: list[float] = []
    queue = iter(range(total))

    async def caller() -> None:
        for i in queue:
            start = time.perf_counter()
            await call(i)
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*[caller() for _ in range(concurrency)])
    return latencies, time.perf_counter() - start


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
    print(f"\n{options.instances} calls, {options.concurrency} in flight, one asyncio process\n")
    print(f"| {'path':<30} | {'calls':>6} | {'p50 ms':>8} | {'p99 ms':>8} | {'calls/s':>8} |")
    print(f"|{'-' * 32}|{'-' * 8}|{'-' * 10}|{'-' * 10}|{'-' * 10}|")
    for name, count, p50, p99, rate in rows:
        print(f"| {name:<30} | {count:>6} | {p50 * 1000:>8.1f} | {p99 * 1000:>8.1f} | {rate:>8.0f} |")
    raw.task.cancel()


if __name__ == "__main__":
    asyncio.run(main())
