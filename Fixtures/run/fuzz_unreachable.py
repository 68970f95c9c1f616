"""Found by the differential fuzzer: code after `raise`, `return`, `break` or `continue` is
valid Python (it never runs; waymarkc warns, WMK220) and must not stop the bundle from building."""
from waymark import Workflow, action, workflow


@action
async def echo(value: int) -> int:
    return value


@workflow
class UnreachableWorkflow(Workflow):
    async def run(self, xs: list[int]) -> list:
        out = []
        try:
            raise ValueError("first")
            out.append(xs.pop(0))
        except ValueError as err:
            out.append(str(err))
        else:
            out.append("else")
        for x in xs:
            if x:
                break
            else:
                continue
            out.append(await echo(x))
        else:
            out.append("for-else")
        if len(xs) > 2:
            out.append("long")
            return out
            out.append("after return")
        return out
        out.append("never")


@workflow
class UnreachableHandlersWorkflow(Workflow):
    """Handlers of a try whose body cannot raise, and a loop whose `else` always breaks out of
    the loop around it (so nothing follows the inner loop): nodes nothing reaches."""

    async def run(self, xs: list[int]) -> list:
        out = []
        while len(out) < 3:
            out.append(len(out))
            try:
                if True:
                    break
            except KeyError:
                out.append("never")
            finally:
                out.append("finally")
        for x in xs:
            for y in range(x):
                out.append(y)
            else:
                break
        for x in xs:
            try:
                if True:
                    continue
            except IndexError:
                out.append("never")
            for y in str(x):  # a whole loop nothing reaches
                out.append(y)
        out.append(await echo(len(xs)))
        return out
