from waymark import Workflow, action, workflow

COUNTER = 0


@action
async def bump(n: int) -> int:
    return n + 1


@workflow
class ScopeWorkflow(Workflow):
    async def run(self, n: int) -> int:
        global COUNTER
        import json

        def local_helper(x):
            return x * 2

        class Local:
            pass

        del n
        return await bump(COUNTER)
