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
