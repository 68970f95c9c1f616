from waymark import Workflow, action, workflow


@action
async def classify(x: int) -> str:
    return "even" if x % 2 == 0 else "odd"


@workflow
class MatchWorkflow(Workflow):
    async def run(self, x: int) -> str:
        kind = await classify(x)
        match kind:
            case "even":
                return "E"
            case _:
                return "O"
        yield kind
