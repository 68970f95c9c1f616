"""The worker process `waymark-run` starts: `python -m waymark.worker`.

Protocol: length-prefixed frames (4-byte big-endian length, then UTF-8 JSON) on a channel of its
own: the runner hands the worker fd 3 (runner -> worker) and fd 4 (worker -> runner), which the
worker moves at once to private fds that no subprocess inherits. fd 0 is /dev/null and fd 1 is the
runner's stderr, so nothing an action prints or writes (`os.write(1, ...)`, a subprocess's output,
closing fd 1) can reach the protocol.

Runner -> worker: {"type": "dispatch", "id", "token", "module", "function", "args"},
{"type": "cancel", "id", "timeout"?} (the runner gave up on it: its caller went away, or its
timeout passed on the runner's clock, when the worker holds the action to that timeout from when
it began here) and {"type": "shutdown"}.
Worker -> runner: {"type": "ready", "pid"} once, then exactly one
{"type": "result", "id", "token", "started", "finished", "ok": true, "value"} or {"ok": false,
"error": <exception>} per dispatch ("started" and "finished": time.monotonic_ns() when the action
began and ended, absent if it never did; "cancelled": true when the runner's cancel stopped it).
A cancel carrying a timeout that the worker holds until the action has run that long is
acknowledged with {"type": "holding", "id", "token", "until"} (monotonic ns), and a sync action
still running past its timeout is reported with {"type": "expired", "id", "token"} before its
result, which follows when its thread ends.
The token is the dispatch's secret: the worker takes it out of the frame before the action runs,
and the runner stops a worker that answers with a wrong one. Whatever an action does (returns a
value that cannot be encoded, raises `BaseException`, raises an exception whose `__str__` fails)
its dispatch gets an answer; an outcome that cannot be sent becomes a
SerializationError saying what could not be sent.

Actions run as asyncio tasks, at most --concurrency at once; sync actions run in a thread. A
cancel request cancels an async action; a sync one cannot be stopped, so it runs on and the
runner recycles the worker when it outlasts its grace period. A worker whose protocol reader or
writer fails exits at once so that the runner replaces it; it dies with the runner too
(parent-death signal, and end of input from a runner that is gone).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import concurrent.futures
import fcntl
import importlib
import inspect
import json
import json.scanner
import os
import signal
import struct
import sys
import time
from typing import Any

from .actions import ActionInvocation, plain, signature_of
from .serialization import TAG, SerializationError, allow, decode, encode, encode_exception

# The fds the runner hands over (see Sources/WaymarkRunner/Workers/WorkerSpawn.swift).
PROTOCOL_INPUT, PROTOCOL_OUTPUT = 3, 4
# Exit status of a worker whose protocol channel failed.
PROTOCOL_FAILURE = 70


def die(reason: str) -> None:
    """Leaves at once, without waiting for action threads: the runner sees the exit and replaces
    this worker."""
    try:
        sys.stderr.write(f"waymark worker {os.getpid()}: {reason}; exiting\n")
        sys.stderr.flush()
    finally:
        os._exit(PROTOCOL_FAILURE)


# The clock answers carry, bound here: an action that patches `time.monotonic_ns` (a test's
# frozen clock) must not change how long the worker says it ran.
_monotonic_ns = time.monotonic_ns

# One encoder for every frame: `json.dumps` with options builds a new JSONEncoder per call.
_frame_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
# And one decoder: `json.loads` of bytes first guesses their encoding (frames are UTF-8), then
# decodes them as this does.
_frame_decoder = json.JSONDecoder()


def _unencodable(value: Any) -> Any:
    raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")


def _c_encoder() -> Any:
    """CPython's C encoder with the frame encoder's options, called directly: the same text as
    `_frame_encoder.encode`, without its two Python frames per call (about a tenth of a no-op
    action's cost here). No circular-reference check: every frame is built by `encode`, which
    would have recursed without end on a cycle before this sees it. None without the C module."""
    make = getattr(json.encoder, "c_make_encoder", None)
    quote = getattr(json.encoder, "c_encode_basestring", None)
    if make is None or quote is None:
        return None
    try:
        return make(None, _unencodable, quote, None, ":", ",", False, False, True)
    except TypeError:  # another CPython's signature: the plain path is the same text
        return None


def _frame_writer() -> Any:
    """How a frame's message becomes text: the C encoder where there is one (chosen once, not
    per frame), else the frame encoder."""
    chunks = _c_encoder()
    if chunks is None:
        return _frame_encoder.encode
    return lambda message: "".join(chunks(message, 0))


_encode_frame = _frame_writer()


# The decoder's C scanner, called directly for the same reason. A frame it does not read whole
# (leading or trailing whitespace, bad JSON) goes through `decode`, which reads it or raises
# the usual error.
_scan_frame = json.scanner.make_scanner(_frame_decoder)


def _decode_frame(text: str) -> Any:
    try:
        value, end = _scan_frame(text, 0)
    except (StopIteration, ValueError):
        return _frame_decoder.decode(text)
    if end != len(text):
        return _frame_decoder.decode(text)
    return value


class FrameTooLarge(Exception):
    def __init__(self, size: int, limit: int):
        super().__init__(f"its encoding is {size:,} bytes, over the limit of {limit:,} bytes for one reply")


class Plan:
    """How to call one @action, worked out at its first dispatch, so that every later dispatch
    of a hot action skips `inspect`."""

    __slots__ = ("qualified", "function", "varargs", "cancellable", "direct")

    def __init__(self, qualified: str, function: Any):
        self.qualified = qualified
        self.function = function
        parameters = signature_of(function).parameters.values()
        # The name of its *args parameter: that argument arrives as a list.
        self.varargs = next((p.name for p in parameters if p.kind is inspect.Parameter.VAR_POSITIONAL), None)
        # Async: a cancel request stops it. Sync: it runs on in its thread.
        self.cancellable = inspect.iscoroutinefunction(function)
        # Calling it is all an invocation would do (async, nothing injected, nothing to
        # coerce): the worker awaits the call itself.
        self.direct = plain(function)


class Slots:
    """At most `count` actions run at once, first come first served: an `asyncio.Semaphore`
    whose common case (a slot is free: the runner sends no more than the worker's concurrency)
    is a plain method call instead of `async with` through Python's lock code."""

    __slots__ = ("free", "waiters")

    def __init__(self, count: int):
        self.free = count
        self.waiters: collections.deque[asyncio.Future] = collections.deque()

    def take(self) -> bool:
        """Takes a free slot, if one is free and no one waits for it."""
        if self.free > 0 and not self.waiters:
            self.free -= 1
            return True
        return False

    async def wait(self) -> None:
        """Waits for a slot that `give` hands over."""
        future = asyncio.get_running_loop().create_future()
        self.waiters.append(future)
        try:
            await future
        except asyncio.CancelledError:
            # Handed a slot just as it was cancelled: the next in line gets it.
            if future.done() and not future.cancelled():
                self.give()
            raise

    def give(self) -> None:
        """Returns a slot: to the first waiter still waiting, else to the free ones."""
        while self.waiters:
            future = self.waiters.popleft()
            if not future.done():
                future.set_result(None)
                return
        self.free += 1


class Running:
    """A dispatch this worker holds: its task, whether a cancel request may cancel it (async
    actions; a sync one runs on in its thread), its secret, when the action began, and why this
    worker cancelled it (None: it did not)."""

    __slots__ = ("task", "cancellable", "token", "started", "expired", "holding", "reason")

    def __init__(self, task: asyncio.Task, cancellable: bool, token: Any):
        self.task = task
        self.cancellable = cancellable
        self.token = token
        self.started: int | None = None
        self.expired = False
        self.holding = False
        self.reason: str | None = None


class Worker:
    def __init__(self, concurrency: int, output: int, max_frame_bytes: int):
        self.slots = Slots(concurrency)
        self.output = output
        self.max_frame_bytes = max_frame_bytes
        self.outbox: list[bytes] = []
        self.flush_scheduled = False
        self.plans: dict[tuple[str, str], Plan] = {}
        # Running dispatches, by id.
        self.running: dict[Any, Running] = {}
        # The modules dispatches may name (None: any module, still only @action functions).
        self.modules: frozenset[str] | None = None

    def frame(self, message: dict) -> bytes:
        data = _encode_frame(message).encode()
        if len(data) > self.max_frame_bytes:
            raise FrameTooLarge(len(data), self.max_frame_bytes)
        return len(data).to_bytes(4, "big") + data

    def send(self, frame: bytes) -> None:
        """Queues a frame; frames queued in one turn of the event loop go out in one write. Only
        the loop's thread sends (a sync action's answer is sent once its thread is done)."""
        self.outbox.append(frame)
        if not self.flush_scheduled:
            self.flush_scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        frames, self.outbox = self.outbox, []
        self.flush_scheduled = False
        if not frames:
            return
        try:
            view = memoryview(b"".join(frames))
            while view:
                view = view[os.write(self.output, view) :]
        except BaseException as error:  # noqa: BLE001 - a writer that fails ends the worker
            die(f"cannot write to the runner ({error!r})")

    def resolve(self, module_name: str, function_name: str) -> Plan:
        """The plan of the @action function a dispatch names. Only modules the bundle's actions
        come from are imported, and only functions the @action decorator marked are called."""
        key = (module_name, function_name)
        plan = self.plans.get(key)
        if plan is None:
            if self.modules is not None and module_name not in self.modules:
                raise PermissionError(f"module {module_name!r} holds none of the bundle's actions; refusing to import it")
            module = importlib.import_module(module_name)
            function = getattr(module, function_name, None)
            if function is None or getattr(function, "__waymark_action__", None) is None:
                raise PermissionError(f"{module_name}.{function_name} is not an @action function; workers call only @action functions")
            plan = self.plans[key] = Plan(f"{module_name}.{function_name}", function.__wrapped_action__)
        return plan

    def start(self, message: dict) -> None:
        # The secret leaves the message before anything of the action's runs.
        token = message.pop("token", 0)
        dispatch = message.get("id")
        try:
            plan: Plan | None = self.resolve(message.get("module"), message.get("function"))
        except BaseException:  # noqa: BLE001 - run() resolves again and answers with the failure
            plan = None
        # As `create_task` makes it (a copy of the context, this loop), without its Python frames.
        task = asyncio.Task(self.run(dispatch, token, message, plan), loop=asyncio.get_running_loop())
        self.running[dispatch] = Running(task, plan is None or plan.cancellable, token)

    def cancel(self, dispatch: Any, timeout: Any = None) -> None:
        """The runner gave up on a dispatch. Its caller went away (no timeout): an async action is
        cancelled now. Its timeout passed on the runner's clock (`timeout`, seconds): the action's
        own timeout counts from when it began here, as `asyncio.wait_for` around it would, so a
        dispatch that waited in the pipes on a busy machine is not cut short for that wait.
        Either way a sync action runs on in its thread, and the runner recycles the worker if it
        outlasts the grace period."""
        if dispatch not in self.running:
            return
        seconds = float(timeout) if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) else None
        # On the next turn of the loop: a task cancelled before its first step would never
        # enter `run` and so never answer; its first step is queued before this.
        asyncio.get_running_loop().call_soon(self.expire, dispatch, seconds)

    def expire(self, dispatch: Any, seconds: float | None) -> None:
        entry = self.running.get(dispatch)
        if entry is None or entry.expired:
            return
        if seconds is not None and entry.started is not None:
            until = entry.started + int(seconds * 1e9)
            remaining = (until - _monotonic_ns()) / 1e9
            if remaining > 0:
                if not entry.holding:
                    # The runner counts its grace period from here, not from its own deadline.
                    entry.holding = True
                    self.send(self.frame({"type": "holding", "id": dispatch, "token": entry.token, "until": until}))
                asyncio.get_running_loop().call_later(remaining, self.expire, dispatch, seconds)
                return
        if entry.cancellable or entry.started is None:
            entry.reason = "its timeout passed" if seconds is not None else "its result is no longer wanted"
            entry.task.cancel()
        elif seconds is not None:
            # A sync action past its timeout: the runner hears so now (its result, sent when
            # the thread ends, is dropped there), and recycles this worker if it never ends.
            entry.expired = True
            self.send(self.frame({"type": "expired", "id": dispatch, "token": entry.token}))

    async def run(self, dispatch: Any, token: Any, message: dict, plan: Plan | None = None) -> None:
        qualified = plan.qualified if plan is not None else f"{message.get('module')}.{message.get('function')}"
        ok, outcome, started, finished, cancelled = False, None, None, None, False
        slots = self.slots
        try:
            if not slots.take():
                await slots.wait()
        except asyncio.CancelledError:
            cancelled = True
            outcome = asyncio.CancelledError(f"action {qualified} was cancelled before it started")
        else:
            try:
                # When the action starts (CLOCK_MONOTONIC, the runner's clock too): the runner
                # measures dispatch latency as its "ready" to this, and judges a timeout by
                # this to "finished".
                started = _monotonic_ns()
                entry = self.running.get(dispatch)
                if entry is not None:
                    entry.started = started
                try:
                    if plan is None:
                        plan = self.resolve(message["module"], message["function"])
                    args, varargs = self.arguments(plan, message.get("args", {}), qualified)
                    if plan.direct:
                        outcome = await plan.function(*varargs, **args)
                    else:
                        outcome = await ActionInvocation(qualified, plan.function, varargs, args).execute()
                    ok = True
                except asyncio.CancelledError as error:
                    reason = entry.reason if entry is not None else None
                    # Only a cancel of this worker's is `cancelled` in the answer; one the
                    # action raised itself is its outcome, like any exception.
                    cancelled = reason is not None
                    if reason is None:
                        outcome = error
                    else:
                        outcome = asyncio.CancelledError(f"action {qualified} was cancelled: the runner gave up on it ({reason})")
                except BaseException as error:  # noqa: BLE001 - every outcome goes back to the runner
                    outcome = error
                finished = _monotonic_ns()
            finally:
                slots.give()
        finally:
            self.running.pop(dispatch, None)
        self.send(self.reply(dispatch, token, qualified, ok, outcome, started, finished, cancelled))

    def reply(
        self, dispatch: Any, token: Any, qualified: str, ok: bool, outcome: Any,
        started: int | None = None, finished: int | None = None, cancelled: bool = False,
    ) -> bytes:
        """The answer's frame; an outcome that cannot be sent becomes an error saying why."""
        head: dict[str, Any] = {"type": "result", "id": dispatch, "token": token}
        if started is not None:
            head["started"] = started
        if finished is not None:
            head["finished"] = finished
        if cancelled:
            head["cancelled"] = True
        try:
            if ok:
                head["ok"] = True
                head["value"] = encode(outcome)
            else:
                head["ok"] = False
                head["error"] = encode_exception(outcome)
            return self.frame(head)
        except BaseException as failure:  # noqa: BLE001 - whatever fails, the dispatch is answered
            head.pop("value", None)
            head.pop("error", None)
            what = "returned a value" if ok else f"raised {type(outcome).__name__}, which"
            message = f"action {qualified} {what} that cannot be sent to the runner: {describe(failure)}"
        try:
            return self.frame({**head, "ok": False, "error": encode_exception(SerializationError(message))})
        except BaseException:  # noqa: BLE001 - the last resort is plain ASCII
            error = {TAG: "exception", "type": "SerializationError", "module": "waymark.serialization",
                     "message": ascii(message), "mro": ["SerializationError", "TypeError", "Exception", "BaseException"]}
            return self.frame({**head, "ok": False, "error": error})

    @staticmethod
    def arguments(plan: Plan, encoded: dict, qualified: str) -> tuple[dict, tuple]:
        args: dict[str, Any] = {}
        varargs: tuple = ()
        for name, raw in encoded.items():
            try:
                value = decode(raw)
            except Exception as error:  # noqa: BLE001
                raise SerializationError(f"argument {name!r} of action {qualified} cannot be decoded: {error}") from None
            if name == plan.varargs:
                varargs = tuple(value)
                continue
            args[name] = value
        return args, varargs


def describe(failure: BaseException) -> str:
    try:
        return f"{type(failure).__name__}: {failure}"
    except Exception:  # noqa: BLE001
        return type(failure).__name__


def split_frames(buffer: bytearray) -> list[Any]:
    """The whole frames at the start of `buffer`, decoded; they leave the buffer, a partial
    frame stays for the next read."""
    messages, offset = [], 0
    while len(buffer) - offset >= 4:
        (length,) = struct.unpack_from(">I", buffer, offset)
        if len(buffer) - offset - 4 < length:
            break
        messages.append(_decode_frame(buffer[offset + 4 : offset + 4 + length].decode("utf-8", "surrogatepass")))
        offset += 4 + length
    del buffer[:offset]
    return messages


class Reader:
    """Reads the runner's frames on the event loop (`add_reader`): a chunk's dispatches start in
    the turn that read it, with no thread handing them over (a GIL hand-off and a wake-up of the
    loop per batch). Any failure here ends the worker: a worker that cannot hear the runner must
    not linger."""

    def __init__(self, fd: int, worker: Worker, runner: int, loop: asyncio.AbstractEventLoop):
        self.fd = fd
        self.worker = worker
        self.runner = runner
        self.loop = loop
        self.buffer = bytearray()
        # Resolved at shutdown or at the end of input.
        self.finished: asyncio.Future = loop.create_future()
        os.set_blocking(fd, False)
        loop.add_reader(fd, self.readable)

    def readable(self) -> None:
        try:
            chunk = os.read(self.fd, 1 << 16)
        except (BlockingIOError, InterruptedError):
            return
        except BaseException as error:  # noqa: BLE001
            die(f"cannot read from the runner ({error!r})")
        if not chunk:
            if os.getppid() != self.runner:
                die("the runner is gone")
            return self.finish()
        self.buffer += chunk
        try:
            for message in split_frames(self.buffer):
                if not self.handle(message):
                    return self.finish()
        except BaseException as error:  # noqa: BLE001 - not left to the loop, which would log it and go on
            die(f"cannot read from the runner ({error!r})")

    def handle(self, message: Any) -> bool:
        """Acts on one message; false at shutdown."""
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "dispatch":
            self.worker.start(message)
        elif kind == "cancel":
            self.worker.cancel(message.get("id"), message.get("timeout"))
        elif kind == "shutdown":
            return False
        else:
            die(f"unexpected message from the runner: {str(message)[:200]}")
        return True

    def finish(self) -> None:
        self.loop.remove_reader(self.fd)
        if not self.finished.done():
            self.finished.set_result(None)


def die_with_parent(runner: int) -> None:
    """Asks Linux to kill this process when the runner dies, then checks the runner did not die
    before that took effect."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: end of input still stops the worker
    if os.getppid() != runner:
        die("the runner is gone")


def private(fd: int) -> int:
    """The protocol fd moved to a new number that no subprocess inherits; the old one is closed,
    so an action writing to fd 3 or 4 reaches nothing."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return moved


async def main(concurrency: int, max_frame_bytes: int, runner: int) -> None:
    source = private(PROTOCOL_INPUT)
    sink = private(PROTOCOL_OUTPUT)
    # A process an action forks must not read dispatches or write answers: its copies of the
    # channel point at /dev/null (an exec'd child never gets them: they are non-inheritable).
    def detach() -> None:
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (source, sink):
            os.dup2(null, fd, inheritable=False)
        os.close(null)

    os.register_at_fork(after_in_child=detach)
    # print() goes to stderr (fd 1 is stderr too, so a stray write lands in the same place).
    sys.stdout = sys.stderr
    loop = asyncio.get_running_loop()
    # Sync actions run in threads; as many as actions may run at once (the default pool has
    # min(32, cpus + 4) threads, fewer than --concurrency on a small machine).
    loop.set_default_executor(concurrent.futures.ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="waymark-action"))
    worker = Worker(concurrency, sink, max_frame_bytes)
    policy = json.loads(os.environ.pop("WAYMARK_WORKER_POLICY", "null") or "null")
    if isinstance(policy, dict):
        worker.modules = frozenset(policy.get("modules") or [])
        allow(list(policy.get("types") or []), list(worker.modules))
    reader = Reader(source, worker, runner, loop)
    worker.send(worker.frame({"type": "ready", "pid": os.getpid()}))
    await reader.finished
    tasks = [entry.task for entry in worker.running.values()]
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)
    worker.flush()
    # Threads an action left running (a sync action past its timeout, a thread that never ends)
    # must not keep the process alive, nor asyncio.run's wait for the thread pool: every answer
    # is sent, so leave now.
    sys.stderr.flush()
    os._exit(0)


def entry() -> None:
    parser = argparse.ArgumentParser(prog="waymark.worker")
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--max-frame-bytes", type=int, default=64 << 20)
    parser.add_argument("--runner-pid", type=int, default=0, help="the runner's pid: exit when it dies")
    parser.add_argument("--path", action="append", default=[], help="a directory to import user modules from")
    options = parser.parse_args()
    runner = options.runner_pid or os.getppid()
    # Only 0-2 and the protocol: no fd of the runner's reaches an action (the runner closes them
    # at spawn where glibc can; this covers older ones).
    os.closerange(PROTOCOL_OUTPUT + 1, 1 << 16)
    die_with_parent(runner)
    for path in reversed(options.path):
        if path not in sys.path:
            sys.path.insert(0, path)
    asyncio.run(main(max(1, options.concurrency), options.max_frame_bytes, runner))


if __name__ == "__main__":
    entry()
