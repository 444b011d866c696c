"""Fixtures for the database tests: a migrated, empty database of each kind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, abort

from {{ cookiecutter.package_name }} import db
from {{ cookiecutter.package_name }}.app import create_app

from .support import Probe, fresh_postgres, migrate, probe_tables, require_postgres, service_url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of each kind (PostgreSQL only where a server is given)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'app.sqlite3'}"
        migrate(url)
        yield url
        return
    yield request.getfixturevalue("postgres_url")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """As database_url, shared by a module's tests: for those that assert only on what they
    wrote, so one server per module serves them (a server start-up costs about a second)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'app.sqlite3'}"
        migrate(url)
        yield url
        return
    with fresh_postgres(service_url(require_postgres())) as url:
        migrate(url)
        yield url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A migrated, empty PostgreSQL database (skipped, or failed under REQUIRE_POSTGRES=1,
    when no server is given)."""
    with fresh_postgres(service_url(require_postgres())) as url:
        migrate(url)
        yield url


@pytest.fixture
def hooked(tmp_path: Path) -> Flask:
    """An app on a pooled, migrated database with views that write, then succeed, fail or raise."""
    url = f"sqlite:///{tmp_path}/t.db"
    migrate(url)
    app = create_app({"APP_ENV": "development", "DATABASE_URL": url})
    probe_tables(app)

    # app.route, not app.post: flask-openapi3's app.post hands URL variables to a path model only.
    @app.route("/t/<outcome>", methods=["GET", "POST"])
    def write(outcome: str) -> tuple[str, int]:
        db.session().add(Probe(name=outcome))
        db.session().flush()
        if outcome == "raise":
            raise RuntimeError("boom")
        if outcome == "abort":
            abort(409)
        return "", 400 if outcome == "fail" else 201

    return app
