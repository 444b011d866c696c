"""The baseline rows' apps: the limit (bare WSGI), one-route Flask with the same JSON as
/healthz (alone, and inside the service's WSGI middlewares), bare Flask + SQLAlchemy doing
what the items resource does to the database, and the validation pair: one POST /items
validated by hand (the service before its API contract) and by flask-openapi3 with the bake's
pydantic model (after), neither storing anything."""

# Served under the baked gunicorn.conf.py with the app overridden on the command line
# (`gunicorn -c gunicorn.conf.py benchmarks.apps:bare_wsgi`), so logging and workers match.

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, g, request
from flask_openapi3 import APIBlueprint, OpenAPI
from sqlalchemy.orm import sessionmaker
from werkzeug.exceptions import UnprocessableEntity

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


def bare_flask_in_middlewares() -> Flask:
    """`benchmarks.apps:bare_flask_in_middlewares()`: the one route inside the bake's own WSGI
    middlewares (the list `app.middlewares` returns: metrics, request id and timing, security
    headers, body guard), configured from the environment as the service is: what those
    middlewares cost bare Flask, which no change inside the service's Flask app can cut."""
    package = os.environ["BENCH_PACKAGE"]
    settings = importlib.import_module(f"{package}.settings").current()
    app = Flask(__name__)  # no SECRET_KEY: it would give bare Flask signed sessions
    app.get("/healthz")(healthz)
    for middleware in reversed(importlib.import_module(f"{package}.app").middlewares(settings)):
        app.wsgi_app = middleware(app.wsgi_app)  # type: ignore[method-assign]
    return app


def bare_sqlalchemy() -> Flask:
    """`benchmarks.apps:bare_sqlalchemy()`: GET and POST on the bake's Item model through the
    bake's own engine (same pool, same pragmas), with none of the service's layers."""
    package = os.environ["BENCH_PACKAGE"]
    engine = importlib.import_module(f"{package}.engine")
    models = importlib.import_module(f"{package}.models")
    settings = importlib.import_module(f"{package}.settings").Settings.from_env()
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


def hand_validated() -> Flask:
    """`benchmarks.apps:hand_validated()`: POST /items checked by the service's hand-written
    rules as they were before flask-openapi3 (one pass, every broken rule listed)."""
    app = Flask(__name__)
    app.get("/healthz")(healthz)  # the runner's readiness probe

    @app.post("/items")
    def create_item() -> tuple[dict[str, Any], int]:
        payload = request.get_json()
        if not isinstance(payload, dict):
            raise UnprocessableEntity()
        errors = []
        name = payload.get("name")
        name = name.strip() if isinstance(name, str) else ""
        if not 1 <= len(name) <= 100:
            errors.append({"pointer": "/name", "message": "expected 1 to 100 characters"})
        quantity = payload.get("quantity", 1)
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            quantity = -1
        if not 0 <= quantity <= 10_000:
            errors.append({"pointer": "/quantity", "message": "expected 0 to 10000"})
        errors += [
            {"pointer": f"/{k}", "message": "unknown"}
            for k in payload.keys() - {"name", "quantity"}
        ]
        if errors:
            raise UnprocessableEntity()
        return {"id": 1, "name": name, "quantity": quantity}, 201

    return app


def model_validated() -> Flask:
    """`benchmarks.apps:model_validated()`: the same POST /items with the bake's ItemIn through
    flask-openapi3 (the after), and GET /healthz on an APIBlueprint with no model."""
    schemas = importlib.import_module(f"{os.environ['BENCH_PACKAGE']}.schemas")
    app = OpenAPI(__name__, doc_ui=False)
    bp = APIBlueprint("bench", __name__)
    bp.get("/healthz")(healthz)

    def create_item(body: Any) -> tuple[dict[str, Any], int]:
        return {"id": 1, **body.model_dump()}, 201

    create_item.__annotations__["body"] = schemas.ItemIn  # flask-openapi3 reads the model here
    bp.post("/items")(create_item)
    app.register_api(bp)
    return app
