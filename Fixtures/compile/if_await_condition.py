from waymark import Workflow, action, workflow


@action
async def is_vip(user_id: str) -> bool:
    return user_id.startswith("vip")


@action
async def is_blocked(user_id: str) -> bool:
    return user_id.startswith("x")


@action
async def grant(user_id: str, tier: str) -> str:
    return f"{user_id}:{tier}"


@workflow
class AccessWorkflow(Workflow):
    async def run(self, user_id: str) -> str:
        if await is_blocked(user_id):
            return "blocked"
        elif await is_vip(user_id):
            tier = "gold"
        else:
            tier = "standard"
        if not await is_blocked(user_id + "-alt") and tier == "gold":
            return await grant(user_id, tier)
        return await grant(user_id=user_id, tier=tier)
