"""Models and tuples the way waymark's fixtures pass them around: a pydantic model or dataclass
built inline as an action's argument, a dataclass built positionally, a model's list field
tested for truth, models inside list/dict/tuple displays, a tuple an action returns unpacked
in a loop, and a list grown by concatenation."""
from dataclasses import dataclass

from pydantic import BaseModel

from waymark import Workflow, action, workflow


class Request(BaseModel):
    items: list[str]
    note: str = "none"


class Summary(BaseModel):
    count: int
    first: str | None = None


@dataclass
class Point:
    x: int
    y: int
    label: str = "p"


@action
async def summarize(request: Request) -> Summary:
    return Summary(count=len(request.items), first=request.items[0] if request.items else None)


@action
async def shift(point: Point) -> Point:
    return Point(point.x + 1, point.y + 1, point.label.upper())


@action
async def classify(item: str) -> tuple:
    return (len(item) > 2, item.upper() if len(item) > 2 else item.lower())


@workflow
class ModelsAsArgumentsWorkflow(Workflow):
    async def run(self, items: list[str], x: int) -> dict:
        summary = await summarize(Request(items=items))
        noted = await summarize(Request(items=items[:1], note="first"))
        point = await shift(Point(x, x * 2))
        valid = []
        invalid = []
        seen = []
        for item in items:
            ok, processed = await classify(item)
            if ok:
                valid.append(processed)
            else:
                invalid.append(processed)
            seen = seen + [processed]
        count = 0
        if summary.first:
            count = summary.count
        return {
            "summary": summary,
            "noted": noted.count,
            "point": point,
            "label": point.label,
            "lists": [Summary(count=1), Summary(count=2, first="b")],
            "pair": (Point(1, 2), Point(3, 4, "q")),
            "by_name": {"only": Summary(count=count)},
            "valid": valid,
            "invalid": invalid,
            "seen": seen,
        }
