from waymark import Workflow, action, workflow


@action
async def profile(user_id: str) -> dict:
    return {"name": "  Ada Lovelace ", "emails": ["ada@example.com"]}


@workflow
class StringMethodsWorkflow(Workflow):
    async def run(self, user_id: str) -> dict:
        data = await profile(user_id)
        name = data.get("name", "").strip()
        first, last = name.split(" ", 1)
        return {
            "upper": name.upper(), "lower": name.lower(), "initials": "".join(p[0] for p in name.split()),
            "starts": name.startswith("Ada"), "replaced": name.replace("Ada", "A."),
            "keys": list(data.keys()), "values": len(list(data.values())),
            "items": [k for k, v in data.items() if v], "missing": data.get("phone"),
            "first": first, "last": last.rstrip().lstrip(),
        }
