"""Load shedding: past its capacity the service answers the excess at once instead of queueing it.

Under gunicorn a request that waited longer than GUNICORN_QUEUE_TIMEOUT_MS for a thread of its
worker (worker.py measures from the moment its bytes could be read) gets a 503 problem+json with
Retry-After before Flask, authentication or the database see it. Serving it late instead would
make every request queued behind it later still: the queue, and each answer's latency, would
grow without bound while the load lasts. The 503 must cost far less than a request served, or
the shedding itself eats the capacity (at twice the capacity, half the requests are shed): so it
is a WSGI middleware, inside the metrics, request id and security headers but before Flask, and
its connection is kept alive (a reconnection would cost the busy worker more).

A worker that sheds logs it once, and again when it has shed nothing for a second (an outage of
`capacity` in readiness.Outages); /readyz is not affected, since taking a busy pod out of its
Service would only push its load onto the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .context import QUEUED_S, REQUEST_ID
from .errors import problem
from .readiness import Outages

RETRY_AFTER = "1"  # seconds: a burst is usually over by then, and a retry finds a free thread
CAPACITY = "capacity"  # the "dependency" the log names while requests are shed
DETAIL = "The service is at capacity; retry after the time given."


class Shed:
    """WSGI middleware: a 503 for a request that waited over `limit_s` for its thread."""

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]], limit_s: float) -> None:
        self.wsgi_app, self.limit_s = wsgi_app, limit_s
        self.outages = Outages()  # this process's episodes (a worker's, under gunicorn)
        self.reason = f"requests waited over {limit_s * 1000:.0f} ms for a thread"
        self.headers = {"Retry-After": RETRY_AFTER}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        waited = environ.get(QUEUED_S)
        if waited is None or waited <= self.limit_s:  # unmeasured: the dev server, a probe
            if waited is not None:
                self.outages.calm(CAPACITY)
            return self.wsgi_app(environ, start_response)
        self.outages.failing(CAPACITY, self.reason)
        rid = environ[REQUEST_ID]
        answer = problem(503, "Service Unavailable", DETAIL, self.headers, request_id=rid)
        return answer(environ, start_response)
