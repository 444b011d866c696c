"""The engine: a bounded pool of connections that are configured on open and never cross a
fork, built from the database settings."""

from __future__ import annotations

import os
import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.pool import NullPool, StaticPool

from .settings import Settings


def make_engine(settings: Settings) -> Engine:
    """An engine with a bounded pool that tests a connection before lending it; no connection
    is opened here, so nothing crosses gunicorn's fork."""
    url = make_url(settings.DATABASE_URL)
    timeout = settings.DATABASE_CONNECT_TIMEOUT
    options: dict[str, Any] = {"pool_pre_ping": True}
    if url.get_backend_name() == "sqlite":
        # The driver's timeout is SQLite's busy_timeout: a writer waits for the lock.
        options["connect_args"] = {"timeout": 10, "check_same_thread": False}
    else:
        statement_timeout = settings.DATABASE_STATEMENT_TIMEOUT_MS
        options["connect_args"] = {
            "connect_timeout": timeout,
            "options": f"-c statement_timeout={statement_timeout}",
        }
    if url.database in (None, "", ":memory:"):
        options["poolclass"] = StaticPool  # one in-memory database shared by the threads
    elif settings.APP_ENV == "testing":
        options["poolclass"] = NullPool  # test apps come and go by the hundred: keep nothing open
    else:
        pool_size = settings.DATABASE_POOL_SIZE
        options.update(pool_size=pool_size, max_overflow=2, pool_timeout=timeout)
    make_directory_for(url)
    engine = create_engine(url, **options)
    if url.get_backend_name() == "sqlite":
        event.listen(engine, "connect", sqlite_pragmas)
    forget_pool_after_fork(engine)
    return engine


def make_directory_for(url: URL) -> None:
    """A SQLite file's directory, made if missing (instance/ in development): SQLite makes
    the file but not the directory, and says only "unable to open database file"."""
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


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
