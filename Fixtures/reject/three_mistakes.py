"""A misspelled keyword argument, a missing await and a forbidden call: all three reported."""
from datetime import datetime

from waymark import Workflow, action, workflow


@action
async def send_email(to: str, subject: str) -> bool:
    return True


@workflow
class WelcomeWorkflow(Workflow):
    async def run(self, email: str) -> bool:
        sent = await send_email(to=email, subjet="Welcome")
        send_email(to=email, subject="Reminder")
        sent_at = datetime.utcnow()
        return sent
