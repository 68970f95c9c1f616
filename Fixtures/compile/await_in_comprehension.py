from waymark import Workflow, action, workflow


@action
async def price(sku: str) -> int:
    return len(sku) * 10


@action
async def in_stock(sku: str) -> bool:
    return not sku.startswith("x")


@workflow
class SequentialPricesWorkflow(Workflow):
    """Awaits inside a comprehension run one after another, as in Python."""

    async def run(self, skus: list[str]) -> dict:
        sku = "outer"
        prices = [await price(sku) for sku in skus]
        available = {sku: await price(sku) for sku in skus if await in_stock(sku)}
        return {"prices": prices, "available": available, "sku": sku}
