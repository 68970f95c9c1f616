"""Arguments out to the runtime and results back, for the client and the local runner.

Arguments are checked against `run()`'s signature here (a `TypeError` naming the parameter,
before anything is queued) and sent as plain JSON: the runtime validates and coerces them
against `run()`'s annotations again, because a queued row is data. Results come back in the
journal's tagged form and are rebuilt as Python values (models, tuples, sets); only types the
workflow's own bundle declares are constructed, the same allow-list the workers apply.
"""

from __future__ import annotations

import builtins
import inspect
import sys
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
    """The workflow's failure as the exception Python would have raised: a builtin, or a class of
    the workflow's or its actions' modules (already imported by the app; nothing is imported),
    else `WorkflowError`; with its args and attributes, and the action's traceback as a note."""
    if not isinstance(error, dict):
        return WorkflowError("Error", str(error))
    whole = error.get("exception") if isinstance(error.get("exception"), dict) else {}
    type_name, message = str(error.get("type", "Exception")), str(error.get("message", ""))
    module_name = str(whole.get("module") or "")
    cls = getattr(builtins, type_name, None) if module_name in ("", "builtins") else None
    if not (isinstance(cls, type) and issubclass(cls, BaseException)):
        cls = None
        # The module the exception names when it is known, else the workflow's own modules.
        modules = [module_name] if module_name not in ("", "builtins") else [compiled.module, *compiled.action_modules]
        for name in modules:
            candidate = getattr(sys.modules.get(name), type_name, None)
            if isinstance(candidate, type) and issubclass(candidate, BaseException):
                cls = candidate
                break
    rebuilt: BaseException = WorkflowError(type_name, message)
    if cls is not None:
        args = whole.get("args")
        try:
            rebuilt = cls(*[decode_value(compiled, arg) for arg in args]) if isinstance(args, list) else cls(message)
        except Exception:  # noqa: BLE001 - a constructor that wants other arguments
            try:
                rebuilt = cls(message)
            except Exception:  # noqa: BLE001
                pass
    for name, value in (whole.get("attrs") or {}).items():
        try:
            setattr(rebuilt, name, decode_value(compiled, value))
        except Exception:  # noqa: BLE001 - an attribute the class does not allow stays off
            pass
    trace = whole.get("traceback")
    if isinstance(trace, str) and trace and hasattr(rebuilt, "add_note"):
        rebuilt.add_note("Raised in a waymark worker:\n" + trace.rstrip())
    return rebuilt
