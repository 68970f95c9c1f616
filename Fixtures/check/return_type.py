from waymark import Workflow, action, workflow


@action
async def fetch_score(user: str) -> float:
    return 1.5


@workflow
class ReturnTypeWorkflow(Workflow):
    async def run(self, user: str) -> int:
        score = await fetch_score(user)
        if score > 1:
            return "high"
        if not user:
            return
        return score


@workflow
class OptionalReturnWorkflow(Workflow):
    async def run(self, user: str) -> str | None:
        if user:
            return None
        return user.upper()
