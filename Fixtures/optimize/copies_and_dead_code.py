from waymark import Workflow, action, workflow


@action
async def load(key: str) -> dict:
    return {"key": key}


@workflow
class CopiesWorkflow(Workflow):
    async def run(self, key: str) -> dict:
        original = key
        alias = original
        unused_literal = 42
        unused_list = [1, 2, 3]
        risky = {"a": 1}["a"]  # can raise: stays although unused
        data = await load(alias)
        same = data
        return same
