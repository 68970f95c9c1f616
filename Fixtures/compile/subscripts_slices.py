from waymark import Workflow, action, workflow


@action
async def load(key: str) -> dict:
    return {"items": [1, 2, 3, 4, 5], "meta": {"owner": key}}


@workflow
class SlicesWorkflow(Workflow):
    async def run(self, key: str) -> list:
        data = await load(key)
        items = data["items"]
        return [
            items[0], items[-1], items[1:3], items[:2], items[2:], items[::2], items[::-1],
            items[1:-1:2], data["meta"]["owner"], key[0].upper(), items[len(items) - 1],
        ]
