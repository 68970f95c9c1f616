"""Retry, backoff and timeout policies for `Workflow.run_action`.

The compiler evaluates these at compile time, so their arguments must be constants.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Literal, Sequence, Union

ExceptionSpec = Union[type, str]


@dataclass(frozen=True)
class RetryPolicy:
    """How often an action is attempted when it raises.

    attempts: total attempts including the first; None retries without limit.
    exception_types: the exception classes (or their names) that are retried; empty means all.
    backoff_seconds: a constant delay between attempts (waymark's shorthand for BackoffPolicy).
    """

    attempts: int | None = 1
    exception_types: Sequence[ExceptionSpec] = field(default_factory=tuple)
    backoff_seconds: float | None = None

    def retries(self, error: BaseException) -> bool:
        if not self.exception_types:
            return True
        names = {cls.__name__ for cls in type(error).__mro__}
        for spec in self.exception_types:
            name = spec if isinstance(spec, str) else spec.__name__
            if name in names:
                return True
        return False


@dataclass(frozen=True)
class BackoffPolicy:
    """Delay before retry number n (1-based) of an action.

    constant: base_delay; linear: base_delay * n; exponential: base_delay * multiplier**(n-1).
    max_delay caps the delay; jitter picks uniformly in [0, delay].
    """

    base_delay: float = 1.0
    multiplier: float = 2.0
    max_delay: float | None = None
    jitter: bool = False
    kind: Literal["constant", "linear", "exponential"] = "exponential"

    def delay(self, retry: int) -> float:
        if self.kind == "constant":
            value = self.base_delay
        elif self.kind == "linear":
            value = self.base_delay * retry
        else:
            value = self.base_delay * self.multiplier ** (retry - 1)
        if self.max_delay is not None:
            value = min(value, self.max_delay)
        if self.jitter:
            # As the runner does (PolicyGateway.delay): uniform in [0, capped delay].
            value = random.uniform(0.0, value)
        return value
