from waymark import Workflow, action, workflow


@action
async def lookup(key: str) -> int | None:
    return None


@workflow
class UnboundWorkflow(Workflow):
    async def run(self, keys: list[str], strict: bool) -> list:
        if strict:
            mode = "strict"
        for key in keys:
            last = await lookup(key)
        try:
            value = await lookup("x")
        except ValueError:
            pass
        while True:
            found = await lookup("y")
            if found:
                break
        return [mode, last, value, found]
