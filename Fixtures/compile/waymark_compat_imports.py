"""Import spellings found in public waymark code: submodules and the package itself."""
import asyncio as aio

import waymark
from waymark.actions import action
from waymark.workflow import RetryPolicy, Workflow


@action
async def ping(host: str) -> bool:
    return True


@waymark.workflow
class CompatWorkflow(waymark.Workflow):
    async def run(self, hosts: list[str]) -> list[bool]:
        first = await self.run_action(ping(hosts[0]), retry=RetryPolicy(attempts=3, exception_types=[TimeoutError]))
        rest = await aio.gather(*[ping(host) for host in hosts[1:]])
        await aio.sleep(1)
        return [first, *rest]


@waymark.workflow
class SecondCompatWorkflow(Workflow):
    async def run(self) -> bool:
        return await ping("localhost")
