"""A side channel for tests: counters in files under WAYMARK_TEST_STATE, shared by every worker
process and by inline mode, so "fails twice, then succeeds" behaves the same everywhere."""
import fcntl
import os


def bump(key: str) -> int:
    """Adds one to the counter `key` and returns the new value."""
    directory = os.environ.get("WAYMARK_TEST_STATE") or "/tmp/waymark-test-state"
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, key)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        value = int(handle.read() or 0) + 1
        handle.seek(0)
        handle.truncate()
        handle.write(str(value))
        return value
