from waymark import Workflow, action, workflow


@action
async def fetch(n: int) -> int:
    return n


@workflow
class UnusedWorkflow(Workflow):
    async def run(self, n: int) -> int:
        ignored = await fetch(n)
        _deliberate = await fetch(n + 1)
        result = await fetch(n + 2)
        for index, item in enumerate([1, 2]):
            result += item
        return result
