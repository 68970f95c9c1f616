from typing import Optional

from pydantic import BaseModel
from waymark import Workflow, action, workflow


class Lookup(BaseModel):
    session_id: str | None = None
    items: list[str] = []


@action
async def lookup(key: str) -> Lookup:
    if key == "none":
        return Lookup()
    return Lookup(session_id="s-" + key, items=[key, key.upper()])


@action
async def greet(name: str, nickname: str | None) -> str:
    return f"hello {nickname or name}"


@action
async def shout(text: str) -> str:
    return text.upper()


@action
async def record(session_id: str, item: str) -> int:
    return len(session_id) + len(item)


@workflow
class OptionalNarrowingWorkflow(Workflow):
    async def run(self, name: str, nickname: str | None = None, key: Optional[str] = None) -> dict:
        # A union passed where the same union is declared.
        greeting = await greet(name, nickname)
        # Narrowed in both branches of `is None`.
        if nickname is None:
            loud = await shout(name)
        else:
            loud = await shout(nickname)
        # Narrowed by `is not None and ...`, and by a conditional expression.
        short = nickname is not None and len(nickname) < 4
        chosen = await shout(nickname if nickname is not None else "nobody")
        # Early return narrows what follows.
        if key is None:
            return {"greeting": greeting, "loud": loud, "short": short, "chosen": chosen}
        found = await lookup(key)
        # Truthiness narrows an attribute path; the early return narrows what follows.
        if not found.session_id:
            return {"greeting": greeting, "loud": loud, "missing": key}
        total = 0
        for item in found.items:
            total = total + await record(found.session_id, item)
        if isinstance(nickname, str):
            loud = await shout(nickname)
        return {"greeting": greeting, "loud": loud, "short": short, "chosen": chosen, "total": total}
