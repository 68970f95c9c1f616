from waymark import Workflow, action, workflow


@action
async def score(item: str) -> int:
    return len(item)


@workflow
class AccumulateWorkflow(Workflow):
    async def run(self, items: list[str]) -> dict:
        scores = []
        by_item = {}
        seen = set()
        for item in items:
            value = await score(item)
            scores.append(value)
            by_item[item] = value
            seen.add(value)
        scores.extend([0, 0])
        scores.insert(0, -1)
        totals = {}
        totals.setdefault("sum", 0)
        totals.update({"count": len(scores)})
        return {"scores": scores, "by_item": by_item, "distinct": len(seen), "totals": totals}
