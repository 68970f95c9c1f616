"""Found by the differential fuzzer: what a finally block is finishing (an exception, a return)
survives control flow that stays inside the block, and is replaced by a jump out of it."""
from waymark import Workflow, action, workflow


@action
async def lookup(table: dict, key: str) -> int:
    return table[key]


@workflow
class FinallyLoopWorkflow(Workflow):
    """A `break` of a loop inside the finally block: the KeyError still propagates."""

    async def run(self, n: int) -> list:
        out = []
        try:
            out.append(await lookup({"b": 1}, "a"))
        finally:
            for x in "ab":
                try:
                    out.append(x)
                finally:
                    if n > 0:
                        break
        return out


@workflow
class FinallyCaughtWorkflow(Workflow):
    """An exception raised and caught inside the finally block: the first one still propagates."""

    async def run(self, n: int) -> list:
        out = []
        try:
            out.append({"b": 1}["a"] if n > 0 else n)
        finally:
            try:
                raise ValueError("inner")
            except ValueError as err:
                out.append(str(err))
        return out


@workflow
class FinallyJumpWorkflow(Workflow):
    """A `break` out of the finally block itself, and a `return` in one, drop the exception."""

    async def run(self, n: int) -> list:
        out = []
        for x in range(3):
            try:
                out.append(10 // (n - x))
            finally:
                if x == n:
                    break
        out.append(await self.swallow(n))
        return out

    async def swallow(self, n: int) -> str:
        try:
            return str(1 // n)
        finally:
            if n == 0:
                return "swallowed"
