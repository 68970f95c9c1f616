from waymark import Workflow, action, workflow


@action
async def amount() -> float:
    return 1234.5678


@workflow
class FormatWorkflow(Workflow):
    async def run(self, name: str, width: int) -> list[str]:
        value = await amount()
        return [
            f"Hello {name}!",
            f"{name!r} {name!s} {name!a}",
            f"{value:.2f} {value:>12,.1f} {value:e}",
            f"{name:>{width}}|{name:^{width}.{width}}|",
            f"{{literal}} {value!r:>20}",
            f"{len(name)} chars, upper={name.upper()}",
            f"{'nested ' + name}",
        ]
