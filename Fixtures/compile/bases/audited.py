"""A base workflow class in its own module, with a helper its subclasses inherit."""
from waymark import Workflow, action


@action
async def record(entry: str) -> None:
    return None


class Audited(Workflow):
    async def audit(self, entry: str) -> None:
        await record(entry.upper())
