from waymark import Workflow, workflow


@workflow
class BrokenWorkflow(Workflow):
    async def run(self, name: str) -> str:
        greeting = "héllo wörld" + name)
        return greeting
