"""What a request carries through the layers: its id and, when traced, its trace id, kept in
the WSGI environ under namespaced keys (PEP 3333), where they cost no context lookup."""

from __future__ import annotations

import random

from flask import request

REQUEST_ID = "hooks.request_id"  # written by hooks.RequestEdges
TRACE_ID = "tracing.trace_id"  # written by tracing.start_span
CLOSE_CONNECTION = "worker.close_connection"  # under gunicorn: call it to close after the answer
QUEUED_S = "worker.queued_s"  # under gunicorn: seconds the request waited for a thread
# Health probes name themselves in User-Agent: the container's (probe.py) and the kubelet's.
# Their successful requests stay out of the access log unless LOG_PROBES is set (log.py).
PROBE_USER_AGENT = "healthcheck-probe"
PROBE_AGENTS = (PROBE_USER_AGENT, "kube-probe/")
SUBJECT = "auth.subject"  # the token's sub or client_id, written by auth.guard


def new_request_id() -> str:
    """128 random bits as 32 hex digits, the shape of uuid4().hex.

    An id correlates log lines; it guards nothing, so it needs no system call for entropy
    (os.urandom would also hand the GIL to another thread on every request). The random
    module reseeds itself in every forked worker, so workers do not repeat each other.
    """
    return f"{random.getrandbits(128):032x}"


def request_id() -> str:
    """The current request's id (assigned by RequestEdges before Flask saw the request)."""
    environ = request.environ
    if (rid := environ.get(REQUEST_ID)) is None:  # an app called without the middleware
        rid = environ[REQUEST_ID] = new_request_id()
    return rid
