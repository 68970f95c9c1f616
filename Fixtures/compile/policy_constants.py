"""Policies kept in module constants and in attributes set in __init__, as waymark code does."""
import datetime

from waymark.workflow import RetryPolicy, Workflow, workflow
from waymark import BackoffPolicy
from waymark.actions import action

MAX_ATTEMPTS = 4
STANDARD_RETRY = RetryPolicy(attempts=MAX_ATTEMPTS, exception_types=["ConnectionError"])
SLOW = datetime.timedelta(minutes=2)


@action
async def sync_account(account_id: str) -> bool:
    return True


@workflow
class PolicyConstantsWorkflow(Workflow):
    def __init__(self):
        self.retry_policy = RetryPolicy(attempts=2, backoff_seconds=1)
        self.backoff = BackoffPolicy(base_delay=1, max_delay=30)
        self.timeout_seconds = 45

    async def run(self, account_id: str) -> list[bool]:
        first = await self.run_action(sync_account(account_id), retry=STANDARD_RETRY, timeout=SLOW)
        second = await self.run_action(
            sync_account(account_id), retry=self.retry_policy, backoff=self.backoff, timeout=self.timeout_seconds
        )
        return [first, second]
