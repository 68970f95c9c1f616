import asyncio

from waymark import Workflow, action, workflow


@action
async def count_words(text: str) -> int:
    return len(text.split())


@action
async def first_word(text: str) -> str:
    return text.split()[0] if text else ""


@action
async def double(value: int) -> int:
    return value * 2


@workflow
class TupleGatherWorkflow(Workflow):
    async def run(self, text: str) -> dict:
        words, head = await asyncio.gather(count_words(text), first_word(text))
        pair = await self.both(text)
        doubled = await asyncio.gather(*[double(n) for n in range(words)])
        return {"words": words, "head": head.upper(), "pair": list(pair), "doubled": doubled}

    async def both(self, text: str) -> tuple[int, str]:
        return await asyncio.gather(count_words(text), first_word(text))
