"""Databases for the tests: throw-away SQLite files, and fresh PostgreSQL databases when
TEST_DATABASE_URL points at a server (`make test-postgres`); migrations applied for real."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import ForeignKey, String, create_engine, func, make_url, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import NullPool

from {{ cookiecutter.package_name }} import db
from {{ cookiecutter.package_name }}.settings import Settings

PROJECT = Path(__file__).resolve().parents[2]
MERGE = "application/merge-patch+json"


def postgres_url() -> str | None:
    """TEST_DATABASE_URL when it names a PostgreSQL server, else None."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    return url if url.startswith("postgres") else None


def require_postgres() -> str:
    """The server's URL; without one, skip (or fail under REQUIRE_POSTGRES=1, as in CI)."""
    url = postgres_url()
    if url is None:
        reason = "needs PostgreSQL: run `make test-postgres` or set TEST_DATABASE_URL"
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return url


def alembic_config(url: str) -> Config:
    """The project's alembic.ini aimed at `url`, leaving the test run's logging alone."""
    config = Config(str(PROJECT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logging"] = False
    return config


def migrate(url: str) -> None:
    """alembic upgrade head, as compose's `migrate` service does; once per process for SQLite."""
    path = make_url(url).database if url.startswith("sqlite:///") else None
    if path is None or Path(path).exists():
        command.upgrade(alembic_config(url), "head")
        return
    if not HEAD.exists():
        command.upgrade(alembic_config(f"sqlite:///{HEAD}"), "head")
    shutil.copyfile(HEAD, path)


HEAD = Path((MIGRATED := tempfile.TemporaryDirectory(prefix="migrated-")).name) / "head.sqlite3"


@contextmanager
def fresh_postgres(server_url: str) -> Iterator[str]:
    """A new, empty database on the server for one test, dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def worker_database(server_url: str, worker: str) -> str:
    """An empty database of this pytest-xdist worker's own on the server, as a URL: a testing app
    drops and creates every table, which two workers in one database would do at once."""
    url = make_url(server_url)
    name = f"{url.database}_{worker}"
    admin = create_engine(service_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def service_url(url: str) -> str:
    """The URL as the service reads it (postgresql:// means psycopg 3)."""
    return Settings.from_env({"APP_ENV": "development", "DATABASE_URL": url}).DATABASE_URL


def create(client: FlaskClient, name: str, quantity: int = 1) -> dict[str, Any]:
    """POST an item; return its JSON."""
    response = client.post("/api/items", json={"name": name, "quantity": quantity})
    assert response.status_code == 201, response.json
    item = response.get_json()
    assert isinstance(item, dict)
    return item


class ProbeBase(DeclarativeBase):
    """The tests' own tables, apart from the service's models (and from its migrations)."""


class Probe(ProbeBase):
    """A row a test view writes; its unique name lets a test break a constraint."""

    __tablename__ = "test_probe"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)


class ProbeChild(ProbeBase):
    """A row that refers to a Probe, which then cannot be deleted (RESTRICT)."""

    __tablename__ = "test_probe_child"
    id: Mapped[int] = mapped_column(primary_key=True)
    probe_id: Mapped[int] = mapped_column(ForeignKey("test_probe.id", ondelete="RESTRICT"))


def probe_tables(app: Flask) -> None:
    """Create the tests' tables, empty, in the app's database."""
    engine = app.extensions["db"].kw["bind"]
    ProbeBase.metadata.drop_all(engine)
    ProbeBase.metadata.create_all(engine)


def count(app: Flask) -> int:
    """Probe rows in the app's database."""
    with app.app_context():
        return db.session().scalar(select(func.count()).select_from(Probe)) or 0


def terminate(url: str, pid: int) -> None:
    """End a server session, as a restart or an idle timeout would, and wait until it is gone."""
    admin = create_engine(url, poolclass=NullPool)
    with admin.connect() as other:
        other.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
    admin.dispose()
