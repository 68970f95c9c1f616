from waymark import Workflow, action, workflow


@action
async def rows() -> list[dict]:
    return [{"id": 1, "tags": ["a"]}, {"id": 2, "tags": []}]


@workflow
class ComprehensionsWorkflow(Workflow):
    async def run(self, n: int) -> dict:
        data = await rows()
        ids = [row["id"] for row in data]
        tagged = {row["id"]: row["tags"] for row in data if row["tags"]}
        all_tags = {tag for row in data for tag in row["tags"]}
        grid = [[i * j for j in range(n)] for i in range(n)]
        total = sum(row["id"] for row in data)
        any_big = any(row["id"] > 1 for row in data)
        pairs = [(i, x) for i, x in enumerate(ids) if i % 2 == 0 if x]
        return {"ids": ids, "tagged": tagged, "all_tags": sorted(all_tags), "grid": grid,
                "total": total, "any_big": any_big, "pairs": pairs}
