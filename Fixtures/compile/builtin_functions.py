from waymark import Workflow, action, workflow


@action
async def numbers() -> list[float]:
    return [3.5, -1.0, 2.25]


@workflow
class BuiltinsWorkflow(Workflow):
    async def run(self, words: list[str]) -> dict:
        xs = await numbers()
        return {
            "len": len(words), "range": list(range(3)), "enumerate": list(enumerate(words)),
            "zip": list(zip(words, xs)), "min": min(xs), "max": max(xs, default=0), "sum": sum(xs),
            "abs": [abs(x) for x in xs], "round": round(xs[0]), "round2": round(xs[2], 1),
            "sorted": sorted(words, reverse=True), "reversed": list(reversed(words)),
            "any": any(xs), "all": all(words), "str": str(xs[0]), "int": int("42"),
            "float": float("1.5"), "bool": bool(words), "dict": dict(a=1), "set": set(words),
            "tuple": tuple(words), "isinstance": isinstance(xs[0], float),
            "is_text": isinstance(words, (list, tuple)),
        }
