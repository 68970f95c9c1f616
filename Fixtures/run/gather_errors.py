import asyncio

from waymark import Workflow, action, workflow


@action
async def check(n: int) -> int:
    if n % 3 == 0:
        raise ValueError(f"{n} is divisible by three")
    return n * 10


@workflow
class GatherErrorsWorkflow(Workflow):
    async def run(self, numbers: list[int]) -> dict:
        results = await asyncio.gather(*[check(n) for n in numbers], return_exceptions=True)
        failed = [str(r) for r in results if isinstance(r, Exception)]
        succeeded = [r for r in results if not isinstance(r, Exception)]
        try:
            everything = await asyncio.gather(*[check(n) for n in numbers])
        except ValueError as error:
            everything = f"gather raised: {error}"
        return {"results": results, "failed": failed, "succeeded": succeeded, "everything": everything}


@workflow
class GatherUncaughtWorkflow(Workflow):
    async def run(self, numbers: list[int]) -> list:
        first, second = await asyncio.gather(check(numbers[0]), check(numbers[1]))
        return [first, second]
