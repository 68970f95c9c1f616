"""The client benchmark's workload through DBOS (PyPI `dbos`), for the table's comparison rows.

    python dbos_benchmark.py URL --instances N --concurrency C      (run.sh runs it)

Runs in its own virtualenv (requirements-dbos.txt) and process, so DBOS's dependencies never meet
the waymark package's. DBOS executes workflows inside the app process: the same asyncio loop that
starts a workflow runs it, and its step, here. URL is a database of its own on the benchmark's
PostgreSQL (DBOS creates it and its system tables at launch). Prints one JSON object per line,
one per row: name, calls, p50, p99 (seconds), rate (calls/s). Every result is checked.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics

from dbos import DBOS, DBOSConfig

from timing import measure, percentile


@DBOS.step()
async def echo(value: int) -> int:
    return value


@DBOS.workflow()
async def ping(value: int) -> int:
    return await echo(value)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--instances", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=100)
    options = parser.parse_args()

    config: DBOSConfig = {
        "name": "client-benchmark",
        "system_database_url": options.url,
        "run_admin_server": False,
        "log_level": "WARNING",
        # Room for C callers plus DBOS's own threads; the server allows 100 connections in all.
        "sys_db_pool_size": 40,
    }
    DBOS(config=config)
    DBOS.launch()
    # The queue's default poll interval (1 s) would dominate every call; 10 ms is DBOS's
    # best case for queue-and-await, with the same concurrency limit as callers in flight.
    queue = await DBOS.register_queue_async("bench", polling_interval_sec=0.01)

    async def started(i: int) -> None:
        handle = await DBOS.start_workflow_async(ping, i)
        result = await handle.get_result(polling_interval_sec=0.01)
        assert result == i, (result, i)

    async def queued(i: int) -> None:
        handle = await queue.enqueue_async(ping, i)
        result = await handle.get_result(polling_interval_sec=0.01)
        assert result == i, (result, i)

    await started(-1)
    await queued(-1)
    for name, call in (("DBOS start_workflow_async", started), ("DBOS Queue.enqueue_async", queued)):
        latencies, elapsed = await measure(call, options.instances, options.concurrency)
        row = {
            "name": name,
            "calls": len(latencies),
            "p50": statistics.median(latencies),
            "p99": percentile(latencies, 0.99),
            "rate": len(latencies) / elapsed,
        }
        print(json.dumps(row), flush=True)
    DBOS.destroy()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main())
