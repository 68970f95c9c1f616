"""The worker's own pieces that the runner's protocol tests (Tests/WaymarkRunnerTests, real
worker processes) do not reach one by one: the frame codec's fast path and the action slots."""

from __future__ import annotations

import asyncio
import json
import math

import pytest

from waymark import worker

MESSAGES = [
    {"type": "result", "id": 7, "token": 123456789012345, "started": 1, "finished": 2, "ok": True, "value": 3},
    {"type": "dispatch", "id": 1, "module": "m", "function": "f", "args": {"s": "é \u2028 \"q\" \\ \n \x00 😀"}},
    {"nested": [1, 2.5, -0.0, 1e300, None, True, False, [], {}], "big": 2**80},
    {"nan": math.nan, "inf": math.inf, "ninf": -math.inf},
    "just a string",
    [1, "two", 3.0],
]


@pytest.mark.parametrize("message", MESSAGES)
def test_frames_encode_as_the_json_module_does(message):
    expected = json.dumps(message, separators=(",", ":"), ensure_ascii=False)
    assert worker._encode_frame(message) == expected


def test_an_unencodable_value_raises_type_error_as_json_does():
    with pytest.raises(TypeError, match="not JSON serializable"):
        worker._encode_frame({"value": object()})


@pytest.mark.parametrize("message", MESSAGES[:3])
def test_frames_decode_as_the_json_module_does(message):
    text = json.dumps(message)
    assert worker._decode_frame(text) == json.loads(text)
    # Whitespace around the value is read through the full decoder, to the same value.
    assert worker._decode_frame(f" \n{text}\t ") == json.loads(text)


@pytest.mark.parametrize("text", ["", "{", '{"a": 1} x', '{"a": 1}{"b": 2}', "nul", '{"a": 1,}'])
def test_bad_frames_raise_the_json_modules_error(text):
    with pytest.raises(json.JSONDecodeError) as ours:
        worker._decode_frame(text)
    with pytest.raises(json.JSONDecodeError) as theirs:
        json.loads(text)
    assert str(ours.value) == str(theirs.value)


def test_slots_go_to_waiters_first_come_first_served():
    async def main():
        slots = worker.Slots(1)
        assert slots.take()
        assert not slots.take()
        order = []

        async def waiter(name):
            await slots.wait()
            order.append(name)

        tasks = [asyncio.create_task(waiter(name)) for name in "abc"]
        await asyncio.sleep(0)
        for _ in tasks:
            slots.give()
            await asyncio.sleep(0)
        await asyncio.gather(*tasks)
        assert order == ["a", "b", "c"]
        # The last waiter still holds its slot: none is free until it gives it back.
        assert not slots.take()
        slots.give()
        assert slots.take()

    asyncio.run(main())


def test_a_cancelled_waiter_passes_its_slot_on():
    async def main():
        slots = worker.Slots(1)
        assert slots.take()
        first = asyncio.create_task(slots.wait())
        second = asyncio.create_task(slots.wait())
        await asyncio.sleep(0)
        # The slot is handed to the first waiter, which is cancelled before it resumes.
        slots.give()
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        await asyncio.wait_for(second, 1)
        assert not slots.take()
        slots.give()
        assert slots.take()

    asyncio.run(main())


def test_a_waiter_cancelled_while_waiting_takes_no_slot():
    async def main():
        slots = worker.Slots(1)
        assert slots.take()
        waiting = asyncio.create_task(slots.wait())
        await asyncio.sleep(0)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        slots.give()
        assert slots.take()
        assert not slots.take()

    asyncio.run(main())
