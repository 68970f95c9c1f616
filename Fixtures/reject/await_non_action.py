from waymark import Workflow, action, workflow


async def plain_coroutine(x: int) -> int:
    return x


@action
async def real(x: int) -> int:
    return x


@workflow
class AwaitWorkflow(Workflow):
    async def run(self, x: int) -> int:
        a = await plain_coroutine(x)
        b = await x
        c = await self.double(x)
        return a + b + c + await real(x)

    def double(self, x: int) -> int:
        return x * 2
