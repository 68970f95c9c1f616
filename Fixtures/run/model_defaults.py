"""Models and dataclasses built in workflow code behave as in Python: defaults and default
factories, pydantic's lax coercion of fields, a catchable ValidationError, mutation."""
from dataclasses import dataclass, field
from typing import Optional

from pydantic import BaseModel, Field, ValidationError

from waymark import Workflow, action, workflow


class Dimensions(BaseModel):
    width: float
    height: float = 1.0


class Parcel(BaseModel):
    ref: str
    qty: int = 1
    tags: list[str] = []
    extras: dict[str, int] = Field(default_factory=dict)
    size: Optional[Dimensions] = None
    note: Optional[str] = None
    express: bool = False


class Label(BaseModel):
    parcel: Parcel
    copies: int = Field(default=2)


@dataclass
class Box:
    width: int
    height: int = 2
    items: list = field(default_factory=list)


@action
async def weigh(parcel: Parcel) -> float:
    return parcel.qty * 1.5 + len(parcel.tags)


@workflow
class ModelDefaultsWorkflow(Workflow):
    async def run(self, ref: str, qty: str, flag: str) -> dict:
        first = Parcel(ref=ref, qty=qty, express=flag, size={"width": "2.5"})
        first.tags.append("fragile")
        second = Parcel(ref=ref + "-2")
        second.qty += 4
        second.extras["seen"] = 1
        box = Box(3)
        box.items.append(first.ref)
        other = Box(1, height=5)
        label = Label(parcel={"ref": "L", "qty": 2.0})
        errors = []
        try:
            Parcel(ref=ref, qty="three")
        except ValidationError:
            errors.append("qty")
        try:
            Parcel(qty=1)
        except ValueError:
            errors.append("missing ref")
        weight = await weigh(first)
        return {
            "first": first,
            "second": second,
            "second_tags": second.tags,
            "box": box,
            "other": other,
            "label": label,
            "errors": errors,
            "weight": weight,
            "height": first.size.height,
        }
