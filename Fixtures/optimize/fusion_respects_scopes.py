from waymark import Workflow, action, workflow


@action
async def step(n: int) -> int:
    return n


@workflow
class FusionWorkflow(Workflow):
    async def run(self, values: list[int]) -> dict:
        total = 0
        count = len(values)
        average = 0
        try:
            first = values[0]
            ratio = first / count
        except (IndexError, ZeroDivisionError):
            first = None
            ratio = 0
        doubled = await step(count * 2)
        label = f"{count} values"
        summary = {"total": total, "count": count, "average": average}
        summary["first"] = first
        summary["ratio"] = ratio
        summary["doubled"] = doubled
        summary["label"] = label
        return summary
