"""The Python worker alone: CPU per no-op action, against a floor measured in the same run.

    python3 Benchmarks/WorkerBenchmark/worker_benchmark.py [actions] [window]

Drives `python -m waymark.worker` over its real protocol (length-prefixed JSON frames on fds 3
and 4), keeping `window` dispatches of `workflows.noop` (Benchmarks/RunnerBenchmark) in flight,
and reads its CPU from the kernel (getrusage of the finished child). The floor is a process that
reads the same frames and answers each with a result frame, with no event loop and no action: what
any Python worker pays for the JSON and the pipe.
"""

from __future__ import annotations

import fcntl
import json
import os
import resource
import struct
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))

from waymark.worker import split_frames  # noqa: E402 - after the checkout's package is on the path

FLOOR = r"""
import json, os, struct
from waymark.worker import split_frames
buffer = bytearray()
ready = b'{"type":"ready"}'
os.write(4, struct.pack(">I", len(ready)) + ready)
while True:
    chunk = os.read(3, 1 << 16)
    if not chunk:
        break
    buffer += chunk
    out = []
    for message in split_frames(buffer):
        if message["type"] == "shutdown":
            raise SystemExit
        data = json.dumps({"type": "result", "id": message["id"], "token": message["token"], "ok": True, "value": None}).encode()
        out.append(struct.pack(">I", len(data)) + data)
    if out:
        os.write(4, b"".join(out))
"""


def frame(message: dict) -> bytes:
    data = json.dumps(message).encode()
    return struct.pack(">I", len(data)) + data


def measure(command: list[str], actions: int, window: int) -> tuple[float, float]:
    """Seconds and CPU seconds (user + system) of the child for `actions` dispatches."""
    # The pipes on high fds, so that fds 3 and 4 in the child are exactly the protocol's.
    pipes = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 20) for fd in (*os.pipe(), *os.pipe())]
    to_child_read, to_child_write, from_child_read, from_child_write = pipes

    def protocol_fds() -> None:
        os.dup2(to_child_read, 3)
        os.dup2(from_child_write, 4)

    environment = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.join(ROOT, "python"), os.path.join(ROOT, "Benchmarks", "RunnerBenchmark")]))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    child = subprocess.Popen(command, env=environment, preexec_fn=protocol_fds, close_fds=False)
    os.close(to_child_read)
    os.close(from_child_write)
    buffer = bytearray()

    def answers() -> list[dict]:
        chunk = os.read(from_child_read, 1 << 16)
        if not chunk:
            raise SystemExit(f"{command[-1]}: the worker stopped answering")
        buffer.extend(chunk)
        return split_frames(buffer)

    while not answers():
        pass  # the ready frame
    started = time.perf_counter()
    sent = answered = 0
    while answered < actions:
        batch = []
        while sent < actions and sent - answered < window:
            batch.append(frame({"type": "dispatch", "id": sent, "token": 7, "module": "workflows", "function": "noop", "args": {"i": sent}}))
            sent += 1
        if batch:
            os.write(to_child_write, b"".join(batch))
        for answer in answers():
            if not answer.get("ok"):
                raise SystemExit(f"dispatch {answer.get('id')} failed: {answer.get('error')}")
            answered += 1
    seconds = time.perf_counter() - started
    os.write(to_child_write, frame({"type": "shutdown"}))
    os.close(to_child_write)
    child.wait()
    os.close(from_child_read)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu


def main() -> None:
    actions = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    window = int(sys.argv[2]) if len(sys.argv) > 2 else 64
    rows = [
        ("floor: read a frame, answer it (no loop, no action)", [sys.executable, "-c", FLOOR]),
        (f"waymark.worker --concurrency {window}", [sys.executable, "-m", "waymark.worker", "--concurrency", str(window), "--runner-pid", str(os.getpid())]),
    ]
    print(f"worker benchmark: {actions:,} no-op dispatches, {window} in flight; CPU of the worker process (startup included)")
    print(f"{'':<55}{'actions/s':>10}{'CPU s':>8}{'µs/action':>11}")
    for name, command in rows:
        seconds, cpu = measure(command, actions, window)
        print(f"{name:<55}{actions / seconds:>10,.0f}{cpu:>8.2f}{cpu / actions * 1e6:>11.1f}")


if __name__ == "__main__":
    main()
