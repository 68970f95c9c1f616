"""`Workflow`, `@workflow`, and inline mode.

Inline mode runs `run()` as plain Python: actions execute in-process with the same retry,
backoff and timeout semantics the runner enforces. It is the baseline the parity tests compare
`waymark-run` against, and what a user's unit tests call.
"""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from typing import Any, Awaitable

from .actions import ActionInvocation, ActionTimeout
from .policies import BackoffPolicy, RetryPolicy

workflows: dict[str, type] = {}
_unscaled_sleep = asyncio.sleep


def workflow(cls: type) -> type:
    """Registers a Workflow subclass; `waymarkc` compiles its `run()`."""
    workflows[f"{cls.__module__}.{cls.__name__}"] = cls
    return cls


def _seconds(timeout: float | int | timedelta | None) -> float | None:
    if timeout is None:
        return None
    if isinstance(timeout, timedelta):
        return timeout.total_seconds()
    return float(timeout)


def _sleep_scale() -> float:
    """WAYMARK_SLEEP_SCALE scales backoff delays in inline mode (0 skips them), as in the runner."""
    try:
        return float(os.environ.get("WAYMARK_SLEEP_SCALE", "1"))
    except ValueError:
        return 1.0


class Workflow:
    """Base class of workflows. Subclasses define `async def run(self, ...)`."""

    async def run_action(
        self,
        call: Awaitable[Any],
        *,
        retry: RetryPolicy | None = None,
        backoff: BackoffPolicy | None = None,
        timeout: float | int | timedelta | None = None,
    ) -> Any:
        """Runs one action call under a policy: each attempt within `timeout` (raising
        ActionTimeout), retried per `retry`, waiting per `backoff` between attempts."""
        if not isinstance(call, ActionInvocation):
            raise TypeError("run_action takes an @action call, e.g. self.run_action(fetch(x), retry=...)")
        policy = retry or RetryPolicy()
        seconds = _seconds(timeout)
        attempt = 0
        while True:
            attempt += 1
            try:
                if seconds is None:
                    return await call.execute()
                try:
                    return await asyncio.wait_for(call.execute(), seconds)
                except asyncio.TimeoutError:
                    raise ActionTimeout(f"action timed out after {seconds:g}s") from None
            except Exception as error:  # noqa: BLE001 - the policy decides
                limit = policy.attempts
                if (limit is not None and attempt >= limit) or not policy.retries(error):
                    raise
                if backoff is not None:
                    delay = backoff.delay(attempt)
                else:
                    delay = policy.backoff_seconds or 0.0
                # Backoff is the workflow's wait: scaled like its sleeps.
                await _unscaled_sleep(delay * _sleep_scale())
