from waymark import Workflow, action, workflow


class PaymentError(Exception):
    pass


class CardDeclined(PaymentError):
    pass


@action
async def pay(amount: int) -> bool:
    return True


@workflow
class HandlerOrderWorkflow(Workflow):
    async def run(self, amount: int) -> str:
        try:
            await pay(amount)
        except LookupError:
            return "lookup"
        except KeyError:
            return "never: KeyError is a LookupError"
        except PaymentError:
            return "payment"
        except CardDeclined:
            return "never: caught as PaymentError"
        except Exception:
            return "other"
        except ValueError:
            return "never"
        return "ok"
