import asyncio

from waymark import Workflow, action, workflow


@action
async def charge(amount: int) -> bool:
    return True


@workflow
class ForgetfulWorkflow(Workflow):
    async def run(self, amount: int) -> bool:
        charge(amount)
        result = charge(amount * 2)
        pending = self.confirm(amount)
        asyncio.sleep(5)
        return result

    async def confirm(self, amount: int) -> bool:
        return await charge(amount)
