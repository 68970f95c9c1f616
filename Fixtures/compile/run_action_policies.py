from datetime import timedelta

from waymark import BackoffPolicy, RetryPolicy, Workflow, action, workflow


class FlakyError(Exception):
    pass


@action
async def inconsistent_action(chance: float) -> str:
    return "ok"


@workflow
class PoliciesWorkflow(Workflow):
    async def run(self) -> list:
        a = await self.run_action(
            inconsistent_action(0.5),
            retry=RetryPolicy(attempts=50),
            backoff=BackoffPolicy(base_delay=5),
            timeout=timedelta(minutes=10),
        )
        b = await self.run_action(
            inconsistent_action(chance=0.1),
            retry=RetryPolicy(attempts=3, exception_types=[FlakyError, "TimeoutError"], backoff_seconds=2),
        )
        c = await self.run_action(inconsistent_action(0.9), timeout=30)
        d = await self.run_action(
            inconsistent_action(0.2),
            retry=RetryPolicy(attempts=None, exception_types=[ValueError]),
            backoff=BackoffPolicy(base_delay=0.5, multiplier=3, max_delay=60, jitter=True),
            timeout=timedelta(hours=1, seconds=30),
        )
        e = await self.run_action(
            inconsistent_action(0.3),
            backoff=BackoffPolicy(base_delay=2, kind="linear"),
            timeout=2.5,
        )
        return [a, b, c, d, e]
