"""Workflows for the runner benchmark: no-op actions, sequential and fanned out."""
import asyncio

from waymark import Workflow, action, workflow


@action
async def noop(i: int) -> int:
    return i


@workflow
class SequentialWorkflow(Workflow):
    async def run(self, steps: int) -> int:
        total = 0
        for i in range(steps):
            total += await noop(i)
        return total


@workflow
class FanOutWorkflow(Workflow):
    async def run(self, width: int) -> int:
        results = await asyncio.gather(*[noop(i) for i in range(width)])
        return sum(results)
