from typing import Annotated

from waymark import Depend, Workflow, action, workflow


def get_client():
    return object()


@action
async def send(to: str, subject: str, body: str = "", *, client: Annotated[object, Depend(get_client)]) -> bool:
    return True


@workflow
class BindingErrorsWorkflow(Workflow):
    async def run(self, to: str, args: list) -> None:
        await send(to, subjct="Hi")
        await send(to, "Hi", "body", "extra")
        await send(to, "Hi", to="again")
        await send(*args)
        await send(to=to, subject="Hi", client=None)
        await send(body="only body")
