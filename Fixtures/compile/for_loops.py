from waymark import Workflow, action, workflow


@action
async def ship(name: str, quantity: int) -> str:
    return f"{quantity}x{name}"


@workflow
class ForLoopsWorkflow(Workflow):
    async def run(self, names: list[str], stock: dict[str, int]) -> list:
        shipped = []
        for index, name in enumerate(names):
            shipped.append(await ship(name, index))
        for i in range(2, 10, 3):
            shipped.append(i)
        for name, count in zip(names, [3, 2, 1]):
            shipped.append(f"{name}={count}")
        for sku, quantity in stock.items():
            if quantity:
                shipped.append(await ship(name=sku, quantity=quantity))
        for (a, b), c in [((1, 2), 3)]:
            shipped.append(a + b + c)
        return shipped
