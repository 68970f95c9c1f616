from pydantic import BaseModel

from waymark import Workflow, action, workflow


class Invoice(BaseModel):
    number: str
    total: float


@action
async def send(to: str, copies: int, invoice: Invoice, tags: list[str]) -> bool:
    return True


@workflow
class ArgumentTypesWorkflow(Workflow):
    async def run(self, address: str, count: int) -> bool:
        await send(to=42, copies="three", invoice={"number": "1", "total": 2.0}, tags=["a", 1])
        await send(address, count, Invoice(number="2", total=3), ["ok"])
        return await send(to=address, copies=count * 2.5, invoice=None, tags=[])
