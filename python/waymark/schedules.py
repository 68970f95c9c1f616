"""Schedules, with waymark's API: `schedule_workflow`, `pause_schedule`, `resume_schedule`,
`delete_schedule`, `list_schedules`.

Each call runs `waymark-run schedule ...` against `WAYMARK_DATABASE_URL`, so cron parsing, time
zones and validation have one definition (the runtime's), and every `waymark-start-workers`
fires due schedules. Schedule names are unique per workflow, as in waymark.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Optional, Union

from . import outcomes, toolchain
from .client import database_url, redact

ScheduleStatus = Literal["active", "paused"]


class ScheduleError(ValueError):
    """The runtime refused the schedule (a bad cron field, input that does not fit `run()`,
    no such schedule); the message says which."""


@dataclass
class ScheduleInfo:
    workflow_name: str
    schedule_name: str
    schedule_type: Literal["cron", "interval"]
    cron_expression: Optional[str]
    time_zone: Optional[str]
    interval_seconds: Optional[float]
    jitter_seconds: float
    status: ScheduleStatus
    next_run_at: Optional[datetime]
    last_instance_id: Optional[str]
    allow_duplicate: bool
    inputs: dict


async def _schedule_command(*arguments: str) -> str:
    url = database_url()
    if not url:
        raise ConnectionError("schedules need a database: set WAYMARK_DATABASE_URL")
    process = await asyncio.create_subprocess_exec(
        toolchain.executable("waymark-run"), "schedule", *arguments,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=dict(os.environ),
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        message = err.decode("utf-8", "replace").strip().removeprefix("waymark-run: error: ")
        raise ScheduleError(redact(message, url))
    return out.decode("utf-8")


def _seconds(value: timedelta | float | int) -> str:
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    return repr(seconds)


async def schedule_workflow(
    workflow_cls: type,
    *,
    schedule_name: str,
    schedule: Union[str, timedelta],
    jitter: Optional[timedelta] = None,
    inputs: Optional[dict[str, Any]] = None,
    priority: Optional[int] = None,
    allow_duplicate: bool = False,
    time_zone: str = "UTC",
) -> str:
    """Starts `workflow_cls` on a cron expression (5 fields, read in `time_zone`) or every
    `timedelta`; returns the schedule's name. Adding a name again redefines the schedule."""
    if priority is not None:
        raise NotImplementedError("schedule priorities are not supported yet; leave priority=None")
    compiled = await asyncio.to_thread(toolchain.compiled, workflow_cls)
    run = getattr(workflow_cls, "__waymark_inline_run__", workflow_cls.run)
    arguments = outcomes.arguments(run, (), dict(inputs or {}))
    if isinstance(schedule, timedelta):
        timing = ["--every", _seconds(schedule)]
    elif isinstance(schedule, str):
        timing = ["--cron", schedule, "--time-zone", time_zone]
    else:
        raise TypeError("schedule is a cron expression (str) or a timedelta")
    await _schedule_command(
        "add", compiled.bundle, "--workflow", compiled.name, "--name", schedule_name, *timing,
        "--jitter", _seconds(jitter or 0), "--input", json.dumps(arguments, separators=(",", ":")),
        *(["--allow-duplicate"] if allow_duplicate else []),
    )
    return schedule_name


async def _change(verb: str, workflow_cls: type, schedule_name: str) -> bool:
    try:
        await _schedule_command(verb, schedule_name, "--workflow", workflow_cls.__name__)
    except ScheduleError as error:
        if "no schedule named" in str(error):
            return False
        raise
    return True


async def pause_schedule(workflow_cls: type, *, schedule_name: str) -> bool:
    """Stops starting instances; False when there is no such schedule."""
    return await _change("pause", workflow_cls, schedule_name)


async def resume_schedule(workflow_cls: type, *, schedule_name: str) -> bool:
    """Starts instances again from the next tick; False when there is no such schedule."""
    return await _change("resume", workflow_cls, schedule_name)


async def delete_schedule(workflow_cls: type, *, schedule_name: str) -> bool:
    """Deletes the schedule (its instances stay); False when there is no such schedule."""
    return await _change("delete", workflow_cls, schedule_name)


async def list_schedules(status_filter: Optional[ScheduleStatus] = None) -> list[ScheduleInfo]:
    schedules = []
    for line in (await _schedule_command("list", "--json")).splitlines():
        item = json.loads(line)
        info = ScheduleInfo(
            workflow_name=item["workflow"],
            schedule_name=item["name"],
            schedule_type="cron" if "cron" in item else "interval",
            cron_expression=item.get("cron"),
            time_zone=item.get("time_zone"),
            interval_seconds=item.get("every_seconds"),
            jitter_seconds=item.get("jitter_seconds", 0.0),
            status="paused" if item.get("paused") else "active",
            next_run_at=datetime.fromisoformat(item["next_tick"].replace("Z", "+00:00")) if item.get("next_tick") else None,
            last_instance_id=item.get("last_instance"),
            allow_duplicate=bool(item.get("allow_duplicate")),
            inputs=item.get("input") or {},
        )
        if status_filter is None or info.status == status_filter:
            schedules.append(info)
    return schedules
