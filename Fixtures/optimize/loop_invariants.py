from waymark import Workflow, action, workflow


@action
async def send(to: str, text: str) -> bool:
    return True


@workflow
class InvariantsWorkflow(Workflow):
    async def run(self, recipients: list[str], product: str, urgent: bool) -> int:
        sent = 0
        for recipient in recipients:
            text = f"New: {product}"
            flagged = urgent == True
            personal = f"Hi {recipient}"
            if await send(recipient, text + personal if flagged else text):
                sent += 1
        return sent
