import asyncio

from waymark import Workflow, action, workflow


@action
async def double(x: int) -> int:
    return x * 2


@workflow
class DoubleWorkflow(Workflow):
    async def run(self, x: int) -> int:
        return await double(x)


class NotAWorkflow:
    async def run(self, x):
        return x


@workflow
class QuadrupleWorkflow(Workflow):
    async def run(self, xs: list[int]) -> list[int]:
        doubled = await asyncio.gather(*[double(x) for x in xs])
        return await asyncio.gather(*[double(x) for x in doubled])
