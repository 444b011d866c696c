"""db.py: the session's life in a request, and database errors as problem+json (on tables of
the tests' own, so these guards outlive the example resource)."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from flask import Flask, g
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from {{ cookiecutter.package_name }} import db
from {{ cookiecutter.package_name }}.app import create_app

from .support import Probe, ProbeChild, count, probe_tables


def test_a_successful_view_is_committed(hooked: Flask) -> None:
    assert hooked.test_client().post("/t/ok").status_code == 201
    assert count(hooked) == 1


def test_a_safe_method_never_commits(hooked: Flask) -> None:
    assert hooked.test_client().get("/t/ok").status_code == 201
    assert count(hooked) == 0  # a GET that writes is a bug: its write is rolled back


def test_a_safe_method_never_commits_on_postgresql(postgres_url: str) -> None:
    """There a safe method reads outside a transaction (engine.for_reads): its write opens one,
    which is rolled back all the same."""
    app = create_app({"APP_ENV": "development", "DATABASE_URL": postgres_url})
    probe_tables(app)

    @app.route("/t")
    def write() -> tuple[str, int]:
        assert db.session().scalar(select(Probe.id)) is None  # a lone SELECT first
        db.session().add(Probe(name="get"))
        db.session().flush()
        return "", 201

    assert app.test_client().get("/t").status_code == 201
    assert count(app) == 0


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
    probe_tables(app)

    @app.post("/t")
    def unflushed() -> tuple[str, int]:
        db.session().add(Probe(name="taken"))  # the unique name only clashes at commit
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


@pytest.mark.parametrize(
    ("write", "detail"),
    [
        ("taken", "A value the request sets is taken already."),
        ("orphan", "It refers to a record that does not exist."),
        ("referenced", "Other records still refer to it."),
    ],
)
def test_a_conflict_says_which_rule_it_broke_and_names_nothing(
    app: Flask, write: str, detail: str
) -> None:
    probe_tables(app)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    with app.app_context():
        parent = Probe(name="parent")
        db.session().add(parent)
        db.session().flush()
        db.session().add(ProbeChild(probe_id=parent.id))
        db.session().commit()
        db.close_session()

    @app.post("/t")
    def conflicting() -> tuple[str, int]:
        session = db.session()
        if write == "taken":
            session.add(Probe(name="parent"))
        elif write == "orphan":
            session.add(ProbeChild(probe_id=999))
        else:
            session.delete(session.scalars(select(Probe)).one())
        db.commit()
        return "", 201

    response = app.test_client().post("/t")
    assert response.status_code == 409
    assert response.get_json()["detail"] == detail
    assert "probe" not in response.get_data(as_text=True)


def test_a_connection_cut_after_the_view_leaves_its_answer_standing(postgres_url: str) -> None:
    """The deadline may cut a connection between a view's last query and the teardown's
    rollback (a request that took just about DATABASE_TIMEOUT; seen with ten gunicorn masters
    against a full server): the view's answer stands, and the next request gets a fresh one."""
    app = create_app({"APP_ENV": "development", "DATABASE_URL": postgres_url})

    @app.route("/cut", methods=["GET"])
    def cut() -> str:
        db.session().execute(select(1))
        raw: Any = db.session().connection().connection.dbapi_connection
        with socket.fromfd(raw.pgconn.socket, socket.AF_INET, socket.SOCK_STREAM) as duplicate:
            duplicate.shutdown(socket.SHUT_RDWR)  # as deadline.py does
        return "cut"

    client = app.test_client()
    for _ in range(10):  # more than the pool holds: a cut connection is not kept out of it
        assert client.get("/cut").status_code == 200
    assert app.extensions["db"].kw["bind"].pool.checkedout() == 0
