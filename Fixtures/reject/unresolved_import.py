from myproject.tasks import send_report
from .siblings import notify

from waymark import Workflow, workflow


@workflow
class ReportWorkflow(Workflow):
    async def run(self) -> None:
        await send_report()
        await notify()
