from dataclasses import dataclass

from pydantic import BaseModel

from waymark import Workflow, action, workflow


class Customer(BaseModel):
    name: str
    email: str

    def display(self) -> str:
        return self.name


@dataclass
class Order:
    id: str
    customer: Customer


@action
async def load_order(order_id: str) -> Order:
    return Order(id=order_id, customer=Customer(name="a", email="b"))


@workflow
class UnknownFieldWorkflow(Workflow):
    async def run(self, order_id: str) -> str:
        order = await load_order(order_id)
        email = order.customer.emial
        shown = order.customer.display
        return order.identifier + email + shown
