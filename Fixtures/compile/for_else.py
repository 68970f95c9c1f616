from waymark import Workflow, action, workflow


@action
async def lookup(key: str) -> int | None:
    return len(key) if key else None


@workflow
class SearchWorkflow(Workflow):
    async def run(self, keys: list[str]) -> str:
        for key in keys:
            found = await lookup(key)
            if found is not None and found > 3:
                result = key
                break
        else:
            result = "none"
        for key in keys:
            if key == "skip":
                continue
        else:
            result = result + "!"
        return result
