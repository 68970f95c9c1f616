from waymark import Workflow, action, workflow


@action
async def step() -> bool:
    return True


@workflow
class LoopControlWorkflow(Workflow):
    async def run(self) -> None:
        if await step():
            break
        for i in range(3):
            pass
        continue
