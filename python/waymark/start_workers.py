"""`waymark-start-workers`: the server, started as waymark's users start it.

    export WAYMARK_DATABASE_URL=postgresql://...
    export WAYMARK_USER_MODULE=shop.flows,shop.billing
    waymark-start-workers

Imports every module of `WAYMARK_USER_MODULE` (comma-separated, importable from the working
directory or `PYTHONPATH`), compiles each `@workflow` class it defines (cached, as the client
compiles them), and replaces itself with `waymark-run serve --registered` over those bundles:
it registers them in the database and serves every registered version that these modules can
run (a version the app registered with its first `run()`, or one still in flight from before a
deploy, as long as its modules are still imported by these); the same flags
and environment variables (`WAYMARK_WORKER_COUNT`, `WAYMARK_CONCURRENT_PER_WORKER`,
`WAYMARK_MAX_ACTION_LIFECYCLE`, `WAYMARK_DATABASE_URL[_FILE]`, ...). Extra arguments are passed
to `serve` as they are. The workers run on this interpreter, so on the app's virtualenv.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys

from .toolchain import ToolchainError, WorkflowCompileError, compiled, executable


def workflow_classes(module_names: list[str]) -> list[type]:
    classes: list[type] = []
    for name in module_names:
        module = importlib.import_module(name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if value.__module__ == module.__name__ and hasattr(value, "__waymark_inline_run__"):
                classes.append(value)
    return classes


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    modules = [name.strip() for name in os.environ.get("WAYMARK_USER_MODULE", "").split(",") if name.strip()]
    if not modules:
        sys.exit("waymark-start-workers: set WAYMARK_USER_MODULE to the modules that define your workflows (comma-separated)")
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        classes = workflow_classes(modules)
        if not classes:
            sys.exit(f"waymark-start-workers: no @workflow classes in {', '.join(modules)}")
        bundles = [compiled(cls) for cls in classes]
        serve = executable("waymark-run")
    except WorkflowCompileError as error:
        sys.exit(f"waymark-start-workers: {error}")
    except (ImportError, ToolchainError) as error:
        sys.exit(f"waymark-start-workers: {error}")
    roots = sorted({bundle.root for bundle in bundles})
    # Registers these bundles and serves every registered version the modules can run (older
    # versions with instances still queued or sleeping included).
    command = [serve, "serve", "--registered", *sorted({bundle.bundle for bundle in bundles})]
    for root in roots:
        command += ["--allow-search-path", root]
    # Registered bundles carry no search path: their modules are found where these are.
    os.environ["PYTHONPATH"] = os.pathsep.join([*roots, *filter(None, [os.environ.get("PYTHONPATH")])])
    os.environ.setdefault("WAYMARK_PYTHON", sys.executable)
    names = ", ".join(f"{bundle.name} ({bundle.version[:12]})" for bundle in bundles)
    print(f"waymark-start-workers: serving {names}", file=sys.stderr, flush=True)
    os.execv(serve, command + argv)


if __name__ == "__main__":
    main()
