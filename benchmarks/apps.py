"""The baseline rows' apps: the limit (bare WSGI) and one-route Flask, same JSON as /healthz."""

# Served under the baked gunicorn.conf.py with the app overridden on the command line
# (`gunicorn -c gunicorn.conf.py benchmarks.apps:bare_wsgi`), so logging and workers match.

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

# What Flask's JSON provider writes for {"status": "ok"} outside debug: compact, one newline.
BODY = (json.dumps({"status": "ok"}, separators=(",", ":")) + "\n").encode()
HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))]


def bare_wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The limit: a WSGI callable that answers every request with the /healthz JSON."""
    start_response("200 OK", HEADERS)
    return [BODY]


bare_flask = Flask(__name__)


@bare_flask.get("/healthz")
def healthz() -> dict[str, str]:
    """The one route, written as the service writes its own."""
    return {"status": "ok"}
