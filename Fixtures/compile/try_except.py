from shop.actions import charge, reserve
from shop.errors import OutOfStock, PaymentDeclined, ShopError
from waymark import Workflow, workflow


@workflow
class CheckoutWorkflow(Workflow):
    async def run(self, order_id: str, amount: int, quantity: int) -> str:
        try:
            await reserve("sku", quantity)
        except OutOfStock:
            return "out of stock"
        try:
            await charge(order_id, amount)
        except (PaymentDeclined, KeyError) as error:
            return f"declined: {error}"
        except ShopError as error:
            return f"shop error: {error}"
        except:
            return "unknown"
        return "ok"
