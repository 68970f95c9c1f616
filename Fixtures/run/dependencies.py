"""Depend(...) providers: sync, async, generator (context manager) and nested ones; sync and
async actions; *args and **kwargs actions."""
from typing import Annotated

from waymark import Depend, Workflow, action, workflow

from teststate import bump


def settings() -> dict:
    return {"prefix": "msg"}


async def connection(config: Annotated[dict, Depend(settings)]) -> str:
    return f"conn[{config['prefix']}]"


def session():
    bump("session-opened")
    yield "session"
    bump("session-closed")


@action
async def send(text: str, conn: Annotated[str, Depend(connection)], db: Annotated[str, Depend(session)]) -> str:
    return f"{conn}/{db}: {text}"


@action
def sync_upper(text: str) -> str:
    return text.upper()


@action
def collect(*parts: str, **flags: bool) -> dict:
    return {"parts": list(parts), "flags": dict(sorted(flags.items()))}


@action
async def sessions() -> list:
    return [bump("session-opened") - 1, bump("session-closed") - 1]


@workflow
class DependenciesWorkflow(Workflow):
    async def run(self, text: str) -> dict:
        sent = await send(text)
        again = await send(text=text + "!")
        loud = await sync_upper(text)
        collected = await collect("a", "b", loud=True, quiet=False)
        return {"sent": sent, "again": again, "loud": loud, "collected": collected, "sessions": await sessions()}
