from waymark import Workflow, action, workflow


@action
async def compute(x: int) -> int:
    return x * 3


@workflow
class ReturnsWorkflow(Workflow):
    async def run(self, x: int, mode: str):
        if mode == "nothing":
            return
        if mode == "none":
            return None
        if mode == "direct":
            return await compute(x)
        return (await compute(x)) + 1, x
