import asyncio

from waymark import Workflow, action, workflow


@action
async def fetch(i: int) -> int:
    return i


@workflow
class BadGatherWorkflow(Workflow):
    async def run(self, ids: list[int]) -> list:
        tasks = [fetch(i) for i in ids]
        a = await asyncio.gather(*tasks)
        b = await asyncio.gather(await fetch(1), fetch(2))
        c = await asyncio.gather(fetch(1), return_exceptions=ids)
        d = await asyncio.gather(self.helper(), fetch(3))
        return [a, b, c, d]

    async def helper(self) -> int:
        return 1
