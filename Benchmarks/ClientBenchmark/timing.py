"""Per-call latency and throughput of C concurrent callers, shared by the benchmark's processes."""

from __future__ import annotations

import asyncio
import time


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
