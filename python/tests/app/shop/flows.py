"""A small app module for the client's tests: a model result, a fan-out, a raising action."""

import asyncio

from pydantic import BaseModel

from waymark import Workflow, action, workflow


class Receipt(BaseModel):
    user: str
    total: int
    tags: list[str] = []


class OutOfStock(Exception):
    pass


@action
async def price(item: str) -> int:
    if item == "unobtainium":
        raise OutOfStock(f"no {item} left")
    await asyncio.sleep(0.01)
    return len(item) * 10


@workflow
class Checkout(Workflow):
    async def run(self, user: str, items: list[str]) -> Receipt:
        prices = await asyncio.gather(*[price(item) for item in items])
        return Receipt(user=user, total=sum(prices))


@workflow
class Pair(Workflow):
    async def run(self, a: int, b: int = 2) -> tuple[int, int]:
        return (a, b)


class RateLimited(Exception):
    def __init__(self, message: str, wait_seconds: int) -> None:
        super().__init__(message, wait_seconds)
        self.wait_seconds = wait_seconds


@action
async def call_api(name: str) -> str:
    raise RateLimited(f"{name} is rate limited", 30)


@workflow
class Limited(Workflow):
    async def run(self, name: str) -> str:
        return await call_api(name)


def state_directory() -> str:
    """Where the test actions count their runs (shared by every worker process)."""
    import os
    import tempfile

    directory = os.path.join(tempfile.gettempdir(), "waymark-shop-state")
    os.makedirs(directory, exist_ok=True)
    return directory


def _bump(name: str) -> int:
    import os

    path = os.path.join(state_directory(), name)
    count = int(open(path).read()) + 1 if os.path.exists(path) else 1
    with open(path, "w") as handle:
        handle.write(str(count))
    return count


@action
async def step(name: str) -> str:
    _bump(f"step-{name}")
    return name


@action
async def flaky(name: str) -> str:
    if _bump(f"flaky-{name}") == 1:
        raise RuntimeError("first attempt fails")
    return f"{name} ok"


@workflow
class Flaky(Workflow):
    async def run(self, name: str) -> str:
        await step(name)
        return await flaky(name)


@workflow
class Patient(Workflow):
    """Sleeps for an hour unless cancelled; cleans up either way."""

    async def run(self, name: str) -> str:
        await step(name)
        try:
            await asyncio.sleep(3600)
            return "woke"
        finally:
            await step(f"{name}-cleanup")
