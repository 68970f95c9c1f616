"""Values through actions and back: Python types the runner only carries, models coerced from
dicts by annotation, and Python's number semantics in workflow code."""
import datetime
import decimal
import uuid
from dataclasses import dataclass

from pydantic import BaseModel

from waymark import Workflow, action, workflow


class Address(BaseModel):
    street: str
    city: str


@dataclass
class Parcel:
    weight: float
    address: Address


@action
async def make_values() -> dict:
    return {
        "when": datetime.datetime(2024, 2, 29, 12, 30),
        "day": datetime.date(2024, 1, 2),
        "wait": datetime.timedelta(hours=1, minutes=2),
        "price": decimal.Decimal("19.99"),
        "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "raw": b"\x00\x01",
        "pair": (1, "two"),
        "tags": {"b", "a"},
        "by_number": {1: "one", 2: "two"},
    }


@action
async def describe(values: dict) -> dict:
    return {
        "when": values["when"].isoformat(),
        "next_day": (values["day"] + datetime.timedelta(days=1)).isoformat(),
        "price_cents": int(values["price"] * 100),
        "id_version": values["id"].version,
        "raw_length": len(values["raw"]),
        "pair_type": type(values["pair"]).__name__,
        "tags": sorted(values["tags"]),
        "keys": sorted(values["by_number"]),
    }


@action
async def ship(parcel: Parcel, to: Address) -> str:
    return f"{parcel.weight}kg to {to.street}, {to.city} ({type(parcel).__name__}, {type(to).__name__})"


@workflow
class ValuesWorkflow(Workflow):
    async def run(self, street: str, big: int) -> dict:
        values = await make_values()
        described = await describe(values)
        label = await ship(
            {"weight": 2.5, "address": {"street": street, "city": "Oslo"}}, {"street": street, "city": "Bergen"}
        )
        numbers = {
            "power": 2 ** 100 + big,
            "product": big * big * big,
            "floor_div": [7 // 2, -7 // 2, 7 // -2, -7.5 // 2],
            "modulo": [7 % 3, -7 % 3, 7 % -3, -7.5 % 2],
            "true_div": [7 / 2, 1 / 3, 10 / 5],
            "round": [round(0.5), round(1.5), round(2.5), round(-0.5), round(2.675, 2), round(1234, -2)],
            "repr": [0.1 + 0.2, 1e16, 1e15, 1.0, 1e-05, 123456789.0, -0.0, 3.14159],
            "keys": {1: "int", 1.0: "float", True: "bool"},
            "bools": [True + True, 1 == 1.0, True == 1],
        }
        return {"described": described, "label": label, "numbers": numbers, "when": values["when"], "tags": values["tags"]}
