"""Five slow steps, each appending to a side-channel file: the crash-recovery tests count how
often each ran."""
import asyncio
import os

from waymark import Workflow, action, workflow


@action
async def step(name: str, index: int) -> str:
    directory = os.environ.get("WAYMARK_TEST_STATE") or "/tmp/waymark-test-state"
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "executions.log"), "a") as log:
        # The runner's pid (the worker's parent) tells which runner did the work.
        log.write(f"{name}:{index}:{os.getppid()}\n")
    await asyncio.sleep(0.4)
    return f"{name}-{index}"


@workflow
class DurableStepsWorkflow(Workflow):
    async def run(self, name: str) -> list[str]:
        done = []
        for index in range(5):
            done.append(await step(name, index))
        await asyncio.sleep(0.5)
        return done
