from waymark import Workflow, action, workflow

BATCH_SIZE = 25
GREETING = "hello"
WEIGHTS = (0.5, 0.25, 0.25)
NEGATIVE = -3


@action
async def process(batch: list[int]) -> int:
    return len(batch)


@workflow
class BatchesWorkflow(Workflow):
    async def run(self, ids: list[int]) -> dict:
        processed = 0
        for start in range(0, len(ids), BATCH_SIZE):
            processed += await process(ids[start:start + BATCH_SIZE])
        return {"processed": processed, "greeting": GREETING, "weights": WEIGHTS, "offset": NEGATIVE}
