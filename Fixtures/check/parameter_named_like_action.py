"""A parameter named like an action hides it: the call is of the parameter, and is reported
(an assignment would be reported as shadowing instead; see shadowed_action.py)."""
from waymark import Workflow, action, workflow


@action
async def total(values: list[int]) -> int:
    return sum(values)


@workflow
class ShadowWorkflow(Workflow):
    async def run(self, total: int) -> int:
        x = await total([1])
        return x
