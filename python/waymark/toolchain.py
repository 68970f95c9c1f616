"""The compiled program behind a workflow class: found executables, compiled bundles, cached.

The app never handles a bundle. The first `run()` of a workflow class in a process compiles the
class's module with `waymarkc` and keeps the bundle in a cache directory; later processes reuse
it while every source file the bundle records (its `sources`, each with a SHA-256) is unchanged.
A compile error raises `WorkflowCompileError` carrying waymarkc's diagnostics (file:line:col,
code, the source line and a caret), at the call site.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from .inline import module_name


class WorkflowCompileError(Exception):
    """waymarkc refused the workflow's module; `diagnostics` is its full report."""

    def __init__(self, workflow: str, diagnostics: str) -> None:
        super().__init__(f"{workflow} does not compile:\n{diagnostics}")
        self.workflow = workflow
        self.diagnostics = diagnostics


class ToolchainError(RuntimeError):
    """An executable of the toolchain (waymarkc, waymark-run) cannot be found or run."""


def _checkout_build(name: str) -> list[Path]:
    """Where a source checkout builds `name` (the package sits in <repo>/python/waymark), the
    newest build first: a release build left from last week must not shadow today's debug one."""
    repo = Path(__file__).resolve().parent.parent.parent
    built = [path for path in (repo / ".build" / "release" / name, repo / ".build" / "debug" / name) if path.exists()]
    return sorted(built, key=lambda path: path.stat().st_mtime, reverse=True)


def executable(name: str) -> str:
    """`WAYMARK_WAYMARKC` / `WAYMARK_RUN` when set, else `name` on PATH, else a source checkout's build."""
    variable = {"waymarkc": "WAYMARK_WAYMARKC", "waymark-run": "WAYMARK_RUN"}[name]
    configured = os.environ.get(variable)
    if configured:
        if not os.access(configured, os.X_OK):
            raise ToolchainError(f"{variable}={configured} is not an executable file")
        return configured
    found = shutil.which(name)
    if found:
        return found
    for candidate in _checkout_build(name):
        if os.access(candidate, os.X_OK):
            return str(candidate)
    raise ToolchainError(
        f"{name} not found: put it on PATH, set {variable}, or build it (swift build) in the checkout holding this package"
    )


@dataclass(frozen=True)
class CompiledWorkflow:
    """One workflow of a compiled bundle: what the client queues and the runner runs."""

    bundle: str
    name: str
    version: str
    module: str
    root: str
    declared_types: tuple[str, ...]
    action_modules: tuple[str, ...]


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def cache_directory() -> Path:
    configured = os.environ.get("WAYMARK_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "waymark" / "bundles"


def _fresh(bundle: Path) -> dict | None:
    """The bundle's JSON if every source it was compiled from is unchanged, else None."""
    try:
        data = json.loads(bundle.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    sources, paths = data.get("sources"), data.get("search_paths")
    if not isinstance(sources, list) or not sources or not isinstance(paths, list) or not paths:
        return None
    # Source paths are relative to the bundle's first search path, itself relative to the bundle.
    root = (bundle.parent / str(paths[0])).resolve()
    for source in sources:
        if not isinstance(source, dict) or _sha256(root / str(source.get("path"))) != source.get("sha256"):
            return None
    return data


_lock = threading.Lock()
_compiled: dict[tuple[str, str], CompiledWorkflow] = {}


def compiled(cls: type) -> CompiledWorkflow:
    """The compiled form of workflow class `cls`, compiling its module when the cache is stale."""
    module = sys.modules.get(cls.__module__)
    source = getattr(module, "__file__", None)
    if not source:
        raise ToolchainError(f"{cls.__qualname__} is not defined in a module file; waymarkc compiles files")
    key = (os.path.abspath(source), cls.__name__)
    with _lock:
        if key in _compiled:
            return _compiled[key]
        name, root = module_name(source)
        # Keyed by the compiler build too: a rebuilt waymarkc (a newer bundle format) recompiles.
        compiler = executable("waymarkc")
        built = os.stat(compiler)
        identity = f"{os.path.abspath(source)}\0{compiler}\0{built.st_mtime_ns}\0{built.st_size}"
        digest = hashlib.sha256(identity.encode()).hexdigest()[:24]
        bundle = cache_directory() / f"{name}-{digest}.wmb"
        data = _fresh(bundle)
        if data is None:
            data = _compile(cls.__name__, source, root, bundle)
        _compiled[key] = _describe(cls.__name__, str(bundle), name, root, data)
        return _compiled[key]


def _compile(workflow: str, source: str, root: str, bundle: Path) -> dict:
    bundle.parent.mkdir(parents=True, exist_ok=True)
    # Written beside its final name and renamed: a concurrent reader sees the old or the new bundle.
    descriptor, temporary = tempfile.mkstemp(dir=bundle.parent, suffix=".wmb.tmp")
    os.close(descriptor)
    try:
        process = subprocess.run(
            [executable("waymarkc"), "compile", source, "-I", root, "-o", temporary],
            capture_output=True,
            text=True,
        )
        if process.returncode != 0:
            raise WorkflowCompileError(workflow, (process.stderr or process.stdout).strip())
        os.replace(temporary, bundle)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return json.loads(bundle.read_text(encoding="utf-8"))


def _describe(workflow: str, bundle: str, module: str, root: str, data: dict) -> CompiledWorkflow:
    for entry in data.get("workflows", []):
        if entry.get("name") == workflow:
            types = entry.get("types") or {}
            declared = tuple(str(item.get("name")) for item in types.get("declared", []) if isinstance(item, dict))
            actions = tuple(sorted({str(action.get("module")) for action in entry.get("actions", []) if isinstance(action, dict)}))
            return CompiledWorkflow(bundle, workflow, str(entry.get("version")), module, root, declared, actions)
    raise ToolchainError(f"{bundle} holds no workflow {workflow}; is the class decorated with @workflow?")
