"""The @action decorator and the registry the workers look actions up in."""

from __future__ import annotations

import functools
import inspect
import typing
from contextlib import AsyncExitStack
from typing import Any, Callable

from .dependencies import dependencies_of, resolve

registry: dict[str, Callable[..., Any]] = {}


class WaymarkTimeout(TimeoutError):
    """Waymark's synthetic timeout (the name waymark's README gives it): an action attempt was
    taken but did not finish in the time allocated, because it ran too long or its worker died."""


class ActionTimeout(WaymarkTimeout):
    """An action attempt did not finish within its timeout (or its worker died running it)."""


_signatures: dict[Callable[..., Any], inspect.Signature] = {}
_shapes: dict[Callable[..., Any], tuple[inspect.Signature, dict[str, Any], bool]] = {}
_plain: dict[Callable[..., Any], bool] = {}


def signature_of(fn: Callable[..., Any]) -> inspect.Signature:
    """`inspect.signature`, once per function: it is slow, and every dispatch needs it."""
    found = _signatures.get(fn)
    if found is None:
        found = _signatures[fn] = inspect.signature(fn)
    return found


def shape(fn: Callable[..., Any]) -> tuple[inspect.Signature, dict[str, Any], bool]:
    """An action's signature, its resolved type hints, and whether any argument could need
    coercing: worked out once per function, since every call of a hot action needs them."""
    found = _shapes.get(fn)
    if found is None:
        signature = signature_of(fn)
        hints = typing.get_type_hints(fn, include_extras=True)
        plain = (int, str, float, bool, bytes, type(None), inspect.Parameter.empty)
        coercible = any(
            hints.get(name, parameter.annotation) not in plain
            for name, parameter in signature.parameters.items()
            if parameter.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        )
        found = (signature, hints, coercible)
        _shapes[fn] = found
    return found


def plain(fn: Callable[..., Any]) -> bool:
    """Whether calling `fn` is all an invocation does: it is async, nothing is injected and no
    argument could need coercing. Worked out once per function: a worker asks at every dispatch."""
    found = _plain.get(fn)
    if found is None:
        try:
            found = inspect.iscoroutinefunction(fn) and not dependencies_of(fn) and not shape(fn)[2]
        except Exception:  # noqa: BLE001 - unresolvable annotations: the general path handles them
            found = False
        _plain[fn] = found
    return found


def coerce_arguments(fn: Callable[..., Any], args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """Arguments as the action's annotations ask (dicts become pydantic models or dataclasses),
    the same in a worker and inline."""
    from .serialization import coerce

    try:
        signature, hints, coercible = shape(fn)
        if not coercible:
            return args, kwargs
        bound = signature.bind_partial(*args, **kwargs)
    except Exception:  # noqa: BLE001 - unresolvable annotations or a bad call: leave it to Python
        return args, kwargs
    for name, value in bound.arguments.items():
        parameter = bound.signature.parameters[name]
        if parameter.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            continue
        bound.arguments[name] = coerce(value, hints.get(name, parameter.annotation))
    return bound.args, bound.kwargs


class ActionInvocation:
    """One call of an action: awaiting it runs the action once; `execute()` runs a fresh attempt.

    Calling an action returns this instead of a coroutine so that `Workflow.run_action` can retry
    the same call, as the runner does.
    """

    def __init__(self, key: str, function: Callable[..., Any], args: tuple, kwargs: dict):
        self.key = key
        self.function = function
        self.args = args
        self.kwargs = kwargs

    async def execute(self) -> Any:
        fn = self.function
        if plain(fn):
            return await fn(*self.args, **self.kwargs)
        args, kwargs = coerce_arguments(fn, self.args, self.kwargs)
        if not dependencies_of(fn):
            if inspect.iscoroutinefunction(fn):
                return await fn(*args, **kwargs)
            import asyncio

            return await asyncio.to_thread(functools.partial(fn, *args, **kwargs))
        async with AsyncExitStack() as stack:
            injected = await resolve(fn, stack)
            for name in list(injected):
                if name in kwargs:
                    injected.pop(name)
            if inspect.iscoroutinefunction(fn):
                return await fn(*args, **kwargs, **injected)
            import asyncio

            return await asyncio.to_thread(functools.partial(fn, *args, **kwargs, **injected))

    def __await__(self):
        return self.execute().__await__()

    def __repr__(self) -> str:
        return f"<action call {self.key}>"


def action(function: Callable[..., Any] | None = None, *, name: str | None = None):
    """Marks a function (sync or async) as an action: distributed, retryable work.

    Called directly (inline mode, or from tests), an action resolves its `Depend` parameters and
    runs in the current process. Sync actions run in a thread so they never block the loop.
    """

    def decorate(fn: Callable[..., Any]):
        key = f"{fn.__module__}.{name or fn.__name__}"

        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> ActionInvocation:
            return ActionInvocation(key, fn, args, kwargs)

        call.__waymark_action__ = key  # type: ignore[attr-defined]
        call.__wrapped_action__ = fn  # type: ignore[attr-defined]
        registry[key] = fn
        return call

    if function is not None:
        return decorate(function)
    return decorate
