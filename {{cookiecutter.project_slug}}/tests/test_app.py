"""The factory: configuration applied, every blueprint registered, ProxyFix only when asked, and
the middlewares in the order the README's request-path table gives."""

from __future__ import annotations

import importlib
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
    """The README's request-path table names every middleware `middlewares()` gives with the
    optional ones on (behind a proxy, metrics and shedding on), outermost first; a row may name
    one more that is off by default, but only a class that exists."""
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
    rows = table_rows((PROJECT / "README.md").read_text().splitlines())
    assert [row for row in rows if row in stack] == stack, rows
    for row in rows:
        module, _, name = row.rpartition(".")
        try:
            found = importlib.import_module(package + module)
        except ModuleNotFoundError:  # a library's: werkzeug's ProxyFix
            found = importlib.import_module(module)
        assert hasattr(found, name), f"the README names {row}, which does not exist"


def table_rows(lines: list[str]) -> list[str]:
    """The middlewares the request-path table names: its first run of `wsgi_app` rows (the
    "Adding a middleware" steps show one more row, in a block of their own)."""
    rows: list[str] = []
    for line in lines:
        if found := re.match(r"\| `wsgi_app` \| `([\w.]+)` \|", line):
            rows.append(found[1])
        elif rows:
            break
    return rows
