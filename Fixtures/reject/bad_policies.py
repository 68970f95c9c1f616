from datetime import timedelta

from waymark import BackoffPolicy, RetryPolicy, Workflow, action, workflow


@action
async def work(n: int) -> int:
    return n


@workflow
class BadPoliciesWorkflow(Workflow):
    async def run(self, n: int) -> list:
        a = await self.run_action(work(n), retry=RetryPolicy(attempts=0))
        b = await self.run_action(work(n), retry=RetryPolicy(attempts=n))
        c = await self.run_action(work(n), retry=RetryPolicy(tries=3))
        d = await self.run_action(work(n), backoff=BackoffPolicy(base_delay=1, kind="quadratic"))
        e = await self.run_action(work(n), timeout=timedelta(minutes=n))
        f = await self.run_action(work(n), retry_policy=RetryPolicy(attempts=2))
        g = await self.run_action(n, retry=RetryPolicy(attempts=2))
        return [a, b, c, d, e, f, g]
