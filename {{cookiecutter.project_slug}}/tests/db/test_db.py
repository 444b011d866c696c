"""db.py: the session's life in a request, and database errors as problem+json."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, abort, g
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from {{ cookiecutter.package_name }} import db
from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.models import Item

from .support import MERGE, create, migrate


def count(app: Flask) -> int:
    """Items in the app's database."""
    with app.app_context():
        return db.session().scalar(select(func.count()).select_from(Item)) or 0


@pytest.fixture
def hooked(tmp_path: Path) -> Flask:
    """An app on a pooled, migrated database with views that write, then succeed, fail or raise."""
    url = f"sqlite:///{tmp_path}/t.db"
    migrate(url)
    app = create_app({"APP_ENV": "development", "DATABASE_URL": url})

    # app.route, not app.post: flask-openapi3's app.post hands URL variables to a path model only.
    @app.route("/t/<outcome>", methods=["GET", "POST"])
    def write(outcome: str) -> tuple[str, int]:
        db.session().add(Item(name=outcome))
        db.session().flush()
        if outcome == "raise":
            raise RuntimeError("boom")
        if outcome == "abort":
            abort(409)
        return "", 400 if outcome == "fail" else 201

    return app


def test_a_successful_view_is_committed(hooked: Flask) -> None:
    assert hooked.test_client().post("/t/ok").status_code == 201
    assert count(hooked) == 1


def test_a_safe_method_never_commits(hooked: Flask) -> None:
    assert hooked.test_client().get("/t/ok").status_code == 201
    assert count(hooked) == 0  # a GET that writes is a bug: its write is rolled back


@pytest.mark.parametrize("outcome", ["fail", "abort"])
def test_an_error_response_commits_nothing(hooked: Flask, outcome: str) -> None:
    assert hooked.test_client().post(f"/t/{outcome}").status_code >= 400
    assert count(hooked) == 0


def test_an_exception_rolls_back_and_returns_the_connection(hooked: Flask) -> None:
    hooked.config["PROPAGATE_EXCEPTIONS"] = False
    assert hooked.test_client().post("/t/raise").status_code == 500
    assert count(hooked) == 0
    engine = hooked.extensions["db"].kw["bind"]
    assert engine.pool.checkedout() == 0


def test_item_writes_let_the_next_writer_in_before_answering(hooked: Flask, tmp_path: Path) -> None:
    """SQLite admits one writer from its first write to its commit: the item views commit
    before their response is built, where a view that only flushes still holds the lock."""
    held: list[str] = []

    def probe(name: str) -> None:
        view: Callable[..., Any] = hooked.view_functions[name]

        @functools.wraps(view)
        def probed(**kwargs: Any) -> Any:
            response = view(**kwargs)
            with closing(sqlite3.connect(tmp_path / "t.db", timeout=0)) as other:
                try:
                    other.execute("BEGIN IMMEDIATE")  # take the writer lock, or fail at once
                except sqlite3.OperationalError:
                    held.append(name)
            return response

        hooked.view_functions[name] = probed

    for name in ("write", "items.create_item", "items.update_item", "items.delete_item"):
        probe(name)
    client = hooked.test_client()
    item = create(client, "widget")
    url = f"/api/items/{item['id']}"
    assert client.patch(url, json={"quantity": 3}, content_type=MERGE).status_code == 200
    assert client.delete(url).status_code == 204
    assert client.post("/t/ok").status_code == 201
    assert held == ["write"]  # the control: its flush holds the lock until commit_session


def test_requests_without_the_database_open_no_session(app: Flask) -> None:
    with app.test_request_context("/healthz"):
        app.full_dispatch_request()
        assert "db_session" not in g


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (IntegrityError("INSERT", {}, Exception("duplicate key: secret")), 409),
        (OperationalError("SELECT", {}, Exception("connection refused: secret")), 503),
        (DBAPIError("SELECT", {}, Exception("syntax: secret")), 500),
    ],
)
def test_database_errors_become_problems_without_driver_text(
    app: Flask, error: Exception, status: int
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/t")
    def fail() -> str:
        raise error

    response = app.test_client().get("/t")
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert "secret" not in response.get_data(as_text=True)
    assert ("Retry-After" in response.headers) == (status == 503)


def test_a_commit_that_fails_is_answered_like_a_view_that_failed(app: Flask) -> None:
    @app.post("/t")
    def unflushed() -> tuple[str, int]:
        db.session().add(Item(name="taken"))  # the unique name only clashes at commit
        return "", 201

    assert app.test_client().post("/t").status_code == 201
    response = app.test_client().post("/t")
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert count(app) == 1


def test_a_url_given_in_code_wins_and_is_normalised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    secret = "s" * 40
    config = {"APP_ENV": "production", "SECRET_KEY": secret, "DATABASE_URL": "postgres://u@h/d"}
    app = create_app(config)
    assert app.config["DATABASE_URL"] == "postgresql+psycopg://u@h/d"
    assert app.extensions["db"].kw["bind"].url.drivername == "postgresql+psycopg"
