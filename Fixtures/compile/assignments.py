from waymark import Workflow, action, workflow


@action
async def pair(seed: int) -> tuple[int, int]:
    return seed, seed + 1


@workflow
class AssignmentsWorkflow(Workflow):
    async def run(self, seed: int) -> dict:
        a = seed
        count: int = 0
        label: str
        x, y = await pair(seed)
        first, *middle, last = [1, 2, 3, 4]
        (p, q), r = (x, y), a
        left = right = a * 2
        count += 1
        count -= x
        count *= 2
        count //= 3
        count **= 2
        count %= 7
        values = {"x": x}
        values["y"] = y
        values["x"] += 1
        pass
        return {"a": a, "count": count, "first": first, "middle": middle, "last": last,
                "p": p, "q": q, "r": r, "left": left, "right": right, "values": values}
