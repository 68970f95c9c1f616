"""Shared set-up: the app under tests/app, the toolchain of this checkout, a private bundle cache."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

APP = Path(__file__).parent / "app"
REPO = Path(__file__).resolve().parents[2]

if str(APP) not in sys.path:
    sys.path.insert(0, str(APP))


@pytest.fixture(autouse=True)
def toolchain(tmp_path_factory, monkeypatch):
    for name, variable in (("waymarkc", "WAYMARK_WAYMARKC"), ("waymark-run", "WAYMARK_RUN")):
        if not os.environ.get(variable):
            built = REPO / ".build" / "debug" / name
            if not built.exists():
                pytest.fail(f"{built} is missing: run swift build first")
            monkeypatch.setenv(variable, str(built))
    monkeypatch.setenv("WAYMARK_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "bundles"))
    monkeypatch.delenv("WAYMARK_INLINE", raising=False)
    monkeypatch.delenv("WAYMARK_DATABASE_URL", raising=False)


def serve_with_dashboard(modules: str, log: Path, *flags: str, **environment: str) -> tuple[subprocess.Popen, str]:
    """`waymark-start-workers --dashboard 127.0.0.1:0` on `modules`, its stderr in `log`: the
    process and the dashboard's base URL once it listens (the caller stops the process)."""
    env = dict(os.environ, WAYMARK_USER_MODULE=modules, PYTHONPATH=os.pathsep.join([str(APP), *sys.path]), **environment)
    with open(log, "w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "waymark.start_workers", *flags, "--dashboard", "127.0.0.1:0"],
            cwd=APP, env=env, stdout=subprocess.DEVNULL, stderr=sink)
    # No time limit of its own: the server compiles first, as fast as the machine allows.
    while True:
        match = re.search(r"dashboard on (http://127\.0\.0\.1:\d+)/", log.read_text())
        if match:
            return process, match.group(1)
        if process.poll() is not None:
            raise AssertionError(log.read_text())
        time.sleep(0.1)
