from waymark import Workflow, action, workflow


@action
async def total(values: list[int]) -> int:
    return sum(values)


@workflow
class AssertWorkflow(Workflow):
    async def run(self, values: list[int]) -> int:
        assert values, "values must not be empty"
        result = await total(values)
        assert result >= 0
        assert result < 1000, f"total {result} is too large"
        return result
