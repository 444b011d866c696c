"""The application factory: settings, then each component wiring itself into the app, then the
WSGI middlewares in the one list that orders them."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import partial
from importlib.resources import files
from typing import Any

from flask_openapi3 import Info, OpenAPI
from werkzeug.middleware.proxy_fix import ProxyFix

from . import (
    __version__,
    auth,
    body,
    docs,
    errors,
    headers,
    hooks,
    log,
    metrics,
    overload,
    routes,
    sessions,
    tracing,
)
from .openapi import BEARER, operation_id
from .settings import ConfigError, Settings, current

# The project's name and description as the generator was told them: the document's info.
ABOUT = json.loads((files(__package__ or __name__) / "about.json").read_text(encoding="utf-8"))

Middleware = Callable[[Any], Any]


def create_app(config: Mapping[str, Any] | None = None) -> OpenAPI:
    """Build the app from this process's settings. `config` may set Flask's own keys (DEBUG)
    and override settings (tests), which reads the environment anew."""
    given = {key: value for key, value in (config or {}).items() if key in Settings.model_fields}
    settings = Settings.from_env(**given) if given else current()
    settings.require_secret_key()
    app = OpenAPI(
        __name__,
        info=Info(title=ABOUT["title"], version=__version__, description=ABOUT["description"]),
        doc_ui=False,  # docs.py serves the contract and its page
        security_schemes={"bearer": BEARER},  # each operation's scopes: auth.requires
        operation_id_callback=operation_id,
        validation_error_model=errors.Problem,
        validation_error_callback=errors.reject,
    )
    # DEBUG only by the dev server's word: Flask would also take it from FLASK_DEBUG.
    testing = settings.APP_ENV == "testing"
    app.config.from_mapping(settings.model_dump(), DEBUG=False, TESTING=testing)
    app.config.update({k: v for k, v in (config or {}).items() if k not in given})
    if settings.APP_ENV == "production" and app.debug:
        raise ConfigError("DEBUG cannot be enabled when APP_ENV is production")
    app.extensions["settings"] = settings

    # Components: each registers its hooks, handlers and readiness checks itself.
    log.init_app(app)
    body.init_app(app)
    sessions.init_app(app)
    tracing.init_app(app, settings)
    hooks.init_app(app)
    errors.init_app(app)
    auth.init_app(app, settings)
    routes.register(app)
    docs.init_app(app)

    for middleware in reversed(middlewares(settings)):
        app.wsgi_app = middleware(app.wsgi_app)  # type: ignore[method-assign]
    return app


def middlewares(settings: Settings) -> list[Middleware]:
    """The WSGI stack, outermost first: a request passes through them in this order, before
    Flask sees it, and its response leaves through them in reverse (the README's table)."""
    stack: list[Middleware] = []
    if hops := settings.TRUSTED_PROXY_COUNT:  # only behind that many proxies is X-Forwarded-*
        stack.append(partial(ProxyFix, x_for=hops, x_proto=hops, x_host=hops, x_prefix=hops))
    if port := settings.METRICS_PORT:  # its clock covers every layer below
        stack.append(partial(metrics.Metrics, port=port))
    stack.append(hooks.RequestEdges)
    stack.append(headers.SecurityHeaders)
    if limit := settings.GUNICORN_QUEUE_TIMEOUT_MS:  # under gunicorn, past its capacity
        stack.append(partial(overload.Shed, limit_s=limit / 1000))
    stack.append(partial(body.GuardedBodies, limit=settings.MAX_CONTENT_LENGTH))
    return stack
