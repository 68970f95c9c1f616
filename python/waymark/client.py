"""The durable path: queue an instance in Postgres and await its result.

With `WAYMARK_DATABASE_URL` set, `await W().run(...)` inserts an instance row (and notifies the
servers on `waymark_work`), then waits for the row to complete: the servers notify
`waymark_done` when instances finish (a statement trigger, one notification per completing
statement), and a slow poll is the safety net for a notification missed while reconnecting. The
instance is durable from the insert on: an app cancelled while waiting leaves it running, and
`handle(id)` finds it again.

psycopg 3 is the driver (async, LISTEN/NOTIFY, binary wheels); it is imported only here, so
worker processes never need it.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
import uuid
import weakref
from dataclasses import dataclass
from typing import Any

from . import outcomes
from .toolchain import CompiledWorkflow

WORK_CHANNEL = "waymark_work"
DONE_CHANNEL = "waymark_done"
# How often waiting results are checked without a notification (the safety net).
POLL_SECONDS = float(os.environ.get("WAYMARK_CLIENT_POLL_SECONDS", "2"))


class ConnectionError_(ConnectionError):
    """The database cannot be reached; the message never holds the URL's password."""


def database_url() -> str | None:
    url = os.environ.get("WAYMARK_DATABASE_URL")
    if url:
        return url
    path = os.environ.get("WAYMARK_DATABASE_URL_FILE")
    if path:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    return None


def redact(text: str, url: str) -> str:
    """`text` with the URL's password (and the URL itself) removed."""
    password = re.match(r"^[a-z]+://[^:/@]*:([^@]*)@", url)
    if url:
        text = text.replace(url, "<database url>")
    if password and password.group(1):
        text = text.replace(password.group(1), "***")
    return text


FINISHED = ("completed", "failed", "cancelled")


@dataclass(frozen=True)
class Status:
    """Where an instance is: queued, running, sleeping, completed, failed or cancelled."""

    id: str
    workflow: str
    status: str

    @property
    def done(self) -> bool:
        return self.status in FINISHED


async def _waymark_run(*arguments: str) -> str:
    """Runs a `waymark-run` subcommand against the app's database; its output, or its error
    (the database password left out) raised as LookupError."""
    from . import toolchain

    process = await asyncio.create_subprocess_exec(
        toolchain.executable("waymark-run"), *arguments,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=dict(os.environ),
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        message = err.decode("utf-8", "replace").strip().removeprefix("waymark-run: error: ")
        raise LookupError(redact(message, database_url() or ""))
    return out.decode("utf-8", "replace")


class _Connections:
    """One connection for statements and one listening, per event loop (psycopg connections
    belong to the loop they were opened on)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.lock = asyncio.Lock()
        self.statements: Any = None
        self.listener: asyncio.Task | None = None
        self.waiters: dict[str, list[asyncio.Future]] = {}

    async def connect(self) -> Any:
        import psycopg

        try:
            return await psycopg.AsyncConnection.connect(self.url, autocommit=True)
        except psycopg.OperationalError as error:
            raise ConnectionError_(f"cannot connect to the waymark database: {redact(str(error), self.url)}") from None

    async def execute(self, sql: str, parameters: tuple | list = ()) -> list[tuple]:
        import psycopg

        async with self.lock:
            for attempt in (1, 2):
                if self.statements is None or self.statements.closed:
                    self.statements = await self.connect()
                try:
                    cursor = await self.statements.execute(sql, parameters)
                    return await cursor.fetchall() if cursor.description else []
                except psycopg.OperationalError as error:
                    # The server restarted or the connection dropped: reconnect once.
                    self.statements = None
                    if attempt == 2:
                        raise ConnectionError_(f"waymark database: {redact(str(error), self.url)}") from None
        return []

    def watch(self, instance: str) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self.waiters.setdefault(instance, []).append(future)
        if self.listener is None or self.listener.done():
            self.listener = asyncio.get_running_loop().create_task(self.listen())
        return future

    def unwatch(self, instance: str, future: asyncio.Future) -> None:
        futures = self.waiters.get(instance, [])
        if future in futures:
            futures.remove(future)
        if not futures:
            self.waiters.pop(instance, None)

    async def listen(self) -> None:
        """Wakes waiters whose instances finished; reconnects after an outage."""
        while self.waiters:
            try:
                connection = await self.connect()
            except ConnectionError_:
                await asyncio.sleep(POLL_SECONDS)
                continue
            try:
                await connection.execute(f"LISTEN {DONE_CHANNEL}")
                # Anything that finished before LISTEN took effect.
                await self.check(list(self.waiters))
                while self.waiters:
                    ids: set[str] = set()
                    everything = True  # nothing arrived within the poll: check every waiter
                    async for notice in connection.notifies(timeout=POLL_SECONDS, stop_after=1):
                        everything = not notice.payload
                        ids.update(notice.payload.split(",") if notice.payload else ())
                    waiting = list(self.waiters) if everything else [i for i in ids if i in self.waiters]
                    if waiting:
                        await self.check(waiting)
            except Exception:  # noqa: BLE001 - the connection failed: reconnect and check again
                await asyncio.sleep(0.1)
            finally:
                await connection.close()

    async def check(self, ids: list[str]) -> None:
        rows = await self.execute(
            "SELECT id, status, result, error FROM waymark_instances WHERE id = ANY(%s) AND status = ANY(%s)",
            (ids, list(FINISHED)),
        )
        for instance, status, result, error in rows:
            for future in self.waiters.pop(instance, []):
                if not future.done():
                    future.set_result((status, result, error))


_per_loop: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Connections]" = weakref.WeakKeyDictionary()


def _connections() -> _Connections:
    url = database_url()
    if not url:
        raise ConnectionError_("WAYMARK_DATABASE_URL is not set")
    loop = asyncio.get_running_loop()
    connections = _per_loop.get(loop)
    if connections is None or connections.url != url:
        connections = _Connections(url)
        _per_loop[loop] = connections
    return connections


_INSERT = f"""
    WITH version AS (
        INSERT INTO waymark_workflow_versions (version, name)
        SELECT DISTINCT version, workflow FROM unnest(%s::text[], %s::text[]) AS t(version, workflow)
        ON CONFLICT (version) DO NOTHING
    ), created AS (
        INSERT INTO waymark_instances (id, workflow, version, status, input)
        SELECT id, workflow, version, 'queued', input FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[]) AS t(id, workflow, version, input)
        RETURNING id
    )
    SELECT pg_notify('{WORK_CHANNEL}', id) FROM created
"""


_REGISTER = """
    INSERT INTO waymark_workflow_versions (version, name, bundle) VALUES (%s, %s, %s)
    ON CONFLICT (version) DO UPDATE SET bundle = excluded.bundle WHERE waymark_workflow_versions.bundle IS NULL
"""

# The (database, version) pairs this process registered: one registration per version.
_registered: set[tuple[str, str]] = set()


async def register(compiled: CompiledWorkflow) -> None:
    """Stores the workflow's bundle in the database under its version (once per process), so
    servers started with `serve --registered` (`waymark-start-workers`) can run it."""
    connections = _connections()
    key = (connections.url, compiled.version)
    if key in _registered:
        return
    with open(compiled.bundle, encoding="utf-8") as handle:
        text = handle.read()
    await connections.execute(_REGISTER, (compiled.version, compiled.name, text))
    _registered.add(key)


def instance_id() -> str:
    """A new instance id: a time-ordered UUID (version 7, RFC 9562: 48 bits of Unix
    milliseconds, then 74 random bits), as the runtime makes them. Ids made in order land at
    the right edge of the instances' and the journal's primary-key indexes instead of on a
    random page of each, which kept statement time a third lower under load."""
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big") & ((1 << 80) - 1)
    value = value & ~(0xF << 76) | 0x7 << 76  # version 7
    value = value & ~(0x3 << 62) | 0x2 << 62  # RFC 4122 variant
    return str(uuid.UUID(int=value))


async def submit_many(compiled: CompiledWorkflow, inputs: list[dict[str, Any]]) -> list["WorkflowHandle"]:
    """Queues one instance per input in one statement (one round trip, after the version's
    registration the first time); returns their handles."""
    await register(compiled)
    ids = [instance_id() for _ in inputs]
    texts = [json.dumps(item, separators=(",", ":"), ensure_ascii=False) for item in inputs]
    count = len(inputs)
    await _connections().execute(
        _INSERT,
        ([compiled.version] * count, [compiled.name] * count, ids, [compiled.name] * count, [compiled.version] * count, texts),
    )
    return [WorkflowHandle(instance, compiled) for instance in ids]


class WorkflowHandle:
    """A queued instance: `id`, `await status()`, `await result(timeout=...)`."""

    def __init__(self, id: str, compiled: CompiledWorkflow | None = None) -> None:
        self.id = id
        self._compiled = compiled

    def __repr__(self) -> str:
        return f"WorkflowHandle({self.id!r})"

    def __str__(self) -> str:
        return self.id

    async def status(self) -> Status:
        rows = await _connections().execute("SELECT id, workflow, status FROM waymark_instances WHERE id = %s", (self.id,))
        if not rows:
            raise LookupError(f"no waymark instance {self.id}")
        return Status(*rows[0])

    async def retry(self) -> None:
        """Queues the failed instance again, to resume at the action that failed (completed
        actions are not run again): `waymark-run retry`, so the rule has one definition."""
        await _waymark_run("retry", self.id)

    async def cancel(self) -> bool:
        """Cancels the instance as `task.cancel()` would: its `run()` gets
        `asyncio.CancelledError` at the await it is at (handlers and finally blocks run), on
        whichever server runs it, durably. True when it had not started (it never will); False
        when the cancellation was requested (await `result()` to see how it ended). Raises
        LookupError when the instance has ended or does not exist. `waymark-run cancel`."""
        return (await _waymark_run("cancel", self.id)).strip() == "cancelled"

    async def result(self, timeout: float | None = None) -> Any:
        """The workflow's value, or its exception raised. A timeout (or a cancelled caller)
        leaves the instance running; ask again later."""
        connections = _connections()
        future = connections.watch(self.id)
        try:
            # The row may have finished before the watch began.
            await connections.check([self.id])
            status, result, error = await asyncio.wait_for(asyncio.shield(future), timeout)
        finally:
            connections.unwatch(self.id, future)
        compiled = self._compiled
        if compiled is None:
            raise LookupError(f"instance {self.id}: its workflow class is unknown here; use WorkflowClass.handle(id)")
        if status == "completed":
            return outcomes.decode_value(compiled, json.loads(result) if result is not None else None)
        if status == "cancelled":
            # As awaiting a cancelled task does.
            raise asyncio.CancelledError()
        raise outcomes.exception(compiled, json.loads(error) if error else {"type": "WorkflowError", "message": "failed"})
