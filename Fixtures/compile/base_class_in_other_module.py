from bases.audited import Audited

from waymark import action, workflow


@action
async def work(n: int) -> int:
    return n + 1


@workflow
class AuditedWorkWorkflow(Audited):
    async def run(self, n: int) -> int:
        await self.audit("begin")
        result = await work(n)
        await self.audit(f"result {result}")
        return result
