"""The worker process `waymark-run` starts: `python -m waymark.worker`.

Protocol: length-prefixed frames (4-byte big-endian length, then UTF-8 JSON) on stdin/stdout.
Runner -> worker: {"type": "dispatch", "id", "token", "module", "function", "args"} and
{"type": "shutdown"}. Worker -> runner: {"type": "ready", "pid"} once, then
{"type": "result", "id", "token", "ok": true, "value"} or {"ok": false, "error": <exception>}.

Actions run as asyncio tasks, at most --concurrency at once; sync actions run in a thread. A
worker that dies takes its in-flight actions with it: the runner treats them as lost and retries.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import json
import os
import struct
import sys
import threading
from typing import Any

from .actions import ActionInvocation, signature_of
from .serialization import SerializationError, allow, decode, encode, encode_exception


class Worker:
    def __init__(self, concurrency: int, output):
        self.semaphore = asyncio.Semaphore(concurrency)
        self.output = output
        self.write_lock = threading.Lock()
        self.outbox: list[bytes] = []
        self.flush_scheduled = False
        self.functions: dict[tuple[str, str], Any] = {}
        # The modules dispatches may name (None: any module, still only @action functions).
        self.modules: frozenset[str] | None = None

    def send(self, message: dict) -> None:
        """Queues a frame; frames queued in one turn of the event loop go out in one write."""
        data = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
        with self.write_lock:
            self.outbox.append(struct.pack(">I", len(data)))
            self.outbox.append(data)
            if self.flush_scheduled:
                return
            self.flush_scheduled = True
        asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        with self.write_lock:
            frames, self.outbox = self.outbox, []
            self.flush_scheduled = False
        if frames:
            self.output.write(b"".join(frames))
            self.output.flush()

    def resolve(self, module_name: str, function_name: str):
        """The @action function a dispatch names. Only modules the bundle's actions come from are
        imported, and only functions the @action decorator marked are called."""
        key = (module_name, function_name)
        if key not in self.functions:
            if self.modules is not None and module_name not in self.modules:
                raise PermissionError(f"module {module_name!r} holds none of the bundle's actions; refusing to import it")
            module = importlib.import_module(module_name)
            function = getattr(module, function_name, None)
            if function is None or getattr(function, "__waymark_action__", None) is None:
                raise PermissionError(f"{module_name}.{function_name} is not an @action function; workers call only @action functions")
            self.functions[key] = function.__wrapped_action__
        return self.functions[key]

    async def run(self, message: dict) -> None:
        async with self.semaphore:
            reply = {"type": "result", "id": message["id"], "token": message.get("token", 0)}
            qualified = f"{message['module']}.{message['function']}"
            try:
                function = self.resolve(message["module"], message["function"])
                args, varargs = self.arguments(function, message.get("args", {}), qualified)
                value = await ActionInvocation(qualified, function, varargs, args).execute()
                try:
                    reply.update(ok=True, value=encode(value))
                except SerializationError as error:
                    raise SerializationError(f"action {qualified} returned a value that cannot be serialized: {error}") from None
            except Exception as error:  # noqa: BLE001 - every failure goes back to the runner
                reply.update(ok=False, error=encode_exception(error))
            self.send(reply)

    @staticmethod
    def arguments(function, encoded: dict, qualified: str) -> tuple[dict, tuple]:
        signature = signature_of(function)
        args: dict[str, Any] = {}
        varargs: tuple = ()
        for name, raw in encoded.items():
            try:
                value = decode(raw)
            except Exception as error:  # noqa: BLE001
                raise SerializationError(f"argument {name!r} of action {qualified} cannot be decoded: {error}") from None
            parameter = signature.parameters.get(name)
            if parameter is not None and parameter.kind is inspect.Parameter.VAR_POSITIONAL:
                varargs = tuple(value)
                continue
            args[name] = value
        return args, varargs


def read_frames(fd: int, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue) -> None:
    """Reads the runner's frames in large chunks and hands each chunk's messages over at once."""
    buffer = b""
    while True:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            break
        buffer += chunk
        messages = []
        offset = 0
        while len(buffer) - offset >= 4:
            (length,) = struct.unpack_from(">I", buffer, offset)
            if len(buffer) - offset - 4 < length:
                break
            messages.append(json.loads(buffer[offset + 4 : offset + 4 + length]))
            offset += 4 + length
        buffer = buffer[offset:]
        if messages:
            loop.call_soon_threadsafe(queue.put_nowait, messages)
    loop.call_soon_threadsafe(queue.put_nowait, None)


async def main(concurrency: int) -> None:
    stdin = sys.stdin.buffer
    stdout = sys.stdout.buffer
    # Anything an action prints must not corrupt the protocol stream.
    sys.stdout = sys.stderr
    worker = Worker(concurrency, stdout)
    policy = json.loads(os.environ.pop("WAYMARK_WORKER_POLICY", "null") or "null")
    if isinstance(policy, dict):
        worker.modules = frozenset(policy.get("modules") or [])
        allow(list(policy.get("types") or []), list(worker.modules))
    queue: asyncio.Queue = asyncio.Queue()
    loop = asyncio.get_running_loop()
    threading.Thread(target=read_frames, args=(stdin.fileno(), loop, queue), daemon=True).start()
    worker.send({"type": "ready", "pid": os.getpid()})
    tasks: set[asyncio.Task] = set()
    running = True
    while running:
        messages = await queue.get()
        for message in messages or [None]:
            if message is None or message.get("type") == "shutdown":
                running = False
                break
            if message.get("type") == "dispatch":
                task = asyncio.create_task(worker.run(message))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)
    worker.flush()


def entry() -> None:
    parser = argparse.ArgumentParser(prog="waymark.worker")
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--path", action="append", default=[], help="a directory to import user modules from")
    options = parser.parse_args()
    for path in reversed(options.path):
        if path not in sys.path:
            sys.path.insert(0, path)
    asyncio.run(main(max(1, options.concurrency)))


if __name__ == "__main__":
    entry()
