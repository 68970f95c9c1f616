from waymark import Workflow, action, workflow


@action
async def work(n: int) -> int:
    return n


@workflow
class UnreachableWorkflow(Workflow):
    async def run(self, n: int) -> int:
        for i in range(n):
            if i > 2:
                break
                await work(i)
            continue
            await work(-i)
        return await work(n)
        await work(0)
