"""Cancellation as Python's `task.cancel()` has it: `asyncio.CancelledError` is raised in `run()` at
the await it is waiting on; handlers and finally blocks run (and may await actions); it is a
BaseException, so `except Exception` does not catch it; a workflow that catches it and returns
completes normally. cancellation.cancels.json says when the test cancels each (CancellationTests)."""
import asyncio

from teststate import bump
from waymark import RetryPolicy, Workflow, action, workflow


@action
async def step(name: str) -> str:
    return f"step {name}"


@action
async def stall(name: str) -> str:
    """Says it started (the test cancels then), and waits longer than any test."""
    bump(f"started-{name}")
    await asyncio.sleep(600)
    return f"stalled {name}"


@action
async def stall_then_fail(name: str) -> str:
    """Says it started, waits a moment, then fails: retried, unless its instance was cancelled."""
    bump(f"started-{name}")
    await asyncio.sleep(1)
    raise ConnectionError(f"{name} failed")


@action
async def cleanup(name: str) -> str:
    count = bump(f"cleaned-{name}")
    return f"cleaned {name} ({count})"


@workflow
class CancelDuringActionWorkflow(Workflow):
    async def run(self, name: str) -> list[str]:
        first = await step(name)
        second = await stall(name)
        return [first, second]


@workflow
class CancelDuringSleepWorkflow(Workflow):
    async def run(self, name: str) -> str:
        first = await step(name)
        await asyncio.sleep(3600)
        return first


@workflow
class CancelWithFinallyWorkflow(Workflow):
    async def run(self, name: str) -> str:
        try:
            return await stall(name)
        finally:
            await cleanup(name)


@workflow
class CancelCaughtWorkflow(Workflow):
    async def run(self, name: str) -> list[str]:
        log = [await step(name)]
        try:
            log.append(await stall(name))
        except asyncio.CancelledError:
            log.append("cancelled")
            log.append(await cleanup(name))
        log.append(await step(name + " after"))
        return log


@workflow
class CancelPassesExceptWorkflow(Workflow):
    async def run(self, name: str) -> str:
        try:
            return await stall(name)
        except Exception as error:
            return f"caught {error!r}"


@workflow
class CancelInGatherWorkflow(Workflow):
    async def run(self, name: str) -> list:
        results = await asyncio.gather(step(name), stall(name), return_exceptions=True)
        return list(results)


@workflow
class CancelCaughtInSleepWorkflow(Workflow):
    async def run(self, name: str) -> list[str]:
        log = [await step(name)]
        try:
            await asyncio.sleep(3600)
            log.append("woke")
        except asyncio.CancelledError:
            log.append(await cleanup(name))
        return log


@workflow
class CancelStopsRetriesWorkflow(Workflow):
    async def run(self, name: str) -> str:
        return await self.run_action(stall_then_fail(name), retry=RetryPolicy(attempts=5))


@action
async def fail_now(name: str) -> str:
    """Says it started and fails at once: retried after a long backoff, unless its instance was
    cancelled."""
    bump(f"started-{name}")
    raise ConnectionError(f"{name} failed")


@workflow
class CancelDuringBackoffWorkflow(Workflow):
    async def run(self, name: str) -> str:
        return await self.run_action(fail_now(name), retry=RetryPolicy(attempts=5, backoff_seconds=600))


@workflow
class CancelWideGatherWorkflow(Workflow):
    """Six stalled actions, more than the test's worker has slots for (4): two wait for a slot."""

    async def run(self, name: str) -> list:
        return await asyncio.gather(*[stall(name) for _ in range(6)])


@action
async def flaky_cleanup(name: str) -> str:
    """Fails its first attempt, then cleans up."""
    if bump(f"cleanup-attempts-{name}") == 1:
        raise ConnectionError(f"cleanup of {name} failed")
    return f"cleaned {name}"


@workflow
class CancelThenRetriedCleanupWorkflow(Workflow):
    """The cleanup after the cancellation is an await like any other: retried by its policy."""

    async def run(self, name: str) -> str:
        try:
            return await stall(name)
        finally:
            await self.run_action(flaky_cleanup(name), retry=RetryPolicy(attempts=3))
