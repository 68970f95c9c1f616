from waymark import Workflow, action, workflow


@action
async def poll(job_id: str, attempt: int) -> bool:
    return attempt >= 2


@action
async def has_more(cursor: int) -> bool:
    return cursor < 3


@workflow
class PollingWorkflow(Workflow):
    async def run(self, job_id: str) -> dict:
        attempt = 0
        while attempt < 10:
            attempt += 1
            if attempt == 2:
                continue
            if await poll(job_id, attempt):
                break
        else:
            attempt = -1
        cursor = 0
        while await has_more(cursor):
            cursor += 1
        n = 5
        while n:
            n -= 1
        return {"attempt": attempt, "cursor": cursor, "n": n}
