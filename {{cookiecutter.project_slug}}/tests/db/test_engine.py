"""engine.py and the database settings: URL rules, pool and timeout settings, what every
connection is set up with, and an empty pool in a forked worker."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import text

from {{ cookiecutter.package_name }}.engine import make_engine
from {{ cookiecutter.package_name }}.settings import ConfigError, Settings

from .support import terminate


def db_settings(url: str, **environ: str) -> Settings:
    """Settings as production reads them, for an engine on `url`."""
    return Settings.from_env({"DATABASE_URL": url, **environ})


def test_unset_url_is_a_file_under_instance_in_development(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({"APP_ENV": "development"})
    assert settings.DATABASE_URL == "sqlite:///instance/app.sqlite3"
    make_engine(settings).dispose()
    assert (tmp_path / "instance").is_dir()


def test_tests_never_touch_the_development_database() -> None:
    environ = {"APP_ENV": "testing", "DATABASE_URL": "postgresql://dev@db/dev"}
    assert Settings.from_env(environ).DATABASE_URL == "sqlite://"
    environ["TEST_DATABASE_URL"] = "postgresql://test@db/test"
    assert Settings.from_env(environ).DATABASE_URL == "postgresql+psycopg://test@db/test"


def test_production_needs_a_url() -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL must be set"):
        Settings.from_env({})


@pytest.mark.parametrize("url", ["mysql://x@y/z", "postgresql+psycopg2://x@y/z", "nonsense"])
def test_other_databases_are_refused_by_name(url: str) -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL: must start with"):
        db_settings(url)


def test_pool_follows_the_threads_and_timeouts_are_bounded() -> None:
    settings = db_settings("sqlite://", GUNICORN_THREADS="8")
    assert settings.DATABASE_POOL_SIZE == 8
    assert settings.DATABASE_CONNECT_TIMEOUT == 3
    with pytest.raises(ConfigError, match="DATABASE_CONNECT_TIMEOUT"):
        db_settings("sqlite://", DATABASE_CONNECT_TIMEOUT="1")


def test_postgres_pool_is_sized() -> None:
    engine = make_engine(db_settings("postgresql://u:p@127.0.0.1/d"))
    assert engine.pool.size() == 4  # type: ignore[attr-defined]
    engine.dispose()


def test_a_pooled_connection_the_server_dropped_is_replaced_on_checkout(postgres_url: str) -> None:
    engine = make_engine(db_settings(postgres_url))
    with engine.connect() as connection:
        first = connection.scalar(text("SELECT pg_backend_pid()"))
    terminate(postgres_url, first)  # a restarted server, an idle timeout: the session is gone
    with engine.connect() as connection:  # its socket is readable: pinged, dead, replaced
        assert connection.scalar(text("SELECT pg_backend_pid()")) not in (None, first)
    engine.dispose()


def test_postgres_sessions_carry_the_statement_timeout(postgres_url: str) -> None:
    engine = make_engine(db_settings(postgres_url))
    with engine.connect() as connection:
        assert connection.scalar(text("SHOW statement_timeout")) == "5s"
    engine.dispose()


def test_every_sqlite_connection_gets_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(db_settings(f"sqlite:///{tmp_path}/x.db"))
    with engine.connect() as first, engine.connect() as second:
        for connection in (first, second):
            assert connection.scalar(text("PRAGMA journal_mode")) == "wal"
            assert connection.scalar(text("PRAGMA foreign_keys")) == 1
            assert connection.scalar(text("PRAGMA busy_timeout")) == 5_000  # DATABASE_TIMEOUT
    engine.dispose()


def test_a_forked_child_starts_with_an_empty_pool(tmp_path: Path) -> None:
    engine = make_engine(db_settings(f"sqlite:///{tmp_path}/x.db"))
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    assert engine.pool.checkedin() == 1  # type: ignore[attr-defined]
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its pool, then leave without running pytest's exit code
        os.write(write, str(engine.pool.checkedin()).encode())  # type: ignore[attr-defined]
        os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 16) == b"0"
    assert engine.pool.checkedin() == 1  # type: ignore[attr-defined]  # the parent keeps its own
    engine.dispose()
