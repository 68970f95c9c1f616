from waymark import Workflow, action, workflow


@action
async def fetch(key: str) -> dict:
    return {}


@workflow
class TyposWorkflow(Workflow):
    async def run(self, key: str) -> dict:
        data = await fetch(kye)
        if not data:
            return defualt_value
        return {**data, "extra": self.missing_setting}
