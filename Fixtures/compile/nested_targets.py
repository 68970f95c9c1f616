from waymark import Workflow, action, workflow


@action
async def area(width: int, height: int) -> int:
    return width * height


@workflow
class NestedTargetsWorkflow(Workflow):
    async def run(self, pairs: dict[str, int], boxes: list[list]) -> dict:
        labels = []
        for n, (key, val) in enumerate(pairs.items()):
            labels.append(f"{n}:{key}={val}")
        shaped = [(name, (w, h)) for name, w, h in boxes]
        areas = [w * h for _, (w, h) in shaped]
        first, *rest = areas
        (a, b), [c, *d] = (1, 2), [3, 4, 5]
        computed = []
        for _name, (w, h) in shaped:
            computed.append(await area(w, h))
        totals = {name: w + h for name, (w, h) in shaped}
        return {"labels": labels, "areas": areas, "first": first, "rest": rest, "abcd": [a, b, c, d],
                "computed": computed, "totals": totals}
