"""waymark code imports asyncio's sleep under another name and names its actions in the
decorator (`@action(name=...)`): the alias is still a durable sleep, the named action still an
action called by its Python name."""
from asyncio import sleep as async_sleep

from waymark import Workflow, action, workflow


@action(name="aliased_lookup")
async def lookup(key: str) -> int:
    return len(key)


@action(name="aliased_render")
async def render(value: int, suffix: str = "!") -> str:
    return f"value {value}{suffix}"


@workflow
class AliasedImportsWorkflow(Workflow):
    async def run(self, key: str, pause: float) -> str:
        value = await lookup(key)
        await async_sleep(pause)
        await async_sleep(delay=1)
        if value > 3:
            return await render(value)
        return await render(value, suffix="?")
