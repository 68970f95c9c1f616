from waymark import Workflow, action, workflow


@action
async def upload(data: bytes) -> int:
    return len(data)


@workflow
class BytesWorkflow(Workflow):
    async def run(self) -> int:
        payload = b"raw bytes"
        imaginary = 2j
        placeholder = ...
        return await upload(payload)
