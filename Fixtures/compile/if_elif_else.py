from waymark import Workflow, action, workflow


@action
async def notify(level: str) -> str:
    return level


@workflow
class TriageWorkflow(Workflow):
    async def run(self, score: int) -> str:
        if score > 90:
            level = "critical"
        elif score > 70:
            level = "high"
        elif score > 40:
            level = "medium"
        else:
            level = "low"
        if level == "critical":
            return await notify(level)
        if not score:
            level = "none"
        return level
