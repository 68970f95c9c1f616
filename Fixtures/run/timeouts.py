import asyncio
import time
from datetime import timedelta

from waymark import RetryPolicy, WaymarkTimeout, Workflow, action, workflow

from teststate import bump


@action
async def slow(key: str, seconds: float) -> str:
    attempt = bump(key)
    await asyncio.sleep(seconds if attempt == 1 else 0)
    return f"{key} finished on attempt {attempt}"


@action
def slow_sync(seconds: float) -> str:
    time.sleep(seconds)
    return "sync finished"


@workflow
class TimeoutsWorkflow(Workflow):
    async def run(self, seconds: float) -> dict:
        outcome = {}
        try:
            outcome["caught"] = await self.run_action(slow("caught", seconds), timeout=0.3)
        except WaymarkTimeout as error:  # the base of the ActionTimeout raised
            outcome["caught"] = f"timed out: {error}"
        # The first attempt times out; the retry finishes at once. Three seconds of margin: on a
        # loaded 2-core CI machine an instant action has taken over a second to answer.
        outcome["retried"] = await self.run_action(
            slow("retried", seconds), timeout=timedelta(milliseconds=3000), retry=RetryPolicy(attempts=2)
        )
        try:
            await self.run_action(slow_sync(seconds), timeout=0.3)
        except TimeoutError:
            outcome["sync"] = "a TimeoutError handler catches ActionTimeout"
        return outcome


@workflow
class UncaughtTimeoutWorkflow(Workflow):
    async def run(self, seconds: float) -> str:
        return await self.run_action(slow("uncaught", seconds), timeout=0.2)
