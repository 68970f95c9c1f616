from waymark import Workflow, action, workflow


@action
async def log_event(message: str) -> None:
    return None


class AuditedWorkflow(Workflow):
    """A project base class: its helpers are inherited by workflows."""

    async def audit(self, message: str) -> None:
        await log_event(f"[audit] {message}")

    def label(self, value: int) -> str:
        return f"#{value}"


@workflow
class ImportJobWorkflow(AuditedWorkflow):
    async def run(self, count: int) -> str:
        await self.audit("start")
        label = self.label(count)
        await self.audit(f"done {label}")
        return label
