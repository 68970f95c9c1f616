"""Exceptions cross the worker boundary with their class hierarchy and are matched by it."""
from waymark import Workflow, action, workflow


class AccountError(Exception):
    pass


class AccountFrozen(AccountError):
    pass


@action
async def lookup(table: dict, key: str) -> int:
    return table[key]


@action
async def withdraw(balance: int, amount: int) -> int:
    if balance < 0:
        raise AccountFrozen(f"account frozen with balance {balance}")
    if amount > balance:
        raise AccountError("insufficient funds")
    return balance - amount


@workflow
class ExceptionsWorkflow(Workflow):
    async def run(self, table: dict, key: str, balance: int) -> list:
        log = []
        try:
            log.append(await lookup(table, key))
        except LookupError as error:  # KeyError raised in the worker
            log.append(f"lookup: missing {error}")
        try:
            log.append(await withdraw(balance, 10))
        except AccountError as error:  # AccountFrozen is an AccountError
            log.append(f"account: {error}")
        try:
            log.append(await self.checked_withdraw(balance))
        except ValueError as error:
            log.append(f"helper raised: {error}")
        log.append(await self.cleanup_order(balance))
        return log

    async def checked_withdraw(self, balance: int) -> int:
        try:
            return await withdraw(balance, 1000)
        except AccountError:
            raise ValueError("checked: not enough")

    async def cleanup_order(self, balance: int) -> list:
        steps = []
        for attempt in range(3):
            try:
                if attempt == 0:
                    continue
                if attempt == 2:
                    break
                steps.append(f"body {attempt}")
            finally:
                steps.append(f"finally {attempt}")
        try:
            try:
                steps.append(await withdraw(balance, 5))
                return steps
            finally:
                steps.append("inner finally")
        except AccountError as error:
            steps.append(f"outer caught {error}")
        return steps


@workflow
class UncaughtWorkflow(Workflow):
    async def run(self, balance: int) -> int:
        return await withdraw(balance, 10)
