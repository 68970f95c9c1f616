"""Exceptions keep their instance attributes and args across the worker boundary: an action's
`RateLimited` arrives with `wait_seconds`, `err.args` is Python's tuple, and a gather with
`return_exceptions=True` returns the exceptions with their fields."""
import asyncio

from waymark import Workflow, action, workflow


class RateLimited(Exception):
    def __init__(self, service: str, wait_seconds: float, codes: list):
        super().__init__(f"{service} is rate limited")
        self.service = service
        self.wait_seconds = wait_seconds
        self.codes = codes


class QuotaExceeded(RateLimited):
    pass


class Plain(Exception):
    pass


@action
async def call_service(service: str, load: int) -> str:
    if load > 100:
        raise QuotaExceeded(service, 60.0, [429, load])
    if load > 10:
        raise RateLimited(service, load / 4, [429])
    if load < 0:
        raise Plain("negative load", load, {"load": load})
    return f"{service} ok"


@workflow
class ExceptionFieldsWorkflow(Workflow):
    async def run(self, service: str, load: int) -> dict:
        report = {}
        try:
            report["result"] = await call_service(service, load)
        except QuotaExceeded as err:
            report["quota"] = [err.service, err.wait_seconds, err.codes, str(err)]
            report["args"] = err.args
        except RateLimited as err:
            report["wait"] = err.wait_seconds * 2
            report["codes"] = err.codes + [len(err.args)]
            report["args"] = list(err.args)
        except Plain as err:
            report["plain_args"] = err.args
            report["first"] = err.args[0]
        return report


@workflow
class GatheredErrorsWorkflow(Workflow):
    async def run(self, loads: list) -> list:
        results = await asyncio.gather(*[call_service("svc", load) for load in loads], return_exceptions=True)
        waits = []
        for item in results:
            if isinstance(item, RateLimited):
                waits.append(item.wait_seconds)
            else:
                waits.append(item)
        return [results, waits]


@workflow
class ReturnedErrorWorkflow(Workflow):
    async def run(self, load: int):
        try:
            await call_service("api", load)
        except RateLimited as err:
            return err
        return None
