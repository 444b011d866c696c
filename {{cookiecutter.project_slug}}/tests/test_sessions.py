"""Sessions: none is opened or saved for a request without one; a real one round-trips."""

from __future__ import annotations

from flask import Flask, session
from flask.testing import FlaskClient

from {{ cookiecutter.package_name }}.sessions import CookieSessions


def add_counter(app: Flask) -> None:
    """A view that counts visits in the session."""

    @app.get("/visits")
    def visits() -> dict[str, int]:
        session["visits"] = session.get("visits", 0) + 1
        return {"visits": session["visits"]}


def test_the_app_uses_the_cheap_interface(app: Flask) -> None:
    assert isinstance(app.session_interface, CookieSessions)


def test_no_cookie_is_set_when_no_view_uses_the_session(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")


def test_a_session_round_trips(app: Flask) -> None:
    add_counter(app)
    client = app.test_client()
    first = client.get("/visits")
    assert first.json == {"visits": 1}
    assert "session=" in first.headers["Set-Cookie"]
    assert client.get("/visits").json == {"visits": 2}


def test_a_tampered_cookie_starts_a_new_session(app: Flask) -> None:
    add_counter(app)
    client = app.test_client()
    client.set_cookie("session", "forged.value.sig")
    assert client.get("/visits").json == {"visits": 1}
