from waymark import Workflow, action, workflow


@action
async def limit() -> int:
    return 10


@workflow
class ComparisonsWorkflow(Workflow):
    async def run(self, x: int, tags: list[str], name: str | None) -> dict:
        top = await limit()
        return {
            "between": 0 < x < top,
            "chain": 0 <= x <= top != 7,
            "eq": x == top, "ne": x != top, "ge": x >= 1, "gt": x > 1, "le": x <= 1,
            "is_none": name is None, "is_not_none": name is not None,
            "tagged": "urgent" in tags, "untagged": "urgent" not in tags,
            "both": x > 0 and bool(tags), "either": x > 0 or not tags,
            "mixed": (x > 0 and x < 5) or (x > 100 and not tags),
            "default": name or "anonymous",
        }
