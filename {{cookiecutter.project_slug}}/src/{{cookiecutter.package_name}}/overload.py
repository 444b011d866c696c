"""Load shedding: past its capacity the service answers the excess at once instead of queueing it.

Under gunicorn a request that waited longer than GUNICORN_QUEUE_TIMEOUT_MS for a thread of its
worker (worker.py measures from the moment its bytes could be read) gets a 503 problem+json with
Retry-After before authentication or the database see it, and its connection is closed, so the
client's retry may land on a less busy worker or pod. Serving it late instead would make every
request queued behind it later still: the queue, and each answer's latency, would grow without
bound while the load lasts. A worker that sheds logs it once, and again when it has shed
nothing for a second (readiness.Outages, as an outage of `capacity`); /readyz is not affected,
since taking a busy pod out of its Service would only push its load onto the others.
"""

from __future__ import annotations

from functools import partial

from flask import Flask, current_app, request
from werkzeug.exceptions import ServiceUnavailable

from .context import CLOSE_CONNECTION, QUEUED_S
from .readiness import outages
from .settings import Settings

RETRY_AFTER = 1  # seconds: a burst is usually over by then, and a retry finds a free thread
CAPACITY = "capacity"  # the "dependency" the log names while requests are shed


def init_app(app: Flask, settings: Settings) -> None:
    """Shed a request that waited too long, first among the app's before_request hooks."""
    if settings.GUNICORN_QUEUE_TIMEOUT_MS:
        app.before_request(partial(shed_late, settings.GUNICORN_QUEUE_TIMEOUT_MS / 1000))


def shed_late(limit_s: float) -> None:
    """before_request: a 503 if the request waited over `limit_s` for its thread."""
    waited = request.environ.get(QUEUED_S)
    if waited is None:  # not under gunicorn, or a probe (those have threads of their own)
        return
    record = outages(current_app)
    if waited <= limit_s:
        record.calm(CAPACITY)
        return
    record.failing(CAPACITY, f"requests waited over {limit_s * 1000:.0f} ms for a thread")
    if close := request.environ.get(CLOSE_CONNECTION):
        close()
    raise ServiceUnavailable(
        "The service is at capacity; retry after the time given.", retry_after=RETRY_AFTER
    )
