"""The client benchmark's workload: a one-action workflow."""

from waymark import Workflow, action, workflow


@action
async def echo(value: int) -> int:
    return value


@workflow
class Ping(Workflow):
    async def run(self, value: int) -> int:
        return await echo(value)
