from waymark import Workflow, action, workflow


class ValidationFailed(ValueError):
    """A user exception class, raised by the workflow itself."""


class Retryable(Exception):
    pass


@action
async def validate(payload: dict) -> bool:
    return bool(payload)


@workflow
class RaiseWorkflow(Workflow):
    async def run(self, payload: dict) -> bool:
        if not payload:
            raise ValidationFailed("empty payload")
        if "bad" in payload:
            raise ValueError
        try:
            ok = await validate(payload)
        except Retryable as error:
            raise RuntimeError("validation unavailable") from error
        except ValueError:
            raise
        if not ok:
            raise ValidationFailed(f"invalid: {payload}")
        return ok
