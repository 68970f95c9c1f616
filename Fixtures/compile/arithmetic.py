from waymark import Workflow, action, workflow


@action
async def measure(name: str) -> float:
    return 2.5


@workflow
class ArithmeticWorkflow(Workflow):
    async def run(self, a: int, b: int) -> list:
        m = await measure("m")
        return [
            a + b, a - b, a * b, a / b, a // b, a % b, a ** 2, -a, +b, ~a,
            a << 2, a >> 1, a | b, a & b, a ^ b, (a + b) * (a - b), a - (b - 1),
            2 ** -1, -2 ** 2, (-2) ** 2, m * 2 + 1.5e3, 1e16, 0.1, 10 ** 30,
            -(a + b), not a, a if a > b else b,
        ]
