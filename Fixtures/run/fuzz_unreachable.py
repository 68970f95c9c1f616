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
