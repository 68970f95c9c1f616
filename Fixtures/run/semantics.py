"""Python's semantics in workflow code: the exceptions Python would raise, string and
container behaviour, formatting."""
from waymark import Workflow, action, workflow


@action
async def data() -> dict:
    return {"items": [3, 1, 2], "name": "  Grace Hopper  ", "scores": {"a": 1}}


@workflow
class SemanticsWorkflow(Workflow):
    async def run(self, index: int, key: str, divisor: int) -> dict:
        d = await data()
        out = {}
        try:
            out["index"] = d["items"][index]
        except IndexError as error:
            out["index"] = f"IndexError: {error}"
        try:
            out["key"] = d["scores"][key]
        except KeyError as error:
            out["key"] = f"KeyError: {error}"
        try:
            out["divide"] = 10 // divisor
        except ZeroDivisionError as error:
            out["divide"] = f"ZeroDivisionError: {error}"
        try:
            out["concat"] = "n" + d["items"][0]  # not known to be an int, so only the runtime objects
        except TypeError as error:
            out["concat"] = f"TypeError: {error}"
        try:
            out["unpack"] = 0
            a, b = d["items"]
        except ValueError as error:
            out["unpack"] = f"ValueError: {error}"
        try:
            out["int"] = int(key)
        except ValueError as error:
            out["int"] = f"ValueError: {error}"
        name = d["name"].strip()
        out["strings"] = [
            name.lower(), name.split(), name.split(" ", 1), name.replace("r", "R", 1), name.find("H"), name[::-1],
            ",".join(sorted(d["items"], reverse=True)[0:2] and ["x", "y"]), name.startswith(("G", "X")),
            name.center(20, "*"), name.zfill(20), "-".join(["a", "b"]), name.title(), f"{name!r}",
            "%s has %d items" % (name, len(d["items"])), "{} and {name}".format(1, name=name),
        ]
        items = d["items"]
        items.sort()
        out["containers"] = [
            items, items.index(2), items.count(3), list(reversed(items)), {**d["scores"], "b": 2},
            d["scores"].get("missing", "default"), list(d["scores"].items()), sorted({3, 1, 2}),
            [x * y for x in range(3) for y in range(2) if x != y], (1, 2) + (3,), [0] * 3, max("abc"), min([3, 1], default=9),
        ]
        out["formats"] = [
            f"{3.14159:.2f}", f"{42:05d}", f"{1234567:,}", f"{0.25:.0%}", f"{255:#x}", f"{-5:+d}", f"{'ab':^6}|",
            f"{1e20:g}", f"{123.456:e}", f"{7:b}", format(2.5, ".1f"), f"{True}", f"{None}", f"{[1, 'a']}",
        ]
        return out
