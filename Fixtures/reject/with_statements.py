from waymark import Workflow, action, workflow


@action
async def read(path: str) -> str:
    return path


@workflow
class FilesWorkflow(Workflow):
    async def run(self, path: str) -> str:
        with open(path) as handle:
            data = handle.read()
        async with self.lock:
            data = await read(path)
        async for chunk in self.stream():
            data += chunk
        return data
