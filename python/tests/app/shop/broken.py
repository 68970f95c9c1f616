"""Runs in plain Python, but waymarkc refuses it: `await` on a plain coroutine (not an @action)."""

from waymark import Workflow, workflow


async def helper(x: int) -> int:
    return x + 1


@workflow
class Broken(Workflow):
    async def run(self, x: int) -> int:
        return await helper(x)
