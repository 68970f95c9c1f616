"""Dependency injection for actions: `Annotated[T, Depend(provider)]`.

The worker resolves providers before calling an action, as FastAPI does: a provider may be a
plain or async function, or a (async) generator used as a context manager whose cleanup runs
after the action. Providers may themselves depend on other providers.
"""

from __future__ import annotations

import inspect
from contextlib import AsyncExitStack
from typing import Annotated, Any, Callable, get_args, get_origin, get_type_hints


class Depend:
    def __init__(self, provider: Callable[..., Any]):
        self.provider = provider

    def __repr__(self) -> str:
        return f"Depend({getattr(self.provider, '__name__', self.provider)!r})"


Depends = Depend


_dependencies: dict[Callable[..., Any], dict[str, Depend]] = {}


def dependencies_of(function: Callable[..., Any]) -> dict[str, Depend]:
    """The parameters of `function` that are injected, with their providers (worked out once
    per function)."""
    found = _dependencies.get(function)
    if found is None:
        found = _find_dependencies(function)
        try:
            _dependencies[function] = found
        except TypeError:  # an unhashable callable: nothing to cache it by
            pass
    return found


def _find_dependencies(function: Callable[..., Any]) -> dict[str, Depend]:
    try:
        hints = get_type_hints(function, include_extras=True)
    except Exception:
        hints = getattr(function, "__annotations__", {})
    found: dict[str, Depend] = {}
    for name, hint in hints.items():
        if get_origin(hint) is Annotated:
            for extra in get_args(hint)[1:]:
                if isinstance(extra, Depend):
                    found[name] = extra
    return found


async def resolve(function: Callable[..., Any], stack: AsyncExitStack, cache: dict | None = None) -> dict[str, Any]:
    """Calls the providers `function` needs, entering context-manager providers on `stack`."""
    cache = {} if cache is None else cache
    values: dict[str, Any] = {}
    for name, depend in dependencies_of(function).items():
        provider = depend.provider
        if provider not in cache:
            kwargs = await resolve(provider, stack, cache)
            if inspect.isasyncgenfunction(provider):
                cache[provider] = await stack.enter_async_context(_async_context(provider, kwargs))
            elif inspect.isgeneratorfunction(provider):
                cache[provider] = stack.enter_context(_sync_context(provider, kwargs))
            else:
                value = provider(**kwargs)
                cache[provider] = await value if inspect.isawaitable(value) else value
        values[name] = cache[provider]
    return values


def _async_context(provider, kwargs):
    from contextlib import asynccontextmanager

    return asynccontextmanager(provider)(**kwargs)


def _sync_context(provider, kwargs):
    from contextlib import contextmanager

    return contextmanager(provider)(**kwargs)
