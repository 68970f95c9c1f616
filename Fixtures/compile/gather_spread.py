import asyncio

from waymark import RetryPolicy, Workflow, action, workflow


@action
async def resize(image: str, width: int) -> str:
    return f"{image}@{width}"


@workflow
class ThumbnailsWorkflow(Workflow):
    async def run(self, images: list[str], widths: list[int]) -> dict:
        plain = await asyncio.gather(*[resize(image, 100) for image in images])
        generated = await asyncio.gather(*(resize(image=image, width=200) for image in images))
        filtered = await asyncio.gather(
            *[resize(image, width) for image in images if image.endswith(".png") for width in widths if width > 0],
            return_exceptions=True,
        )
        indexed = await asyncio.gather(
            *[self.run_action(resize(image, i * 10), retry=RetryPolicy(attempts=2)) for i, image in enumerate(images)]
        )
        mixed = await asyncio.gather(resize("cover.png", 50), *[resize(image, 50) for image in images])
        return {"plain": plain, "generated": generated, "filtered": filtered, "indexed": indexed, "mixed": mixed}
