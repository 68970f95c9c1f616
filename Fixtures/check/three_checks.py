"""A misspelled keyword argument, a missing await and a possibly-unbound name: three errors."""
from waymark import Workflow, action, workflow


@action
async def send_email(to: str, subject: str) -> bool:
    return True


@workflow
class NewsletterWorkflow(Workflow):
    async def run(self, emails: list[str], urgent: bool) -> bool:
        if urgent:
            subject = "Act now"
        await send_email(to=emails[0], subjetc="Hello")
        send_email(to=emails[1], subject="Hello again")
        return await send_email(to=emails[-1], subject=subject)
