"""Request hooks: before_request assigns the request id and starts the clock, after_request
echoes the id with Server-Timing, teardown_request logs a failure."""

from __future__ import annotations

import logging
import random
import re
import time

from flask import Flask, Response, abort, g, request

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_ENVIRON = "HTTP_" + REQUEST_ID_HEADER.upper().replace("-", "_")
# A client's id is kept only if it is short, printable ASCII safe in a header and a log line.
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


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
        rid = incoming if VALID_REQUEST_ID.fullmatch(incoming) else new_request_id()
        g.request_id = rid
    return rid


def new_request_id() -> str:
    """128 random bits as 32 hex digits, the shape of uuid4().hex.

    An id correlates log lines; it guards nothing, so it needs no system call for entropy
    (os.urandom would also hand the GIL to another thread on every request). The random
    module reseeds itself in every forked worker, so workers do not repeat each other.
    """
    return f"{random.getrandbits(128):032x}"


def start_request() -> None:
    """Take a well-formed X-Request-ID or make one, and note when the request started."""
    request_id()
    g.started = time.perf_counter()
    environ = request.environ
    if environ.get("SERVER_PROTOCOL") == "HTTP/1.1" and "HTTP_HOST" not in environ:
        abort(400, "An HTTP/1.1 request must carry a Host header (RFC 9112, section 3.2).")


def finish_request(response: Response) -> Response:
    """Echo the request id and time the app's work (headers.py adds the security headers)."""
    headers = response.headers
    headers.set(REQUEST_ID_HEADER, request_id())  # replaces whatever a view set
    started: float | None = g.get("started")
    if started is not None:
        headers.set("Server-Timing", f"app;dur={(time.perf_counter() - started) * 1000:.2f}")
    return response


def log_failure(error: BaseException | None) -> None:
    """Log an exception that escaped the view, with the request id the client was sent."""
    if error is not None:
        log.error(
            "request failed",
            extra={"error": type(error).__name__, "method": request.method, "path": request.path},
        )
