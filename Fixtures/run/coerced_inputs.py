"""run()'s inputs are checked and coerced against its annotations before the instance is
stored, as pydantic's lax mode does: JSON objects become models and dataclasses, ISO text a
datetime or date, text a UUID or Decimal, "5" an int."""
import datetime
import decimal
import uuid
from dataclasses import dataclass
from typing import Optional

from pydantic import BaseModel

from waymark import Workflow, action, workflow


class LineItem(BaseModel):
    sku: str
    qty: int = 1
    note: Optional[str] = None


@dataclass
class Window:
    start: datetime.datetime
    days: int = 7


@action
async def describe_window(window: Window, when: datetime.datetime, day: datetime.date) -> dict:
    end = window.start + datetime.timedelta(days=window.days)
    return {"end": end.isoformat(), "weekday": when.weekday(), "same_year": when.year == day.year}


@action
async def describe_ids(order_id: uuid.UUID, price: decimal.Decimal) -> dict:
    return {"version": order_id.version, "hex": order_id.hex[:8], "cents": int(price * 100)}


@action
async def total(items: list[LineItem]) -> int:
    return sum(item.qty for item in items)


@workflow
class CoercedInputsWorkflow(Workflow):
    async def run(self, items: list[LineItem], count: int, ratio: float, flags: list[bool], label: str | None = None) -> dict:
        qty = await total(items)
        return {
            "qty": qty,
            "count_plus_one": count + 1,
            "ratio": ratio,
            "flags": flags,
            "skus": [item.sku for item in items],
            "notes": [item.note for item in items],
            "are_models": [isinstance(item, LineItem) for item in items],
            "label": label,
            "items": items,
        }


@workflow
class StandardInputsWorkflow(Workflow):
    async def run(self, window: Window, when: datetime.datetime, day: datetime.date, order_id: uuid.UUID, price: decimal.Decimal) -> list:
        described = await describe_window(window, when, day)
        ids = await describe_ids(order_id, price)
        return [described, ids, window.days]
