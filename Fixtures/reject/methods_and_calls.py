from waymark import Workflow, action, workflow


def helper_function(x):
    return x


@action
async def records() -> list:
    return []


@workflow
class MethodsWorkflow(Workflow):
    async def run(self) -> list:
        rows = await records()
        rows.sort_by_date()
        total = helper_function(len(rows))
        value = rows(0)
        return [total, value, eval("1 + 1")]
