from waymark import Workflow, action, workflow


@action
async def items() -> list[int]:
    return [3, 1, 2]


@workflow
class SortWorkflow(Workflow):
    async def run(self) -> list[int]:
        values = await items()
        ordered = sorted(values, key=lambda v: -v)
        if (n := len(ordered)) > 2:
            return ordered[:n]
        return ordered
