"""Actions that exercise the runtime's policies, for the metrics test: one that fails twice
before it succeeds (retried), one that outlives its timeout, one whose worker dies under it
the first time (a worker restart, the attempt lost and retried), and one that stalls until its
instance is cancelled."""

import asyncio
import os

from waymark import RetryPolicy, Workflow, action, workflow

from shop.flows import _bump


@action
async def wobbly(key: str) -> str:
    if _bump(f"wobbly-{key}") <= 2:
        raise ValueError("not yet")
    return "steady"


@action
async def dawdle(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "late"


@action
async def die_once(key: str) -> str:
    if _bump(f"die-{key}") == 1:
        os._exit(3)
    return "survived"


@workflow
class Resilient(Workflow):
    async def run(self, key: str) -> str:
        return await self.run_action(wobbly(key), retry=RetryPolicy(attempts=3))


@workflow
class Impatient(Workflow):
    async def run(self, seconds: float) -> str:
        return await self.run_action(dawdle(seconds), timeout=1)


@workflow
class Crashy(Workflow):
    async def run(self, key: str) -> str:
        return await self.run_action(die_once(key), retry=RetryPolicy(attempts=2))


@action
async def stall(key: str) -> str:
    _bump(f"stall-{key}")
    await asyncio.sleep(600)
    return "never"


@workflow
class Stalled(Workflow):
    async def run(self, key: str) -> str:
        return await stall(key)
