"""What `make layers` runs inside the gunicorn workers: the app with each WSGI middleware, Flask's
`wsgi_app`, each phase of Flask's request and each view wrapped in a clock of the calling
thread's CPU time. Each worker writes its totals to `$BENCH_LAYERS_DIR/<pid>.json` every
REPORT_EVERY requests and when it exits."""

# Served as `gunicorn -c gunicorn.conf.py 'benchmarks.inworker:service()'` (or bare_flask()).

from __future__ import annotations

import atexit
import importlib
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask

from . import apps

REPORT_EVERY = 500  # requests between a worker's reports
# The methods Flask's wsgi_app calls once per request, in the order it calls them.
PHASES = (
    "request_context",
    "create_url_adapter",
    "preprocess_request",
    "dispatch_request",
    "make_response",
    "process_response",
    "do_teardown_request",
    "do_teardown_appcontext",
)


class Totals:
    """This worker's CPU nanoseconds per timed name, and the requests they were spent on."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ns: dict[str, int] = {}
        self.requests = 0

    def add(self, name: str, ns: int, *, request_done: bool = False) -> None:
        """Count `ns` for `name`; the outermost clock also ends the request."""
        with self.lock:
            self.ns[name] = self.ns.get(name, 0) + ns
            self.requests += request_done
            due = request_done and self.requests % REPORT_EVERY == 0
        if due:
            self.report()

    def report(self) -> None:
        """Replace this worker's file with its totals so far (renamed into place: never torn)."""
        with self.lock:
            totals = {"requests": self.requests, "ns": dict(self.ns)}
        if not totals["requests"]:
            return  # the master, or a worker that served nothing
        directory = Path(os.environ["BENCH_LAYERS_DIR"])
        partial = directory / f".{os.getpid()}.json"
        partial.write_text(json.dumps(totals))
        partial.replace(directory / f"{os.getpid()}.json")


TOTALS = Totals()
atexit.register(TOTALS.report)


def timed(
    name: str, function: Callable[..., Any], *, outermost: bool = False
) -> Callable[..., Any]:
    """`function`, adding the CPU time the calling thread spends in it to TOTALS[name]."""
    clock = time.thread_time_ns

    def call(*args: Any, **kwargs: Any) -> Any:
        started = clock()
        try:
            return function(*args, **kwargs)
        finally:
            TOTALS.add(name, clock() - started, request_done=outermost)

    return call


def instrumented(app: Flask) -> Flask:
    """`app` with its middlewares (each keeps the next as `wsgi_app`), phases and views timed."""
    for phase in PHASES:
        setattr(app, phase, timed(f"Flask.{phase}", getattr(app, phase)))
    sessions = app.session_interface
    for method in ("open_session", "save_session"):
        setattr(sessions, method, timed(f"session.{method}", getattr(sessions, method)))
    rules = {rule.endpoint: rule.rule for rule in app.url_map.iter_rules()}
    for endpoint, view in list(app.view_functions.items()):
        app.view_functions[endpoint] = timed(f"view {rules.get(endpoint, endpoint)}", view)
    middlewares, layer = [], app.wsgi_app
    while hasattr(layer, "wsgi_app"):
        middlewares.append(layer)
        layer = layer.wsgi_app
    inner = timed("Flask.wsgi_app", layer, outermost=not middlewares)
    for depth, middleware in reversed(list(enumerate(middlewares))):
        middleware.wsgi_app = inner
        kind = type(middleware)
        name = f"{kind.__module__.rsplit('.', 1)[-1]}.{kind.__name__}"
        inner = timed(name, middleware, outermost=depth == 0)
    app.wsgi_app = inner  # type: ignore[method-assign]
    return app


def service() -> Flask:
    """The bake's production app (`<package>.wsgi:app`), instrumented."""
    return instrumented(importlib.import_module(f"{os.environ['BENCH_PACKAGE']}.wsgi").app)


def bare_flask() -> Flask:
    """The bench's bare Flask app, instrumented alike: `/healthz`'s baseline."""
    return instrumented(apps.bare_flask)


def bare_sqlalchemy() -> Flask:
    """The bench's bare Flask+SQLAlchemy app, instrumented alike: the item routes' baseline."""
    return instrumented(apps.bare_sqlalchemy())
