"""Exceptions handed to actions, as waymark code does: a caught exception passed as an argument
(`except ValueError as err: await handle(error=err)`), a gather's `return_exceptions=True`
tuple passed whole to an action, a catch-all handler, and returns inside try and handler."""
import asyncio

from waymark import Workflow, action, workflow


class QuotaError(Exception):
    def __init__(self, service: str, remaining: int):
        super().__init__(f"{service} is out of quota")
        self.remaining = remaining


@action
async def risky(kind: str) -> str:
    if kind == "value":
        raise ValueError("bad value")
    if kind == "quota":
        raise QuotaError("mail", 0)
    if kind == "type":
        raise TypeError("bad type")
    return f"ok:{kind}"


@action
async def describe(error: object) -> str:
    if isinstance(error, QuotaError):
        return f"{type(error).__name__}({error.remaining}): {error}"
    if isinstance(error, Exception):
        return f"{type(error).__name__}: {error}"
    return f"not an exception: {error!r}"


@action
async def tally(values: tuple) -> list:
    return [type(value).__name__ if isinstance(value, BaseException) else value for value in values]


@workflow
class ExceptionsAsArgumentsWorkflow(Workflow):
    async def first_step(self, kind: str) -> str:
        try:
            value = await risky(kind)
            return f"returned {value}"
        except ValueError:
            return "handler returned"
        except Exception as err:
            return f"handler returned {err}"

    async def run(self, kind: str) -> dict:
        try:
            result = await risky(kind)
        except ValueError as err:
            result = await describe(error=err)
        except QuotaError as err:
            result = await describe(err)
        except Exception as err:
            result = await describe(error=err)
        outcomes = await asyncio.gather(risky(kind), risky("fine"), return_exceptions=True)
        return {
            "result": result,
            "tally": await tally(values=outcomes),
            "described": await describe(outcomes[0]),
            "step": await self.first_step(kind),
        }
