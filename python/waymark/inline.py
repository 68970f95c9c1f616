"""Inline mode from the command line: run a workflow's `run()` directly in Python and print the
outcome as plain JSON, exactly as `waymark-run --canonical` prints it; exit 1 when the workflow
fails, as `waymark-run` does. The parity tests compare the two.

    python -m waymark.inline FILE.py --workflow Name --input '{"x": 1}'

`--tagged` (for the parity tests) prints the outcome twice: first in the strict tagged form the
journal keeps (tuples, sets, models and their types kept apart), then the plain form.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import sys
import typing

from .serialization import dumps, encode, encode_exception, plain


def module_name(path: str) -> tuple[str, str]:
    """The dotted module name of a file and its import root (walking up through __init__.py)."""
    path = os.path.abspath(path)
    directory, filename = os.path.split(path)
    parts = [os.path.splitext(filename)[0]]
    while os.path.exists(os.path.join(directory, "__init__.py")):
        directory, package = os.path.split(directory)
        parts.insert(0, package)
    return ".".join(parts), directory


def scale_sleeps() -> None:
    """WAYMARK_SLEEP_SCALE scales the workflow's own sleeps, as the runner's --sleep-scale does;
    sleeps inside actions run as written (they are the action's business, and its timeout's)."""
    scale = float(os.environ.get("WAYMARK_SLEEP_SCALE", "1"))
    if scale == 1:
        return
    from .workflow import Workflow

    original = asyncio.sleep

    async def scaled(delay, result=None):
        caller = sys._getframe(1)
        if isinstance(caller.f_locals.get("self"), Workflow):
            delay = delay * scale
        return await original(delay, result)

    asyncio.sleep = scaled


class InputError(ValueError):
    """run()'s input does not fit its annotations."""


def coerce_inputs(run, arguments: dict) -> dict:
    """run()'s arguments validated and coerced against its annotations, as pydantic's lax mode
    does (and as the runner does before it stores an instance): dicts become models, ISO text
    datetimes, "5" an int."""
    try:
        hints = typing.get_type_hints(run)
    except Exception:  # noqa: BLE001 - unresolvable annotations: take the input as it is
        return arguments
    try:
        from pydantic import TypeAdapter, ValidationError
    except ImportError:
        return arguments
    coerced = {}
    for name, value in arguments.items():
        if name not in hints:
            coerced[name] = value
            continue
        try:
            coerced[name] = TypeAdapter(hints[name]).validate_python(value)
        except ValidationError as error:
            problems = []
            for item in error.errors():
                path = name + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in item["loc"])
                problems.append(f"{path}: {item['msg']}, got {item.get('input')!r}")
            raise InputError("input does not match run(): " + "; ".join(problems)) from None
    return coerced


async def cancelled(run_coroutine, when: str):
    """Runs the workflow as a task and cancels it (`task.cancel()`) once `when` holds: "sleeping"
    (the workflow awaits `asyncio.sleep`), or the name of a file under WAYMARK_TEST_STATE (an
    action creates it). The cancellation tests compare this with a cancelled durable instance."""
    from .workflow import Workflow

    original = asyncio.sleep
    sleeping = asyncio.Event()

    async def watched(delay, result=None):
        if isinstance(sys._getframe(1).f_locals.get("self"), Workflow):
            sleeping.set()
        return await original(delay, result)

    asyncio.sleep = watched
    state = os.environ.get("WAYMARK_TEST_STATE") or "/tmp/waymark-test-state"
    task = asyncio.ensure_future(run_coroutine)
    try:
        while not task.done():
            if sleeping.is_set() if when == "sleeping" else os.path.exists(os.path.join(state, when)):
                task.cancel()
                break
            await original(0.005)
        return await task
    finally:
        asyncio.sleep = original


def outcome(file: str, workflow: str, arguments: dict, cancel_when: str | None = None) -> tuple[dict, dict]:
    """The outcome of one run, tagged (the journal's form) and plain (what people read)."""
    scale_sleeps()
    # Workflows this one awaits run inline too (not queued, not compiled).
    os.environ["WAYMARK_INLINE"] = "1"
    name, root = module_name(file)
    if root not in sys.path:
        sys.path.insert(0, root)
    module = importlib.import_module(name)
    cls = getattr(module, workflow)
    # The method as written, not @workflow's wrapper (which would queue or compile it).
    run = getattr(cls, "__waymark_inline_run__", cls.run)
    arguments = coerce_inputs(run, arguments)
    try:
        coroutine = run(cls(), **arguments)
        value = asyncio.run(cancelled(coroutine, cancel_when) if cancel_when else coroutine)
    except (Exception, asyncio.CancelledError) as error:  # noqa: BLE001 - the outcome is the error
        encoded = encode_exception(error, canonical=True)
        failure = {"ok": False, "error": {"type": encoded["type"], "message": encoded["message"]}}
        return failure, failure
    return {"ok": True, "value": encode(value, canonical=True)}, {"ok": True, "value": plain(value)}


def entry() -> None:
    parser = argparse.ArgumentParser(prog="waymark.inline")
    parser.add_argument("file")
    parser.add_argument("--workflow", required=True)
    parser.add_argument("--input", default="{}")
    parser.add_argument("--tagged", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--cancel-when", help=argparse.SUPPRESS)
    options = parser.parse_args()
    from .serialization import allow, decode

    allow(None)  # inline mode: the developer's own code on their own input

    arguments = decode(json.loads(options.input))
    try:
        tagged, plain_outcome = outcome(options.file, options.workflow, arguments, options.cancel_when)
    except InputError as error:
        print(f"waymark.inline: error: {error}", file=sys.stderr)
        sys.exit(2)
    if options.tagged:
        print(dumps(tagged))
    print(dumps(plain_outcome))
    if not plain_outcome["ok"]:
        sys.exit(1)


if __name__ == "__main__":
    entry()
