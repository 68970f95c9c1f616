"""Actions imported from another module of the same project (Fixtures/compile/shop)."""
from shop import actions as shop_actions
from shop.actions import charge
from shop.errors import PaymentDeclined
import shop.actions

from waymark import Workflow, workflow


@workflow
class OrderWorkflow(Workflow):
    async def run(self, order_id: str, amount: int) -> dict:
        held = await shop_actions.reserve("sku-9", 1)
        try:
            receipt = await charge(order_id, amount)
        except PaymentDeclined:
            receipt = None
        trail = await shop.actions.audit("order", order_id)
        return {"held": held, "receipt": receipt, "trail": trail}
