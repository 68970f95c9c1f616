from dataclasses import dataclass

from pydantic import BaseModel

from waymark import Workflow, action, workflow


class Profile(BaseModel):
    name: str
    plan: str


@dataclass
class Summary:
    name: str
    paid: bool
    notes: list[str]


@action
async def load_profile(user_id: str) -> Profile:
    return Profile(name=user_id, plan="pro")


@workflow
class SummaryWorkflow(Workflow):
    async def run(self, user_id: str) -> Summary:
        profile = await load_profile(user_id)
        notes = [f"plan={profile.plan}"]
        if profile.plan != "free":
            notes.append("paying customer")
        return Summary(name=profile.name, paid=profile.plan != "free", notes=notes)
