"""The factory: configuration applied, every blueprint registered, ProxyFix only when asked, and
the middlewares in the order the README's request-path table gives."""

from __future__ import annotations

import re
from functools import partial

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from {{ cookiecutter.package_name }}.app import create_app, middlewares
from {{ cookiecutter.package_name }}.settings import Settings

from .servers import PACKAGE_DIR, PROJECT

ROUTES = PACKAGE_DIR / "routes"


def test_factory_builds_independent_apps() -> None:
    first, second = create_app({"APP_ENV": "testing"}), create_app({"APP_ENV": "testing"})
    assert first is not second
    assert first.testing


def test_every_route_module_is_registered(app: Flask) -> None:
    modules = {path.stem for path in ROUTES.glob("*.py") if path.stem != "__init__"}
    assert modules <= set(app.blueprints)
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    assert {"/healthz", "/readyz"} <= rules


def test_proxy_fix_off_by_default(app: Flask) -> None:
    assert not isinstance(app.wsgi_app, ProxyFix)
    assert (
        app.test_client()
        .get("/healthz", headers={"X-Forwarded-Proto": "https"})
        .headers.get("Strict-Transport-Security")
        is None
    )


def test_proxy_fix_trusts_the_configured_hops() -> None:
    app = create_app({"APP_ENV": "testing", "TRUSTED_PROXY_COUNT": 1})
    assert isinstance(app.wsgi_app, ProxyFix)
    response = app.test_client().get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_the_readme_lists_the_middlewares_in_their_order() -> None:
    """Every middleware on (behind a proxy, metrics and shedding on), named as the README's
    request-path table names them, outermost first."""
    settings = Settings.from_env(
        {},
        APP_ENV="testing",
        TRUSTED_PROXY_COUNT=1,
        METRICS_PORT=9464,
        GUNICORN_QUEUE_TIMEOUT_MS=500,
    )
    package = f"{PACKAGE_DIR.name}."
    stack = []
    for layer in middlewares(settings):
        made = layer.func if isinstance(layer, partial) else layer
        stack.append(f"{made.__module__.removeprefix(package)}.{made.__qualname__}")
    readme = (PROJECT / "README.md").read_text()
    assert re.findall(r"^\| `wsgi_app` \| `([\w.]+)` \|", readme, re.MULTILINE) == stack
