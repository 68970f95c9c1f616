from waymark import Workflow, action, workflow


@action
async def noop() -> None:
    return None


@workflow
class SyncRunWorkflow(Workflow):
    def run(self) -> None:
        return None


@workflow
class NoRunWorkflow(Workflow):
    async def execute(self) -> None:
        await noop()


@workflow
class NotSubclassWorkflow:
    async def run(self) -> None:
        await noop()
