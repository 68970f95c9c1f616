"""Shared set-up: the app under tests/app, the toolchain of this checkout, a private bundle cache."""

import os
import sys
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
