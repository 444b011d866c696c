"""The application factory: configuration, logging, hooks, error handlers, blueprints and the
API contract (flask-openapi3's OpenAPI is a Flask subclass that collects it from the routes)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib.resources import files
from typing import Any

from flask_openapi3 import Info, OpenAPI
from werkzeug.middleware.proxy_fix import ProxyFix

from . import (
    __version__,
    body,
    docs,
    errors,
    headers,
    hooks,
    log,
    metrics,
    openapi,
    routes,
    sessions,
    tracing,
)
from .config import load_settings

# The project's name and description as the generator was told them: the document's info.
ABOUT = json.loads((files(__package__ or __name__) / "about.json").read_text(encoding="utf-8"))


def create_app(config: Mapping[str, Any] | None = None) -> OpenAPI:
    """Build the app from the environment; `config` overrides it (tests, the dev server)."""
    app = OpenAPI(
        __name__,
        info=Info(title=ABOUT["title"], version=__version__, description=ABOUT["description"]),
        doc_ui=False,  # docs.py serves the contract and its page
        security_schemes={},  # none yet; left None, the document would be invalid
        operation_id_callback=openapi.operation_id,
        validation_error_model=errors.Problem,
        validation_error_callback=errors.reject,
    )
    app.config.from_mapping(load_settings(overrides=config))
    log.init_app(app)
    body.init_app(app)
    headers.init_app(app)
    sessions.init_app(app)
    tracing.init_app(app)  # first: every later hook's log lines carry the trace id
    hooks.init_app(app)
    metrics.init_app(app)  # the outermost middleware: its clock covers every layer
    errors.init_app(app)
    routes.register(app)
    openapi.init_app(app)  # after the routes: it unwraps the views that validate nothing
    docs.init_app(app)
    if hops := app.config["TRUSTED_PROXY_COUNT"]:
        # Only behind that many proxies may X-Forwarded-* be believed.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_prefix=hops
        )
    return app
