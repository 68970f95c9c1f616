from waymark import Workflow, action, workflow


@action
async def defaults() -> dict:
    return {"retries": 3}


@workflow
class LiteralsWorkflow(Workflow):
    async def run(self, extra: list[int], overrides: dict) -> dict:
        base = await defaults()
        numbers = [1, 2, *extra, 3]
        pair = (1, "two")
        single = (1,)
        empty_tuple = ()
        unique = {1, 2, *extra}
        merged = {**base, "mode": "fast", **overrides}
        nested = {"list": [[], [1]], "dict": {}, "none": None, "flags": [True, False]}
        return {"numbers": numbers, "pair": pair, "single": single, "empty": empty_tuple,
                "unique": sorted(unique), "merged": merged, "nested": nested}
