"""The application factory: configuration, logging, hooks, error handlers and blueprints."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import body, errors, headers, hooks, log, routes, sessions
from .config import load_settings


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from the environment; `config` overrides it (tests, the dev server)."""
    app = Flask(__name__)
    app.config.from_mapping(load_settings(overrides=config))
    log.init_app(app)
    body.init_app(app)
    headers.init_app(app)
    sessions.init_app(app)
    hooks.init_app(app)
    errors.init_app(app)
    routes.register(app)
    if hops := app.config["TRUSTED_PROXY_COUNT"]:
        # Only behind that many proxies may X-Forwarded-* be believed.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_prefix=hops
        )
    return app
