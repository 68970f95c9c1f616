"""Summarises `perf script -F comm,tid,ip,sym,dso` output for the runner benchmark: the
runner's samples (its threads, not the Python workers or forked helpers) by leaf symbol, by
library, and inclusively by the runner's own functions (from the call chains).

    perf record -F 999 -g -o perf.data .build-release/release/runner-benchmark 5000 10 10
    perf script -i perf.data -F comm,tid,ip,sym,dso | python3 scripts/perf-summary.py
"""
import collections
import re
import sys

RUNNER_THREADS = re.compile(r"^(oot\.|-qos|runner-benchmar|waymark-)")


def samples(lines):
    head, frames = None, []
    for line in lines:
        line = line.rstrip("\n")
        if not line:
            if head is not None:
                yield head, frames
            head, frames = None, []
        elif not line.startswith(("\t", " ")):
            head = line
        else:
            match = re.match(r"\s*[0-9a-f]+ (.*) \((.*)\)$", line)
            if match:
                frames.append((match.group(1), match.group(2).rsplit("/", 1)[-1]))
    if head is not None:
        yield head, frames


def main():
    leaf, library, inclusive = collections.Counter(), collections.Counter(), collections.Counter()
    total = 0
    for head, frames in samples(sys.stdin):
        comm = head.split()[0]
        if not frames or not RUNNER_THREADS.match(comm) or comm == "runner-benchmar":
            continue
        total += 1
        symbol, dso = frames[0]
        leaf[f"{symbol} ({dso})"] += 1
        library[dso] += 1
        for name in {s for s, d in frames if d == "runner-benchmark"}:
            inclusive[name] += 1
    top = int(sys.argv[1]) if len(sys.argv) > 1 else 25
    print(f"runner threads: {total} samples")
    for title, counter in (("by library", library), ("leaf symbols", leaf), ("inclusive, runner code", inclusive)):
        print(f"\n{title}:")
        for name, count in counter.most_common(top):
            print(f"{100 * count / max(total, 1):6.1f}%  {name[:150]}")


main()
