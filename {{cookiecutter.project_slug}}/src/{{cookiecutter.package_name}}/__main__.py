"""Dev server: `python -m <package>` serves the app with run_simple, its reloader and debugger.

The reloader's first process binds the socket and forks a child that inherits it and runs this
module anew (reloading.py), so a reload never refuses a connection. The child imports the app
lazily: a file saved with a syntax error is shown by the debugger instead of ending the server,
until the next good save.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
import sysconfig
import traceback
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

from werkzeug.serving import is_running_from_reloader, run_simple

from . import reloading
from .settings import ConfigError, Settings, current

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent.parent  # the directory holding src/
# The reloader watches every directory on sys.path recursively. The interpreter's library and
# the installed packages never change while you work, and the project directory (on sys.path
# through `python -m`) would bring .venv along: thousands of directories whose inotify watches
# the reloaded process would set up before it serves, on every reload. Only src/ is left.
_LIBRARIES = {sysconfig.get_path(name) for name in ("stdlib", "platstdlib", "purelib", "platlib")}
EXCLUDE_PATTERNS = [
    "*/__pycache__/*",
    "*/.venv/*",
    "*/.git/*",
    "*/tests/*",
    "*/.mypy_cache/*",
    str(PROJECT_DIR),
    *sorted(_LIBRARIES),
    *sorted(f"{path}/*" for path in _LIBRARIES),
]


class DevApp:
    """WSGI app built once per reloader child; if the code does not import, it raises why."""

    def __init__(self) -> None:
        self.app: Any = None
        self.error: tuple[BaseException, TracebackType | None] | None = None
        try:
            from .app import create_app  # noqa: PLC0415 (imported late on purpose)

            # No metrics: the dev server never serves METRICS_PORT, so counting would be waste.
            self.app = create_app({"DEBUG": True, "METRICS_PORT": 0})
            if self.app.extensions["settings"].tracing:  # one process serves: it owns the provider
                from .tracing import start_provider  # noqa: PLC0415

                start_provider()
        except Exception as exc:  # a SyntaxError or ImportError in the tree, a bad variable
            traceback.print_exc()
            self.error = (exc, exc.__traceback__)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if self.error is not None:
            exc, tb = self.error
            raise exc.with_traceback(tb)
        return self.app(environ, start_response)  # type: ignore[no-any-return]


def dev_settings() -> Settings:
    """The settings, APP_ENV defaulting to development; the reloader's child inherits the
    parent's environment, in which the parent wrote down what it chose."""
    os.environ.setdefault("APP_ENV", "development")
    try:
        settings = current()
    except ConfigError as exc:
        sys.exit(f"configuration error: {exc}")
    if settings.APP_ENV == "production":
        sys.exit("refusing to start the dev server and its debugger: APP_ENV is production")
    return settings


class PublishedAddress(logging.Filter):
    """Werkzeug's start-up lines name the address bound inside the container; behind compose's
    published port the host reaches another one, DEV_URL (compose sets it), shown instead."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if " * Running on " in message:
            kept = [line for line in message.splitlines() if not line.startswith(" * Running on")]
            record.msg, record.args = "\n".join([*kept, f" * Running on {self.url}"]), ()
        return True


def reloader_type(settings: Settings) -> str:
    """watchdog when installed (event-driven, faster), else stat polling; RELOADER overrides."""
    return settings.RELOADER or ("watchdog" if importlib.util.find_spec("watchdog") else "stat")


def main() -> None:
    """Serve with the reloader and the interactive debugger until interrupted."""
    settings = dev_settings()
    host, port = settings.HOST or "127.0.0.1", settings.PORT
    werkzeug_log, app = logging.getLogger("werkzeug"), None
    if is_running_from_reloader():  # the child, which serves
        app = DevApp()
        if logging.getLogger().handlers:  # log.init_app's: the handler werkzeug gave its own
            werkzeug_log.handlers.clear()  # logger in the first process would double each line
        werkzeug_log.filters.clear()
        werkzeug_log.addFilter(reloading.DevServerLines())
    else:  # the first process only holds the socket, watches nothing and forks each child
        reloading.fork_on_reload()
        if settings.DEV_URL:
            werkzeug_log.addFilter(PublishedAddress(settings.DEV_URL))
    run_simple(
        host,
        port,
        app,  # type: ignore[arg-type]
        use_reloader=True,
        use_debugger=True,
        reloader_type=reloader_type(settings),
        extra_files=[str(PACKAGE_DIR)],
        exclude_patterns=EXCLUDE_PATTERNS,
    )


if __name__ == "__main__":
    main()
