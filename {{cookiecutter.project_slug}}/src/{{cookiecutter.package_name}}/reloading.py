"""The dev server's reloads, made cheap: the reloader's first process imports the libraries the
package imports (never the package itself) and forks each serving child from there, so a reload
pays for the package's own modules only, not for Flask, SQLAlchemy or pydantic again.

run_simple still binds the socket in the first process and hands it to every child
(WERKZEUG_SERVER_FD); only the way a child starts changes: a fork instead of a new interpreter.
"""

from __future__ import annotations

import ast
import contextlib
import gc
import importlib
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
    """Import what can be imported (what cannot, the child imports and reports itself), then
    build the pydantic models those libraries left to build on first use (flask-openapi3's
    document models), which every child would otherwise build again."""
    for name in names:
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    pending: list[type[BaseModel]] = [BaseModel]
    while pending:
        for model in pending.pop().__subclasses__():
            pending.append(model)
            if not model.__pydantic_complete__:
                with contextlib.suppress(Exception):
                    model.model_rebuild()


def forget_package() -> None:
    """Drop the package's modules, so the child imports the code as it is on disk now."""
    for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
        del sys.modules[name]


def run_child() -> int:
    """In a forked child: run `python -m <package>` anew, as werkzeug's reloaded child."""
    os.environ["WERKZEUG_RUN_MAIN"] = "true"
    forget_package()
    try:
        runpy.run_module(PACKAGE, run_name="__main__", alter_sys=True)
    except SystemExit as exc:  # RELOAD on a change; anything else ends the dev server
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # a child must never return into the parent's loop
        traceback.print_exc()
        return 1
    return 0


def restart_by_fork(self: _reloader.ReloaderLoop) -> int:
    """werkzeug's ReloaderLoop.restart_with_reloader, forking instead of starting Python."""
    log = logging.getLogger("werkzeug")
    preload([*libraries(Path(__file__).resolve().parent), *SERVER_MODULES])
    gc.freeze()  # a child's collections need not walk the libraries' objects again
    while True:
        log.info(" * Restarting with %s", self.name)
        sys.stdout.flush(), sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: serve, and leave without running the parent's exit handlers
            code = run_child()
            sys.stdout.flush(), sys.stderr.flush()
            os._exit(code)
        code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        if code != RELOAD:
            return code


def fork_on_reload() -> None:
    """In the reloader's first process, before run_simple: make its restarts forks."""
    _reloader.ReloaderLoop.restart_with_reloader = restart_by_fork  # type: ignore[method-assign]


class DevServerLines(logging.Filter):
    """werkzeug's lines as this package's formatter should show them: without werkzeug's ANSI
    styles (the formatter would escape them into `\\u001b[33m`: it colours by level itself), and
    one "Detected change" line per reload (watchdog reports a save as several events)."""

    def __init__(self) -> None:
        super().__init__()
        self.reloading = False

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if " * Detected change in " in message:
            if self.reloading:
                return False
            self.reloading = True
        if "\x1b" in message:
            record.msg, record.args = _STYLE.sub("", message), ()
        return True
