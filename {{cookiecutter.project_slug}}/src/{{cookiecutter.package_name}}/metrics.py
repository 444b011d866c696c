"""RED metrics for Prometheus, counted in the request hooks and served on METRICS_PORT only:
requests by method, route and status, their duration by method and route, and the requests in
flight. Routes are URL rules (`/api/items/<int:item_id>`), so a scan of random paths adds one
label value, not one per path. Under gunicorn each worker writes its own files (promfiles.py)."""

from __future__ import annotations

import platform
import socket
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, g, request
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
    """The URL rule that matched, or one value for everything that did not."""
    rule = request.url_rule
    return rule.rule if rule is not None else UNMATCHED


def start() -> None:
    """before_request: one more request in flight."""
    IN_PROGRESS.inc()
    g.metrics_started = time.perf_counter()


# (method, route, status) -> its counter and histogram series. labels() validates and locks on
# every call; the label sets are few (routes are rules), so each is looked up once per worker.
_series: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def count(response: Response) -> Response:
    """after_request (runs on handled errors too): count and time the answer."""
    if (started := g.pop("metrics_started", None)) is not None:
        key = (request.method, route(), response.status_code)
        if (series := _series.get(key)) is None:
            method, path, status = key
            series = (REQUESTS.labels(method, path, str(status)), DURATION.labels(method, path))
            _series[key] = series
        series[0].inc()
        series[1].observe(time.perf_counter() - started)
        IN_PROGRESS.dec()
    return response


def finish(_error: BaseException | None = None) -> None:
    """teardown_request: a request whose after_request never ran still leaves the gauge."""
    if g.pop("metrics_started", None) is not None:
        IN_PROGRESS.dec()


class MetricsPort:
    """WSGI middleware: on the metrics socket only GET /metrics, which the API port never serves.

    The socket gunicorn accepted on decides, not the Host header a client may forge.
    """

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]], port: int) -> None:
        self.wsgi_app, self.port = wsgi_app, port

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        sock: socket.socket | None = environ.get("gunicorn.socket")
        if sock is None or sock.getsockname()[1] != self.port:
            return self.wsgi_app(environ, start_response)
        if environ["PATH_INFO"] != "/metrics" or environ["REQUEST_METHOD"] not in ("GET", "HEAD"):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"Not Found: this port serves GET /metrics only.\n"]
        body = promfiles.exposition()
        start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
        return [body]


def init_app(app: Flask) -> None:
    """Count every request when METRICS_PORT is set (gunicorn binds it; config.py validates)."""
    if not (port := app.config["METRICS_PORT"]):
        return
    app.before_request(start)
    app.after_request(count)
    app.teardown_request(finish)
    app.wsgi_app = MetricsPort(app.wsgi_app, port)  # type: ignore[method-assign]


def worker_started() -> None:
    """post_fork: the build info, written to this worker's own file."""
    BUILD.labels(__version__, platform.python_version()).set(1)
