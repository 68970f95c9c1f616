"""Workflows the dashboard's browser tests leave in every state: orders that complete or fail
(a declined card), a reminder asleep for an hour, and a feed sync whose action keeps failing
under a retry policy with backoff."""

import asyncio

from waymark import BackoffPolicy, RetryPolicy, Workflow, action, workflow


class PaymentDeclined(Exception):
    pass


@action
async def reserve(sku: str) -> int:
    return len(sku)


@action
async def charge(customer: str, amount: int) -> str:
    if customer.startswith("declined"):
        raise PaymentDeclined(f"the card of {customer} was declined")
    return f"receipt-{amount}"


@action
async def notify(customer: str, receipt: str) -> str:
    return f"sent {receipt}"


@workflow
class Order(Workflow):
    async def run(self, customer: str, skus: list[str]) -> str:
        counts = await asyncio.gather(*[reserve(sku) for sku in skus])
        total = sum(counts)
        if total == 0:
            return "nothing to charge"
        receipt = await charge(customer, total)
        await notify(customer, receipt)
        return receipt


@action
async def remind(customer: str) -> str:
    return f"reminded {customer}"


@workflow
class Reminder(Workflow):
    async def run(self, customer: str) -> str:
        await remind(customer)
        await asyncio.sleep(3600)
        return await remind(customer)


@action
async def fetch_feed(url: str) -> str:
    raise ConnectionError(f"{url} is unreachable")


@workflow
class FeedSync(Workflow):
    async def run(self, url: str) -> str:
        await remind(url)
        return await self.run_action(
            fetch_feed(url),
            retry=RetryPolicy(attempts=200),
            backoff=BackoffPolicy(base_delay=0.3, multiplier=2, max_delay=1.5),
        )
