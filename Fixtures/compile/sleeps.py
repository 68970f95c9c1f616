import asyncio
from asyncio import sleep

from waymark import Workflow, action, workflow

ONE_DAY = 24 * 60 * 60


@action
async def remind(user_id: str, attempt: int) -> bool:
    return attempt > 1


@workflow
class ReminderWorkflow(Workflow):
    async def run(self, user_id: str, delay: float) -> int:
        await asyncio.sleep(delay)
        attempt = 0
        while True:
            attempt += 1
            if await remind(user_id, attempt):
                break
            await sleep(ONE_DAY)
        await asyncio.sleep(delay=0.5)
        await asyncio.sleep(24*60*60)
        return attempt
