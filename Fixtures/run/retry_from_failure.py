"""Runner-only (no inline baseline): a failed instance retried from the step that failed."""
from waymark import Workflow, action, workflow

from teststate import bump


@action
async def step(name: str) -> str:
    return f"{name}#{bump(name)}"


@action
async def flaky(name: str) -> str:
    attempt = bump(name)
    if attempt == 1:
        raise RuntimeError(f"{name} failed on attempt 1")
    return f"{name} ok on attempt {attempt}"


@workflow
class RetryFromFailureWorkflow(Workflow):
    async def run(self) -> list:
        a = await step("a")
        b = await step("b")
        c = await flaky("c")
        d = await step("d")
        return [a, b, c, d]
