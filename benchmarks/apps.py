"""The baseline rows' apps: the limit (bare WSGI), one-route Flask with the same JSON as
/healthz, and bare Flask + SQLAlchemy doing what the items resource does to the database."""

# Served under the baked gunicorn.conf.py with the app overridden on the command line
# (`gunicorn -c gunicorn.conf.py benchmarks.apps:bare_wsgi`), so logging and workers match.

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, g, request
from sqlalchemy.orm import sessionmaker

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


def bare_sqlalchemy() -> Flask:
    """`benchmarks.apps:bare_sqlalchemy()`: GET and POST on the bake's Item model through the
    bake's own engine (same pool, same pragmas), with none of the service's layers."""
    package = os.environ["BENCH_PACKAGE"]
    engine = importlib.import_module(f"{package}.engine")
    models = importlib.import_module(f"{package}.models")
    settings = engine.load_settings(os.environ, "production")
    factory = sessionmaker(engine.make_engine(settings), expire_on_commit=False)
    app = Flask(__name__)
    app.get("/healthz")(healthz)

    @app.get("/items/<int:item_id>")
    def get_item(item_id: int) -> dict[str, Any]:
        g.session = factory()
        return g.session.get(models.Item, item_id).to_dict()  # type: ignore[no-any-return]

    @app.post("/items")
    def create_item() -> tuple[dict[str, Any], int]:
        g.session = factory()
        payload = request.get_json()
        item = models.Item(name=payload["name"], quantity=payload.get("quantity", 1))
        g.session.add(item)
        g.session.commit()
        return item.to_dict(), 201

    @app.teardown_appcontext
    def close(_error: BaseException | None) -> None:
        if (session := g.pop("session", None)) is not None:
            session.close()

    return app
