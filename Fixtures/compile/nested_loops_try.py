from waymark import RetryPolicy, Workflow, action, workflow


@action
async def transfer(source: str, target: str, amount: int) -> int:
    if amount < 0:
        raise ValueError("negative amount")
    return amount


@workflow
class TransfersWorkflow(Workflow):
    async def run(self, accounts: list[str], amounts: list[int]) -> dict:
        moved = 0
        failures = []
        for source in accounts:
            for target in accounts:
                if source == target:
                    continue
                for amount in amounts:
                    try:
                        moved += await self.run_action(
                            transfer(source, target, amount), retry=RetryPolicy(attempts=2, exception_types=[ConnectionError])
                        )
                    except ValueError as error:
                        failures.append(f"{source}->{target}: {error}")
                        if len(failures) > 3:
                            break
        return {"moved": moved, "failures": failures}
