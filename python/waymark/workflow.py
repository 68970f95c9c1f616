"""`Workflow`, `@workflow`, and where `await W().run(...)` executes.

- Durable (`WAYMARK_DATABASE_URL` set, not under pytest): the call queues an instance in
  Postgres and awaits its result (client.py); `_blocking=False` returns a `WorkflowHandle`.
- Local (no database, or under pytest): the compiled program runs on the in-memory runner with
  real worker processes (local.py), so a workflow that does not compile fails where it is called.
- Inline (`WAYMARK_INLINE=1`): `run()` as plain Python, actions in-process with the same retry,
  backoff and timeout semantics the runner enforces. It is the baseline the parity tests compare
  `waymark-run` against.
"""

from __future__ import annotations

import asyncio
import functools
import os
from datetime import timedelta
from typing import Any, Awaitable

from .actions import ActionInvocation, ActionTimeout
from .policies import BackoffPolicy, RetryPolicy

_unscaled_sleep = asyncio.sleep


def execution_mode() -> str:
    """'inline', 'local' or 'durable', from the environment (see the module's doc)."""
    if os.environ.get("WAYMARK_INLINE", "") not in ("", "0"):
        return "inline"
    from .client import database_url

    under_pytest = "PYTEST_CURRENT_TEST" in os.environ and os.environ.get("WAYMARK_PYTEST_DATABASE", "") in ("", "0")
    return "durable" if database_url() and not under_pytest else "local"


def workflow(cls: type) -> type:
    """Marks a Workflow subclass: `waymarkc` compiles its `run()`, and calling `run()` queues
    (or runs locally) the compiled program instead of executing the method in this process."""
    # `run` defined here, or inherited (from a decorated base: its undecorated method).
    inline_run = cls.__dict__.get("run") or getattr(cls, "__waymark_inline_run__", None) or getattr(cls, "run", None)
    if inline_run is None or not asyncio.iscoroutinefunction(inline_run):
        raise TypeError(f"@workflow {cls.__qualname__} needs an `async def run(self, ...)`")

    @functools.wraps(inline_run)
    async def run(self: Any, *args: Any, _blocking: bool = True, **kwargs: Any) -> Any:
        mode = execution_mode()
        if mode == "inline":
            if not _blocking:
                raise TypeError("_blocking=False needs a database (WAYMARK_DATABASE_URL); inline mode runs to the end")
            return await inline_run(self, *args, **kwargs)
        from . import outcomes, toolchain

        arguments = outcomes.arguments(inline_run, args, kwargs)
        compiled = await asyncio.to_thread(toolchain.compiled, type(self))
        if mode == "local":
            if not _blocking:
                raise TypeError("_blocking=False needs a database (WAYMARK_DATABASE_URL); local mode runs to the end")
            from . import local

            return await local.run(compiled, arguments)
        from . import client

        (handle,) = await client.submit_many(compiled, [arguments])
        return handle if not _blocking else await handle.result()

    async def enqueue_many(klass: type, inputs: list[dict[str, Any]]) -> list[Any]:
        """Queues one instance per dict of `run()` keyword arguments, in one round trip."""
        from . import client, outcomes, toolchain

        if execution_mode() != "durable":
            raise TypeError("enqueue_many needs a database (WAYMARK_DATABASE_URL)")
        arguments = [outcomes.arguments(inline_run, (), dict(item)) for item in inputs]
        compiled = await asyncio.to_thread(toolchain.compiled, klass)
        return await client.submit_many(compiled, arguments)

    def handle(klass: type, instance_id: str) -> Any:
        """The handle of an instance queued earlier (by this process or another)."""
        from . import client, toolchain

        return client.WorkflowHandle(instance_id, toolchain.compiled(klass))

    def run_sync(self: Any, *args: Any, **kwargs: Any) -> Any:
        """`run()` from synchronous code (not from inside a running event loop)."""
        return asyncio.run(run(self, *args, **kwargs))

    cls.run = run
    cls.run_sync = run_sync
    cls.enqueue_many = classmethod(enqueue_many)
    cls.handle = classmethod(handle)
    cls.__waymark_inline_run__ = inline_run
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
