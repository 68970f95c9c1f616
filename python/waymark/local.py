"""Local mode: `await W().run(...)` without a database runs the *compiled* program.

Under pytest, and wherever `WAYMARK_DATABASE_URL` is not set, a workflow's `run()` is compiled
with waymarkc and executed by `waymark-run` on its in-memory store with real worker processes
(the interpreter of this process, so the app's virtualenv), returning the same values the durable
path returns. A workflow that does not compile fails its test, as it would fail in production.
`WAYMARK_INLINE=1` keeps plain-Python inline execution (the parity baseline).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from typing import Any

from . import outcomes
from .toolchain import CompiledWorkflow, ToolchainError, executable


class LocalRunError(RuntimeError):
    """waymark-run refused the run (bad input, a bundle it cannot load, workers that cannot start)."""


def _environment() -> dict[str, str]:
    environment = dict(os.environ)
    # The in-memory store, always: a local run must never touch a configured database.
    for name in ("WAYMARK_DATABASE_URL", "WAYMARK_DATABASE_URL_FILE"):
        environment.pop(name, None)
    environment.setdefault("WAYMARK_PYTHON", sys.executable)
    return environment


async def run(compiled: CompiledWorkflow, arguments: dict[str, Any]) -> Any:
    """Runs one instance to its end and returns its value, or raises its exception."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as handle:
        # A file, not argv: an argument is capped at 128 KiB on Linux.
        handle.write(json.dumps(arguments, separators=(",", ":")) + "\n")
        inputs = handle.name
    try:
        process = await asyncio.create_subprocess_exec(
            executable("waymark-run"),
            compiled.bundle,
            "--workflow", compiled.name,
            "--inputs", inputs,
            "--canonical", "--tagged", "--quiet",
            "--allow-search-path", compiled.root,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=_environment(),
        )
        out, err = await process.communicate()
    finally:
        os.unlink(inputs)
    lines = out.decode("utf-8", "replace").strip().splitlines()
    if process.returncode not in (0, 1) or not lines:
        message = err.decode("utf-8", "replace").strip() or f"waymark-run exited with status {process.returncode}"
        if process.returncode == 2 and "does not match run()" in message:
            raise TypeError(message)
        raise LocalRunError(message)
    try:
        outcome = json.loads(lines[-1])
    except ValueError as error:
        raise ToolchainError(f"waymark-run printed no outcome: {error}: {lines[-1][:200]!r}") from None
    if outcome.get("ok"):
        return outcomes.decode_value(compiled, outcome.get("value"))
    if "error" in outcome:
        raise outcomes.exception(compiled, outcome["error"])
    raise LocalRunError(f"{compiled.name} did not finish: {outcome}")
