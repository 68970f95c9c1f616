"""Found by the differential fuzzer (seed 1022985689, 2,000 programs): a float floor division
whose quotient is zero keeps the quotient's sign (`0.0 // -0.75` is -0.0, as are `-0.0 // 2.0`
and divmod's first item), and `"" in "ab"` is True, also where the optimizer folds it."""
from waymark import Workflow, action, workflow


@action
async def echo(value: float) -> float:
    return value


@workflow
class FuzzSignedZeroWorkflow(Workflow):
    async def run(self, f: float, s: str) -> list:
        zero = await echo(f % 0.5)
        out = [zero // -0.75, zero // 0.75, -zero // 2.0, (-zero) // -2.0, divmod(zero, -3.0), zero % -0.5]
        out.append(0.25 // -3.0)
        out.append((f % 0.5) // -0.75)
        # Folded at -O: Python's `in` by code points, where the empty string is everywhere.
        n = 0
        while n < 8 and (n < 4 or ("" in "ab")):
            n += 1
        out.append(n)
        out.append(["" in "ab", "" not in "", "e\u0301" in "\u00e9", "b" in "abc", "" in s])
        return out
