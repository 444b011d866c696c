"""Request hooks: before_request assigns the request id and starts the clock, after_request
echoes the id with Server-Timing and security headers, teardown_request logs a failure."""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, request

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"
# A client's id is kept only if it is short, printable ASCII safe in a header and a log line.
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
}
HSTS = "max-age=63072000; includeSubDomains"


def init_app(app: Flask) -> None:
    """Register the hooks on the app, so they run for every blueprint."""
    app.before_request(start_request)
    app.after_request(finish_request)
    app.teardown_request(log_failure)


def request_id() -> str:
    """The current request's id, made on first use (an earlier hook may have failed first)."""
    if "request_id" not in g:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if VALID_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
    return str(g.request_id)


def start_request() -> None:
    """Take a well-formed X-Request-ID or make one, and note when the request started."""
    request_id()
    g.started = time.perf_counter()


def finish_request(response: Response) -> Response:
    """Echo the request id, time the app's work and add the headers a JSON API should send."""
    response.headers[REQUEST_ID_HEADER] = request_id()
    if "started" in g:
        elapsed_ms = (time.perf_counter() - g.started) * 1000
        response.headers["Server-Timing"] = f"app;dur={elapsed_ms:.2f}"
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def log_failure(error: BaseException | None) -> None:
    """Log an exception that escaped the view, with the request id the client was sent."""
    if error is not None:
        log.error(
            "request failed",
            extra={"error": type(error).__name__, "method": request.method, "path": request.path},
        )
