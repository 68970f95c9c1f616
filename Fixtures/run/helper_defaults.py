"""Helper methods as waymark code writes them: keyword-only parameters whose defaults the call
leaves out (None, a string, an int), an awaited helper's result passed straight into another
call, and positional and keyword arguments mixed."""
from waymark import Workflow, action, workflow


@action
async def double(value: int) -> int:
    return value * 2


@workflow
class HelperDefaultsWorkflow(Workflow):
    async def scaled(self, *, required: int, extra: int | None = None, tag: str = "default") -> str:
        result = await double(required)
        if extra is not None:
            result += extra
        return f"{tag}:{result}"

    async def offset(self, delta: int = 5) -> int:
        return delta

    async def shifted(self, value: int, offset: int, multiplier: int = 10) -> int:
        return await double(value + offset) * multiplier

    def combine(self, a: int, b: int, c: int = 1, *, sep: str = "-") -> str:
        return sep.join([str(a), str(b), str(c)])

    async def run(self, value: int) -> list:
        out = [await self.scaled(required=value)]
        out.append(await self.scaled(required=value, extra=3, tag="extra"))
        out.append(await self.shifted(value=value, offset=await self.offset()))
        out.append(await self.shifted(value, await self.offset(delta=-value), multiplier=1))
        out.append(self.combine(value, 2))
        out.append(self.combine(value, 2, 3, sep="+"))
        return out
