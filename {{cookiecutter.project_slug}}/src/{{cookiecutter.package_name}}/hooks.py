"""The request's edges: a WSGI middleware gives each request its id and clock and answers with
X-Request-ID and Server-Timing, and a signal logs a failure. Ids and times are kept in the WSGI
environ, where they cost no context lookup."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, got_request_exception, request

from .context import REQUEST_ID, new_request_id

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_ENVIRON = "HTTP_" + REQUEST_ID_HEADER.upper().replace("-", "_")
_REQUEST_ID_LOWER = REQUEST_ID_HEADER.lower()
# A client's id is kept only if it is short, printable ASCII safe in a header and a log line.
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")

StartResponse = Callable[..., Any]


class RequestEdges:
    """WSGI middleware: take a well-formed X-Request-ID or make one, and time the app's work.

    Out here the id and the two response headers are plain tuples: in Flask's hooks they
    would cost two context lookups and two validated Headers.set calls per request.
    """

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        incoming = environ.get(_REQUEST_ID_ENVIRON)
        rid = incoming if incoming and VALID_REQUEST_ID.fullmatch(incoming) else new_request_id()
        environ[REQUEST_ID] = rid
        started = time.perf_counter()

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if any(name.lower() == _REQUEST_ID_LOWER for name, _ in headers):
                headers[:] = [h for h in headers if h[0].lower() != _REQUEST_ID_LOWER]
            elapsed_ms = (time.perf_counter() - started) * 1000
            headers.append((REQUEST_ID_HEADER, rid))  # replaces whatever a view set
            headers.append(("Server-Timing", f"app;dur={elapsed_ms:.2f}"))
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start)


def log_failure(_app: Flask, exception: BaseException, **_: Any) -> None:
    """got_request_exception: log an exception that escaped the view, with the request's id
    (a signal, not a teardown hook: a request that does not fail pays nothing for it)."""
    log.error(
        "request failed",
        extra={"error": type(exception).__name__, "method": request.method, "path": request.path},
    )


def init_app(app: Flask) -> None:
    """Log every failure, whichever blueprint it came from (RequestEdges is in the stack)."""
    got_request_exception.connect(log_failure, app)
