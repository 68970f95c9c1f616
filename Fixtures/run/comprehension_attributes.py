"""Comprehensions over run() inputs as waymark's fixtures write them: attributes of models in a
dict comprehension with a filter, a conditional expression per element, tuple pairs unpacked
into a dict, and attribute access on plain dicts (an AttributeError, caught)."""
from pydantic import BaseModel

from waymark import Workflow, workflow


class User(BaseModel):
    id: int
    name: str
    active: bool = True


@workflow
class ComprehensionAttributesWorkflow(Workflow):
    async def run(self, users: list[User], pairs: list[tuple[str, int]], rows: list) -> dict:
        active = {user.id: user.name for user in users if user.active}
        statuses = [user.name if user.active else "inactive" for user in users]
        mapping = {key: value for key, value in pairs}
        try:
            names = [row.name for row in rows]
        except AttributeError as err:
            names = [str(err)]
        return {"active": active, "statuses": statuses, "mapping": mapping, "names": names}
