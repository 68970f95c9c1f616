"""The waymark README's welcome-email workflow, unchanged but for the definitions it needs."""
import asyncio
from typing import Annotated

from pydantic import BaseModel

from waymark import Depend, Workflow, action, workflow


class User(BaseModel):
    email: str
    active: bool


class EmailResult(BaseModel):
    to: str
    subject: str


class Database:
    async def get_many(self, model, ids):
        return [model(email=f"{i}@example.com", active=not i.startswith("x")) for i in ids]


class EmailClient:
    async def send(self, to: str, subject: str) -> EmailResult:
        return EmailResult(to=to, subject=subject)


def get_db() -> Database:
    return Database()


def get_email_client() -> EmailClient:
    return EmailClient()


@workflow
class WelcomeEmailWorkflow(Workflow):
    async def run(self, user_ids: list[str]) -> list[EmailResult]:
        users = await fetch_users(user_ids)
        active_users = [user for user in users if user.active]

        results = await asyncio.gather(
            *[
                send_email(to=user.email, subject="Welcome")
                for user in active_users
            ],
            return_exceptions=True,
        )

        return results


@action
async def fetch_users(
    user_ids: list[str],
    db: Annotated[Database, Depend(get_db)],
) -> list[User]:
    return await db.get_many(User, user_ids)


@action
async def send_email(
    to: str,
    subject: str,
    emailer: Annotated[EmailClient, Depend(get_email_client)],
) -> EmailResult:
    return await emailer.send(to=to, subject=subject)
