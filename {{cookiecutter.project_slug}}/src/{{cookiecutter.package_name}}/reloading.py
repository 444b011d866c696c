"""The dev server's reloads, made cheap: run_simple's first process holds the socket (and hands
it to each child), imports the libraries the package imports (never the package) and forks each
serving child from there; a child reports what it imported lazily as it exits, for the next one."""

from __future__ import annotations

import ast
import contextlib
import gc
import importlib.util
import logging
import os
import re
import runpy
import sys
import traceback
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel
from werkzeug import _reloader  # internal: tests/test_internals.py pins restart_with_reloader

PACKAGE = __package__ or __name__.rpartition(".")[0]
# What run_simple imports in the child for its debugger and the watchdog reloader.
SERVER_MODULES = ("werkzeug.debug", "watchdog.observers", "watchdog.events")
RELOAD = 3  # the exit code with which werkzeug's reloaded child asks for a new one
_STYLE = re.compile(r"\x1b\[[0-9;]*m")


def module_imports(source: str) -> set[str]:
    """The absolute imports a module makes when it is imported (its top-level statements);
    imports inside functions stay lazy, and `if TYPE_CHECKING:` blocks are skipped."""
    names: set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return {name for name in names if name.split(".")[0] not in (PACKAGE, "__future__")}


def libraries(package_dir: Path) -> list[str]:
    """Every library module the package's modules import at their top level, sorted."""
    names: set[str] = set()
    for path in package_dir.rglob("*.py"):
        with contextlib.suppress(SyntaxError, UnicodeDecodeError, OSError):
            names |= module_imports(path.read_text(encoding="utf-8"))
    return sorted(names)


def preload(names: Iterable[str]) -> None:
    """Import what can be imported (the child reports what cannot), then build the pydantic
    models those libraries defer to first use (flask-openapi3's), for every child at once."""
    for name in names:
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    pending: list[type[BaseModel]] = [BaseModel]
    while pending:
        for model in pending.pop().__subclasses__():
            pending.append(model)
            with contextlib.suppress(Exception):
                model.model_rebuild()  # returns at once for a complete model


def learned(inherited: set[str], limit: int = 16_000) -> bytes:
    """The modules imported since the fork from outside the source directory (its code changes
    as you work: never preloaded), as whole names within `limit` bytes."""
    source = str(Path(__file__).resolve().parent.parent)
    files = [(name, str(getattr(mod, "__file__", ""))) for name, mod in sys.modules.copy().items()]
    names = [name for name, file in files if name not in inherited and not file.startswith(source)]
    return ("\n".join(names) + "\n").encode()[:limit].rpartition(b"\n")[0]


def forget_package() -> None:
    """Drop the package's modules, and each .pyc older than its source: Python trusts a .pyc while
    its source keeps its size and mtime to the second (saved twice in a second: the first ran)."""
    for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
        del sys.modules[name]
    for source in Path(__file__).resolve().parent.rglob("*.py"):
        with contextlib.suppress(OSError):
            cached = Path(importlib.util.cache_from_source(str(source)))
            if cached.stat().st_mtime < source.stat().st_mtime:
                cached.unlink()


def run_child(tell: int) -> int:
    """In a forked child: run `python -m <package>` anew, as werkzeug's reloaded child; as it
    leaves, write what it learned to `tell` (less than any pipe holds: it never blocks)."""
    os.environ["WERKZEUG_RUN_MAIN"] = "true"
    inherited = set(sys.modules)
    forget_package()
    try:
        runpy.run_module(PACKAGE, run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as exc:  # RELOAD on a change; anything else ends the dev server
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # a child must never return into the parent's loop
        traceback.print_exc()
        code = 1
    with contextlib.suppress(Exception):  # still never returning into the parent's loop
        os.write(tell, learned(inherited))
    return code


def restart_by_fork(self: _reloader.ReloaderLoop) -> int:
    """werkzeug's ReloaderLoop.restart_with_reloader, forking instead of starting Python."""
    names = [*libraries(Path(__file__).resolve().parent), *SERVER_MODULES]
    while True:
        preload(names)  # then only what the last child learned: the next one inherits it all
        gc.freeze()  # a child's collections need not walk the libraries' objects again
        logging.getLogger("werkzeug").info(" * Restarting with %s", self.name)
        sys.stdout.flush(), sys.stderr.flush()
        report, tell = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: serve, and leave without running the parent's exit handlers
            code = run_child(tell)
            sys.stdout.flush(), sys.stderr.flush()
            os._exit(code)
        os.close(tell)
        code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        os.set_blocking(report, False)  # a process the child forked may still hold `tell`
        with open(report, "rb") as pipe:
            names = (pipe.read() or b"").decode().split()
        if code != RELOAD:
            return code


def fork_on_reload() -> None:
    """In the reloader's first process, before run_simple: make its restarts forks."""
    _reloader.ReloaderLoop.restart_with_reloader = restart_by_fork  # type: ignore[method-assign]


class DevServerLines(logging.Filter):
    """werkzeug's lines as this package's formatter should show them: without werkzeug's ANSI
    styles (the formatter would escape them into `\\u001b[33m`: it colours by level itself), and
    one "Detected change" line per reload (watchdog reports a save as several events)."""

    reloading = False  # this child logged its "Detected change" line already

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if " * Detected change in " in message:
            if self.reloading:
                return False
            self.reloading = True
        if "\x1b" in message:
            record.msg, record.args = _STYLE.sub("", message), ()
        return True
