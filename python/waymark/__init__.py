"""The waymark Python API: what workflow and action modules import.

`waymarkc` reads these names statically (it never imports user code); at run time the same
decorators register actions for the worker processes, and `Workflow.run()` can be executed
directly in Python ("inline mode"), which is what unit tests and the parity harness use.
"""

from .actions import action, ActionTimeout, WaymarkTimeout, registry
from .dependencies import Depend, Depends
from .policies import BackoffPolicy, RetryPolicy
from .schedules import delete_schedule, list_schedules, pause_schedule, resume_schedule, schedule_workflow
from .workflow import Workflow, workflow

__all__ = [
    "ActionTimeout",
    "WaymarkTimeout",
    "BackoffPolicy",
    "Depend",
    "Depends",
    "RetryPolicy",
    "Workflow",
    "action",
    "delete_schedule",
    "list_schedules",
    "pause_schedule",
    "resume_schedule",
    "schedule_workflow",
    "registry",
    "workflow",
]
