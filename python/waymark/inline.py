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


def outcome(file: str, workflow: str, arguments: dict) -> tuple[dict, dict]:
    """The outcome of one run, tagged (the journal's form) and plain (what people read)."""
    scale_sleeps()
    name, root = module_name(file)
    if root not in sys.path:
        sys.path.insert(0, root)
    module = importlib.import_module(name)
    cls = getattr(module, workflow)
    try:
        value = asyncio.run(cls().run(**arguments))
    except Exception as error:  # noqa: BLE001 - the outcome is the error
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
    options = parser.parse_args()
    from .serialization import decode

    arguments = decode(json.loads(options.input))
    tagged, plain_outcome = outcome(options.file, options.workflow, arguments)
    if options.tagged:
        print(dumps(tagged))
    print(dumps(plain_outcome))
    if not plain_outcome["ok"]:
        sys.exit(1)


if __name__ == "__main__":
    entry()
