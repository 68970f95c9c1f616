"""A long durable sleep between two steps: under serve it parks the instance in the database."""
import asyncio

from durable_steps import step
from waymark import Workflow, workflow


@workflow
class SleepyWorkflow(Workflow):
    async def run(self, name: str) -> list[str]:
        first = await step(name, 0)
        await asyncio.sleep(2)
        second = await step(name, 1)
        return [first, second]
