from waymark import Workflow, action, workflow


@action
async def fetch_page(page: int) -> list:
    return []


@workflow
class CrawlWorkflow(Workflow):
    async def run(self) -> list:
        return await self.crawl(0)

    async def crawl(self, page: int) -> list:
        items = await fetch_page(page)
        if items:
            return items + await self.crawl(page + 1)
        return items
