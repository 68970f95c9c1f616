from waymark import Workflow, action, workflow


@action
async def count_items(kind: str) -> int:
    return 3


@workflow
class ArithmeticWorkflow(Workflow):
    async def run(self, name: str, ratio: float) -> str:
        total = await count_items(name)
        label = "items: " + total
        scaled = ratio << 2
        doubled = name * name
        total += "more"
        return label + str(scaled) + doubled
