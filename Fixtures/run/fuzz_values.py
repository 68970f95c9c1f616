"""Found by the differential fuzzer: Python's value semantics that compiled runs got wrong (set
ordering by inclusion, error messages of %, max and divmod, Unicode digits in int(), slice
assignment that inserts, where str.center puts odd padding)."""
from waymark import Workflow, action, workflow


@action
async def numbers(values: list) -> list:
    return values


@workflow
class FuzzValuesWorkflow(Workflow):
    async def run(self, zero: int, digits: str) -> list:
        xs = await numbers([3, 1, 2])
        out = [{1, 2} <= {1, 2, 3}, {1, 2} < {1, 2}, {1, 2, 3} >= {3}, {1} > {2}, set(xs) <= {1, 2, 3}]
        for text in ["7 % zero", "7 // zero", "7.5 % zero", "divmod(7, zero)", "divmod(7.5, zero)", "max([])", "min(xs[:zero])"]:
            try:
                if text == "7 % zero":
                    out.append(7 % zero)
                elif text == "7 // zero":
                    out.append(7 // zero)
                elif text == "7.5 % zero":
                    out.append(7.5 % zero)
                elif text == "divmod(7, zero)":
                    out.append(divmod(7, zero))
                elif text == "divmod(7.5, zero)":
                    out.append(divmod(7.5, zero))
                elif text == "max([])":
                    out.append(max(xs[zero:zero]))
                else:
                    out.append(min(xs[:zero]))
            except (ZeroDivisionError, ValueError) as err:
                out.append(f"{text}: {err}")
        out.append(int(digits) + 1)
        out.append(float(digits + ".5"))
        out.append(int(" 12\n"))
        ys = list(xs)
        ys[1:4] = [9]
        zs = [1]
        zs[5:9] = [7, 8]
        ws = [1, 2, 3, 4]
        ws[3:1] = [0]
        vs = [1, 2, 3]
        vs[-2:] = []
        out.append([ys, zs, ws, vs])
        out.append([word.center(width, ".") for word in ["Zz", "abc", "a", digits] for width in [4, 5, 8, 9]])
        return out
