from waymark import BackoffPolicy, RetryPolicy, Workflow, action, workflow

from teststate import bump


class TransientError(ConnectionError):
    pass


@action
async def flaky(key: str, failures: int) -> str:
    """Fails `failures` times for `key`, then succeeds."""
    attempt = bump(key)
    if attempt <= failures:
        raise TransientError(f"{key} failed attempt {attempt}")
    return f"{key} ok on attempt {attempt}"


@action
async def broken(key: str) -> str:
    attempt = bump(key)
    raise ValueError(f"{key} is broken (attempt {attempt})")


@workflow
class RetriesWorkflow(Workflow):
    async def run(self, failures: int) -> dict:
        outcome = {}
        try:
            outcome["flaky"] = await self.run_action(
                flaky("flaky", failures), retry=RetryPolicy(attempts=3, backoff_seconds=1)
            )
        except TransientError as error:
            outcome["flaky"] = f"gave up: {error}"
        try:
            # ValueError is not in exception_types: no retry, one attempt.
            outcome["broken"] = await self.run_action(
                broken("broken"), retry=RetryPolicy(attempts=5, exception_types=[ConnectionError])
            )
        except ValueError as error:
            outcome["broken"] = str(error)
        outcome["backoff"] = await self.run_action(
            flaky("backoff", 2),
            retry=RetryPolicy(attempts=3, exception_types=["TransientError"]),
            backoff=BackoffPolicy(base_delay=30, multiplier=2, max_delay=60, jitter=True),
        )
        outcome["linear"] = await self.run_action(
            flaky("linear", 1), retry=RetryPolicy(attempts=None), backoff=BackoffPolicy(base_delay=5, kind="linear")
        )
        return outcome
