from waymark import Workflow, action, workflow


@action
async def total(values: list[int]) -> int:
    return sum(values)


@workflow
class ShadowWorkflow(Workflow):
    async def run(self, values: list[int]) -> int:
        total = await total(values)
        return total
