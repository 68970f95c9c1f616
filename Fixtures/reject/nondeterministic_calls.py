import random
import uuid
from datetime import datetime

from waymark import Workflow, action, workflow


@action
async def save(stamp: str, token: str, roll: float) -> None:
    return None


@workflow
class StampWorkflow(Workflow):
    async def run(self) -> None:
        stamp = datetime.now().isoformat()
        token = str(uuid.uuid4())
        roll = random.random()
        print("saving")
        await save(stamp, token, roll)
