"""Runner-only behaviour (no inline baseline): a worker that dies mid-action, and recycling."""
import os

from waymark import RetryPolicy, Workflow, action, workflow

from teststate import bump


@action
async def crash_once(key: str) -> str:
    attempt = bump(key)
    if attempt == 1:
        os._exit(17)  # the whole worker process dies with the action in flight
    return f"{key} survived on attempt {attempt}"


@action
async def whoami(n: int) -> int:
    return os.getpid()


@workflow
class CrashWorkflow(Workflow):
    async def run(self) -> str:
        return await self.run_action(crash_once("crash"), retry=RetryPolicy(attempts=2))


@workflow
class CrashUnretriedWorkflow(Workflow):
    async def run(self) -> str:
        return await crash_once("unretried")


@workflow
class RecycleWorkflow(Workflow):
    async def run(self, count: int) -> list:
        pids = []
        for n in range(count):
            pids.append(await whoami(n))
        return pids
