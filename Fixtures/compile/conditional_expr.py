from waymark import Workflow, action, workflow


@action
async def expensive(x: int) -> int:
    return x * 100


@action
async def cheap(x: int) -> int:
    return x


@workflow
class ConditionalWorkflow(Workflow):
    async def run(self, x: int, big: bool) -> list:
        plain = "big" if big else "small"
        nested = "neg" if x < 0 else "zero" if x == 0 else "pos"
        # Only the chosen branch's action may run: this becomes control flow.
        chosen = await expensive(x) if big else await cheap(x)
        guarded = big and await expensive(x + 1)
        fallback = x or await cheap(7)
        return [plain, nested, chosen, guarded, fallback]
