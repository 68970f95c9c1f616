"""Arguments out to the runtime and results back, for the client and the local runner.

Arguments are checked against `run()`'s signature here (a `TypeError` naming the parameter,
before anything is queued) and sent as plain JSON: the runtime validates and coerces them
against `run()`'s annotations again, because a queued row is data. Results come back in the
journal's tagged form and are rebuilt as Python values (models, tuples, sets); only types the
workflow's own bundle declares are constructed, the same allow-list the workers apply.
"""

from __future__ import annotations

import inspect
from typing import Any

from . import serialization
from .toolchain import CompiledWorkflow


class WorkflowError(Exception):
    """A workflow failed with an exception whose class this process cannot name."""

    def __init__(self, type_name: str, message: str) -> None:
        super().__init__(f"{type_name}: {message}")
        self.type_name = type_name
        self.message = message


def arguments(run: Any, args: tuple, kwargs: dict) -> dict[str, Any]:
    """`run()`'s arguments by name as plain JSON values; `TypeError` when they do not bind."""
    signature = inspect.signature(run)
    try:
        bound = signature.bind(None, *args, **kwargs)
    except TypeError as error:
        raise TypeError(f"{run.__qualname__}(): {error}") from None
    plain: dict[str, Any] = {}
    for name, value in list(bound.arguments.items())[1:]:
        kind = signature.parameters[name].kind
        if kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            raise TypeError(f"{run.__qualname__}(): *args and **kwargs cannot be queued; name each argument")
        try:
            plain[name] = serialization.plain(value)
        except Exception as error:  # noqa: BLE001 - any unencodable value is the caller's TypeError
            raise TypeError(f"{run.__qualname__}(): argument {name!r} cannot be sent as JSON: {error}") from None
    return plain


_declared: set[str] = set()
_modules: set[str] = set()


def decode_value(compiled: CompiledWorkflow, tagged: Any) -> Any:
    """A tagged result as a Python value, constructing only types the bundles of this process declare."""
    # The app's own bundles (code it compiled), so the allowed set only grows.
    _declared.update(compiled.declared_types)
    _modules.update(compiled.action_modules + (compiled.module,))
    serialization.allow(sorted(_declared), sorted(_modules))
    return serialization.decode(tagged)


def exception(compiled: CompiledWorkflow, error: Any) -> BaseException:
    """The workflow's failure as the exception Python would have raised, rebuilt by the same
    code (and under the same allow-list) as every tagged value: a builtin, or a class of the
    workflow's or its actions' modules, never imported and never chosen from elsewhere; with its
    args and attributes, and the action's traceback as a note. Else `WorkflowError`."""
    if not isinstance(error, dict):
        return WorkflowError("Error", str(error))
    type_name, message = str(error.get("type", "Exception")), str(error.get("message", ""))
    whole = error.get("exception")
    if not isinstance(whole, dict):
        # Recorded by type and message only (a result that could not be stored, a poisoned
        # instance): a builtin class by that name, else WorkflowError.
        whole = {serialization.TAG: "exception", "type": type_name, "module": "builtins", "message": message}
    rebuilt = decode_value(compiled, whole)
    if not isinstance(rebuilt, BaseException) or (type(rebuilt) is Exception and type_name != "Exception"):
        # The class is not one this process may rebuild: keep its name in the error.
        rebuilt = WorkflowError(type_name, message)
    trace = whole.get("traceback")
    if isinstance(trace, str) and trace and hasattr(rebuilt, "add_note"):
        rebuilt.add_note("Raised in a waymark worker:\n" + trace.rstrip())
    return rebuilt
