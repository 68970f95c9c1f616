from waymark import Workflow, action, workflow


@action
async def load() -> int:
    return 1


@workflow
class StatefulWorkflow(Workflow):
    def __init__(self):
        self.client = object()

    async def run(self) -> int:
        self.count = await load()
        return self.count + self.client.calls
