"""Positional arguments are bound to parameter names; constant defaults are filled in;
Depend parameters are left to the worker; *args and **kwargs actions keep their extras."""
from shop.actions import audit, charge, reserve
from waymark import Workflow, workflow


@workflow
class BindingWorkflow(Workflow):
    async def run(self, order_id: str, amount: int) -> dict:
        receipt = await charge(order_id, amount)
        again = await charge(order_id, amount, "eur", idempotency_key=order_id)
        by_name = await charge(amount=amount, order_id=order_id)
        held = await reserve("sku-1", quantity=2)
        trail = await audit("charged", "reserved", order=order_id, step="done")
        quiet = await audit()
        return {"receipt": receipt, "again": again, "by_name": by_name, "held": held,
                "trail": trail, "quiet": quiet}
