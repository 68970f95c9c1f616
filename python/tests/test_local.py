"""Without a database (and under pytest), `await W().run(...)` runs the compiled program."""

import asyncio

import pytest

from shop.flows import Checkout, OutOfStock, Pair, Receipt
from waymark.toolchain import WorkflowCompileError


def test_runs_the_compiled_program_and_returns_python_values():
    receipt = asyncio.run(Checkout().run("ada", ["apple", "kiwi"]))
    assert receipt == Receipt(user="ada", total=90)
    assert asyncio.run(Pair().run(1)) == (1, 2)


def test_an_action_exception_is_raised_with_its_class():
    with pytest.raises(OutOfStock, match="no unobtainium left"):
        asyncio.run(Checkout().run("ada", ["unobtainium"]))


def test_arguments_that_do_not_bind_are_a_type_error_naming_the_parameter():
    with pytest.raises(TypeError, match="'a'"):
        asyncio.run(Pair().run())


def test_input_that_does_not_match_run_is_a_type_error():
    with pytest.raises(TypeError, match="items"):
        asyncio.run(Checkout().run("ada", 5))


def test_a_workflow_that_does_not_compile_fails_where_it_is_called(monkeypatch):
    from shop.broken import Broken

    # Plain Python runs it...
    monkeypatch.setenv("WAYMARK_INLINE", "1")
    assert asyncio.run(Broken().run(1)) == 2
    # ...the compiled path refuses it, with waymarkc's diagnostics.
    monkeypatch.delenv("WAYMARK_INLINE")
    with pytest.raises(WorkflowCompileError) as raised:
        asyncio.run(Broken().run(1))
    assert "broken.py:13:" in raised.value.diagnostics and "error[WMK" in raised.value.diagnostics


def test_sync_use():
    assert Pair().run_sync(3, b=4) == (3, 4)


def test_handles_need_a_database():
    with pytest.raises(TypeError, match="_blocking=False needs a database"):
        asyncio.run(Pair().run(1, _blocking=False))


def test_an_exception_keeps_its_args_fields_and_the_workers_traceback():
    from shop.flows import Limited, RateLimited

    with pytest.raises(RateLimited) as raised:
        asyncio.run(Limited().run("maps"))
    assert raised.value.wait_seconds == 30 and raised.value.args == ("maps is rate limited", 30)
    assert any("Raised in a waymark worker" in note and "call_api" in note for note in raised.value.__notes__)


def test_instance_ids_are_time_ordered_version_7_uuids():
    import time
    import uuid

    from waymark.client import instance_id

    first = instance_id()
    time.sleep(0.002)
    ids = [instance_id() for _ in range(1000)]
    assert len(set(ids)) == 1000
    assert all(uuid.UUID(value).version == 7 and value == value.lower() for value in ids)
    assert first < min(ids)
    assert abs(int(first.replace("-", "")[:12], 16) - time.time_ns() // 1_000_000) < 60_000
