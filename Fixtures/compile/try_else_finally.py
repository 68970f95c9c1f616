from waymark import Workflow, action, workflow


@action
async def step(name: str) -> str:
    if name == "fail":
        raise ValueError(name)
    return name


@action
async def cleanup(log: list) -> list:
    return log + ["cleanup"]


@workflow
class TryElseFinallyWorkflow(Workflow):
    async def run(self, name: str) -> list:
        log = []
        try:
            log.append(await step(name))
        except ValueError as error:
            log.append(f"caught {error}")
        else:
            log.append("no error")
        finally:
            log = await cleanup(log)
        try:
            for item in [1, 2]:
                try:
                    if item == 2:
                        break
                finally:
                    log.append(item)
        finally:
            log.append("outer")
        return log
