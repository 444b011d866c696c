"""The engine: the database URL and pool settings from the environment, and connections that
are configured on open and never cross a fork."""

from __future__ import annotations

import os
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.pool import NullPool, StaticPool

from .config import ConfigError, env_int, env_str


def database_url(environ: Mapping[str, str], app_env: str) -> str:
    """DATABASE_URL (TEST_DATABASE_URL under tests); unset, a SQLite file or a throw-away one."""
    url = env_str(environ, "TEST_DATABASE_URL" if app_env == "testing" else "DATABASE_URL", "")
    if url:
        return normalise_url(url)
    if app_env == "production":
        raise ConfigError("DATABASE_URL must be set in production")
    if app_env == "testing":
        return "sqlite://"
    (Path.cwd() / "instance").mkdir(exist_ok=True)
    return f"sqlite:///{Path.cwd() / 'instance' / 'app.sqlite3'}"


def normalise_url(url: str) -> str:
    """Point postgres URLs at psycopg 3 (not SQLAlchemy's psycopg2 default); refuse others."""
    scheme, _, rest = url.partition("://")
    if scheme in ("postgres", "postgresql"):
        return f"postgresql+psycopg://{rest}"
    if scheme not in ("postgresql+psycopg", "sqlite"):
        raise ConfigError(
            f"DATABASE_URL must start with postgresql:// or sqlite://, got {scheme!r}"
        )
    return url


def load_settings(
    environ: Mapping[str, str], app_env: str, url: str | None = None
) -> dict[str, Any]:
    """DATABASE_* settings, validated like config.load_settings; `url` is one given in code."""
    threads = env_int(environ, "GUNICORN_THREADS", 4, minimum=1, maximum=64)
    return {
        "DATABASE_URL": normalise_url(url) if url else database_url(environ, app_env),
        # One connection per request thread of this worker process, so no request waits for one.
        "DATABASE_POOL_SIZE": env_int(environ, "DATABASE_POOL_SIZE", threads, minimum=1),
        "DATABASE_CONNECT_TIMEOUT": env_int(environ, "DATABASE_CONNECT_TIMEOUT", 3, minimum=2),
        "DATABASE_STATEMENT_TIMEOUT_MS": env_int(
            environ, "DATABASE_STATEMENT_TIMEOUT_MS", 5000, minimum=1
        ),
    }


def make_engine(config: Mapping[str, Any]) -> Engine:
    """An engine with a bounded pool that tests a connection before lending it; no connection
    is opened here, so nothing crosses gunicorn's fork."""
    url = make_url(config["DATABASE_URL"])
    timeout: int = config["DATABASE_CONNECT_TIMEOUT"]
    options: dict[str, Any] = {"pool_pre_ping": True}
    if url.get_backend_name() == "sqlite":
        # The driver's timeout is SQLite's busy_timeout: a writer waits for the lock.
        options["connect_args"] = {"timeout": 10, "check_same_thread": False}
    else:
        statement_timeout = config["DATABASE_STATEMENT_TIMEOUT_MS"]
        options["connect_args"] = {
            "connect_timeout": timeout,
            "options": f"-c statement_timeout={statement_timeout}",
        }
    if url.database in (None, "", ":memory:"):
        options["poolclass"] = StaticPool  # one in-memory database shared by the threads
    elif config.get("TESTING"):
        options["poolclass"] = NullPool  # test apps come and go by the hundred: keep nothing open
    else:
        pool_size = config["DATABASE_POOL_SIZE"]
        options.update(pool_size=pool_size, max_overflow=2, pool_timeout=timeout)
    engine = create_engine(url, **options)
    if url.get_backend_name() == "sqlite":
        event.listen(engine, "connect", sqlite_pragmas)
    forget_pool_after_fork(engine)
    return engine


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers work beside the writer; SQLite leaves foreign keys off unless asked."""
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def forget_pool_after_fork(engine: Engine) -> None:
    """A forked worker starts with an empty pool: a connection inherited from the master
    would interleave two processes' traffic on one server session."""
    ref = weakref.ref(engine)

    def reset() -> None:
        if (alive := ref()) is not None:
            alive.dispose(close=False)

    os.register_at_fork(after_in_child=reset)
