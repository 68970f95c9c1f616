import asyncio

from waymark import RetryPolicy, Workflow, action, workflow


@action
async def fetch_profile(user_id: str) -> dict:
    return {"id": user_id}


@action
async def fetch_settings(user_id: str) -> dict:
    return {"theme": "dark"}


@action
async def fetch_purchase_history(user_id: str) -> list:
    return []


@workflow
class DashboardWorkflow(Workflow):
    async def run(self, user_id: str) -> dict:
        profile, settings, history = await asyncio.gather(
            fetch_profile(user_id=user_id),
            fetch_settings(user_id=user_id),
            fetch_purchase_history(user_id=user_id),
            return_exceptions=True,
        )
        both = await asyncio.gather(
            fetch_profile(user_id),
            self.run_action(fetch_settings(user_id), retry=RetryPolicy(attempts=3)),
        )
        await asyncio.gather(fetch_purchase_history(user_id))
        nothing = await asyncio.gather()
        return {"profile": profile, "settings": settings, "history": history, "both": both, "nothing": nothing}
