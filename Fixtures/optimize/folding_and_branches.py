from waymark import Workflow, action, workflow

DEBUG = False
RETRIES = 3
DAY = 24 * 60 * 60


@action
async def notify(message: str, delay: int) -> str:
    return message


@workflow
class FoldingWorkflow(Workflow):
    async def run(self, name: str) -> str:
        greeting = "Hello, " + "world"
        limit = RETRIES * 2 + 1
        if DEBUG:
            greeting = greeting + " (debug)"
        elif limit > 5:
            greeting = greeting + "!"
        while False:
            limit += 1
        else:
            limit -= 1
        checked = not DEBUG and limit
        return await notify(f"{greeting} {name} {checked}", DAY)
