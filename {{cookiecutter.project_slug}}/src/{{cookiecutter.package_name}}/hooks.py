"""Request hooks: before_request assigns the request id and starts the clock, after_request
echoes the id with Server-Timing and security headers, teardown_request logs a failure."""

from __future__ import annotations

import logging
import os
import re
import time

from flask import Flask, Response, abort, g, request

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_ENVIRON = "HTTP_" + REQUEST_ID_HEADER.upper().replace("-", "_")
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
# (name, lowercase name, value), worked out once: after_request adds what a view did not set.
_DEFAULTS = tuple((name, name.lower(), value) for name, value in SECURITY_HEADERS.items())
_DEFAULTS_HTTPS = (*_DEFAULTS, ("Strict-Transport-Security", "strict-transport-security", HSTS))


def init_app(app: Flask) -> None:
    """Register the hooks on the app, so they run for every blueprint."""
    app.before_request(start_request)
    app.after_request(finish_request)
    app.teardown_request(log_failure)


def request_id() -> str:
    """The current request's id, made on first use (an earlier hook may have failed first)."""
    rid: str | None = g.get("request_id")
    if rid is None:
        incoming = request.environ.get(_REQUEST_ID_ENVIRON, "")
        # 128 random bits as 32 hex digits: what uuid4().hex gives, without building a UUID.
        rid = incoming if VALID_REQUEST_ID.fullmatch(incoming) else os.urandom(16).hex()
        g.request_id = rid
    return rid


def start_request() -> None:
    """Take a well-formed X-Request-ID or make one, and note when the request started."""
    request_id()
    g.started = time.perf_counter()
    if request.environ.get("SERVER_PROTOCOL") == "HTTP/1.1" and "HTTP_HOST" not in request.environ:
        abort(400, "An HTTP/1.1 request must carry a Host header (RFC 9112, section 3.2).")


def finish_request(response: Response) -> Response:
    """Echo the request id, time the app's work and add the headers a JSON API should send."""
    headers = response.headers
    # One pass over the response's headers: setdefault() would scan them once per default.
    present = {name.lower() for name, _ in headers}
    headers.set(REQUEST_ID_HEADER, request_id())  # replaces whatever a view set
    started: float | None = g.get("started")
    if started is not None:
        headers.set("Server-Timing", f"app;dur={(time.perf_counter() - started) * 1000:.2f}")
    defaults = _DEFAULTS_HTTPS if request.is_secure else _DEFAULTS
    headers.extend([(name, value) for name, lower, value in defaults if lower not in present])
    return response


def log_failure(error: BaseException | None) -> None:
    """Log an exception that escaped the view, with the request id the client was sent."""
    if error is not None:
        log.error(
            "request failed",
            extra={"error": type(error).__name__, "method": request.method, "path": request.path},
        )
