#!/usr/bin/env python3
"""The frame size of each async function in a release binary, largest first.

An async Swift function keeps whatever may live across an `await` in a frame allocated in its
task; every action in flight holds the frames of its whole chain (the gather's child, the
journaling, counting and policy gateways, the pool's dispatch). The size is the second 32-bit
field of the function's "async function pointer" (the symbols ending in `Tu`).

    python3 Benchmarks/RunnerBenchmark/async_frames.py .build/release/runner-benchmark 'Gateway|dispatch'
"""
import re
import struct
import subprocess
import sys


def main() -> None:
    binary, pattern = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else ".")
    sections = []
    listing = subprocess.run(["readelf", "-W", "-S", binary], capture_output=True, text=True, check=True).stdout
    for match in re.finditer(r"\]\s+(\S+)\s+(\S+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)", listing):
        _, kind, address, offset, size = match.groups()
        if kind != "NOBITS":
            sections.append((int(address, 16), int(offset, 16), int(size, 16)))
    data = open(binary, "rb").read()
    rows = []
    for line in subprocess.run(["nm", binary], capture_output=True, text=True, check=True).stdout.splitlines():
        parts = line.split()
        if len(parts) != 3 or not parts[2].endswith("Tu"):
            continue
        address = int(parts[0], 16)
        for start, offset, size in sections:
            if start <= address < start + size:
                at = offset + address - start
                rows.append((struct.unpack("<iI", data[at : at + 8])[1], parts[2]))
                break
    names = subprocess.run(
        ["swift", "demangle", "--simplified"], input="\n".join(symbol for _, symbol in rows), capture_output=True, text=True, check=True
    ).stdout.splitlines()
    for (size, _), name in sorted(zip(rows, names), reverse=True):
        name = name.removeprefix("async function pointer to ")
        if re.search(pattern, name):
            print(f"{size:6d}  {name}")


if __name__ == "__main__":
    main()
