from typing import Annotated

from waymark import Depend, action

from .errors import OutOfStock, PaymentDeclined


def get_gateway():
    return {"name": "test-gateway"}


@action
async def charge(
    order_id: str,
    amount: int,
    currency: str = "usd",
    *,
    gateway: Annotated[dict, Depend(get_gateway)],
    idempotency_key: str | None = None,
) -> dict:
    if amount <= 0:
        raise PaymentDeclined(f"cannot charge {amount}")
    return {"order_id": order_id, "charged": amount, "currency": currency}


@action
async def reserve(sku: str, quantity: int) -> int:
    if quantity > 10:
        raise OutOfStock(sku)
    return quantity


@action
def audit(*events: str, **tags: str) -> list:
    return [*events, *sorted(tags)]
