from waymark import Workflow, action, workflow


@action
async def fetch_order(order_id: str) -> dict:
    return {"id": order_id, "lines": [2, 3]}


@action
async def send_invoice(order_id: str, total: int) -> str:
    return f"invoice {order_id}: {total}"


@workflow
class InvoiceWorkflow(Workflow):
    async def run(self, order_ids: list[str]) -> list[str]:
        invoices = []
        for order_id in order_ids:
            invoices.append(await self.invoice(order_id))
        return invoices

    async def invoice(self, order_id: str) -> str:
        order = await fetch_order(order_id)
        total = self.total(order["lines"], tax=1)
        return await send_invoice(order_id, total)

    def total(self, lines: list[int], tax: int = 0) -> int:
        subtotal = self.subtotal(lines)
        return subtotal + tax

    def subtotal(self, lines):
        return sum(lines)

    def unused_helper(self):
        return "never lowered: run() does not reach it"
