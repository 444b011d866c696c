"""The factory: configuration applied, every blueprint registered, ProxyFix only when asked."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from {{ cookiecutter.package_name }}.app import create_app

from .servers import PACKAGE_DIR

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
