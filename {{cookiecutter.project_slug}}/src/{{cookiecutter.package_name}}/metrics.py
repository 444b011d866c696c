"""RED metrics for Prometheus, counted by a WSGI middleware and served on METRICS_PORT only:
requests by method, route and status, their duration by method and route, and the requests in
flight. Routes are URL rules (`/api/items/<int:item_id>`), so a scan of random paths adds one
label value, not one per path. Under gunicorn each worker writes its own files (promfiles.py)."""

from __future__ import annotations

import platform
import socket
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import has_request_context, request
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram

from . import __version__, promfiles

UNMATCHED = "<unmatched>"  # the route of every request no URL rule matched
# A JSON API answers in milliseconds; the tail buckets catch a slow database.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "http_requests", "Requests answered, by method, route and status", ["method", "route", "status"]
)
DURATION = Histogram(
    "http_request_duration_seconds",
    "Time from the first hook to the response, by method and route",
    ["method", "route"],
    buckets=BUCKETS,
)
IN_PROGRESS = Gauge(
    "http_requests_in_progress", "Requests being handled", multiprocess_mode="livesum"
)
BUILD = Gauge(
    "app_build_info",
    "The running version (always 1)",
    ["version", "python"],
    multiprocess_mode="livemax",
)


def route() -> str:
    """The URL rule Flask matched for the request being answered, or one value for everything
    that did not (and for answers given before Flask saw the request)."""
    rule = request.url_rule if has_request_context() else None
    return rule.rule if rule is not None else UNMATCHED


class Metrics:
    """WSGI middleware: count and time every request, and serve GET /metrics on the metrics
    socket only (the socket gunicorn accepted on decides, not a Host header a client forges).

    Out here a request costs no Flask hook; the route is read through Flask's public request
    proxy while the response starts, inside the request context.
    """

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]], port: int) -> None:
        self.wsgi_app, self.port, self.port_text = wsgi_app, port, str(port)
        # (method, route, status) -> its counter and histogram series. labels() validates
        # and locks on every call; routes are rules, so the label sets are few.
        self.series: dict[tuple[str, str, str], tuple[Any, Any]] = {}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        # gunicorn sets SERVER_PORT from the listening socket; only a match costs a syscall.
        if environ.get("SERVER_PORT") == self.port_text and self.on_metrics_socket(environ):
            return self.serve(environ, start_response)
        # Unless the app answers, an exception escaped it (only where Flask propagates them).
        status, path = "500", UNMATCHED

        def start(status_line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            nonlocal status, path
            status, path = status_line[:3], route()  # before Flask pops the request context
            return start_response(status_line, headers, exc_info)

        IN_PROGRESS.inc()
        started = time.perf_counter()
        try:
            return self.wsgi_app(environ, start)
        finally:
            elapsed = time.perf_counter() - started
            IN_PROGRESS.dec()
            key = (environ["REQUEST_METHOD"], path, status)
            if (series := self.series.get(key)) is None:
                series = self.series[key] = (REQUESTS.labels(*key), DURATION.labels(*key[:2]))
            series[0].inc()
            series[1].observe(elapsed)

    def on_metrics_socket(self, environ: dict[str, Any]) -> bool:
        """Whether the connection came in on METRICS_PORT."""
        # gunicorn's own key, not WSGI's: tests/test_internals_gunicorn.py pins it.
        sock: socket.socket | None = environ.get("gunicorn.socket")
        return sock is not None and sock.getsockname()[1] == self.port

    def serve(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        """GET /metrics: the exposition of every worker's files; anything else 404."""
        if environ["PATH_INFO"] != "/metrics" or environ["REQUEST_METHOD"] not in ("GET", "HEAD"):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"Not Found: this port serves GET /metrics only.\n"]
        body = promfiles.exposition()
        start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
        return [body]


def worker_started() -> None:
    """post_fork: the build info, written to this worker's own file."""
    BUILD.labels(__version__, platform.python_version()).set(1)
