"""Security headers on every response the app answers, unless a view chose its own."""

from __future__ import annotations

from typing import NoReturn

import pytest
from flask import Flask
from flask.testing import FlaskClient

from {{ cookiecutter.package_name }}.headers import SECURITY_HEADERS


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/healthz"), ("GET", "/nope"), ("PUT", "/healthz")]
)
def test_security_headers_on_every_response(client: FlaskClient, method: str, path: str) -> None:
    response = client.open(path, method=method)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.getlist(name) == [value]
    assert "Strict-Transport-Security" not in response.headers


def test_hsts_only_over_https(client: FlaskClient) -> None:
    response = client.get("/healthz", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_a_view_keeps_its_own_value(app: Flask) -> None:
    @app.get("/cached")
    def cached() -> tuple[dict[str, bool], dict[str, str]]:
        return {"ok": True}, {"cache-control": "max-age=60"}

    response = app.test_client().get("/cached")
    assert response.headers.getlist("Cache-Control") == ["max-age=60"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_unhandled_errors_carry_them_too(prod_app: Flask) -> None:
    @prod_app.get("/boom")
    def boom() -> NoReturn:
        raise RuntimeError

    response = prod_app.test_client().get("/boom")
    assert response.status_code == 500
    assert response.headers["X-Content-Type-Options"] == "nosniff"
