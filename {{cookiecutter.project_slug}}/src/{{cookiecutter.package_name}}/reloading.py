"""The dev server's reloads, made cheap: the reloader's first process imports the libraries the
package imports (never the package itself) and forks each serving child from there, so a reload
pays for the package's own modules only; a child reports the libraries it imported lazily
(SQLAlchemy's dialects, what requests needed) as it exits, for the first process to import.
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
    """Import what can be imported (the child reports what cannot), then build the pydantic
    models those libraries defer to first use (flask-openapi3's), for every child at once."""
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


def learned(inherited: set[str], limit: int = 16_000) -> bytes:
    """The modules imported since the fork from outside the source directory (its code changes
    as you work: never preloaded), as whole names within `limit` bytes."""
    source = str(Path(__file__).resolve().parent.parent)
    names = [
        name
        for name, module in list(sys.modules.items())
        if name not in inherited and not str(getattr(module, "__file__", "")).startswith(source)
    ]
    return ("\n".join(names) + "\n").encode()[:limit].rpartition(b"\n")[0]


def forget_package() -> None:
    """Drop the package's modules, so the child imports the code as it is on disk now."""
    for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
        del sys.modules[name]


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
    with contextlib.suppress(OSError):
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
