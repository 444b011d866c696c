"""The engine: a bounded pool of connections that are configured on open and never cross a
fork, built from the database settings."""

from __future__ import annotations

import math
import os
import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import ConnectionPoolEntry, NullPool, StaticPool

from .deadline import Deadlines
from .settings import Settings

UNDEFINED = ("42P01", "42703")  # PostgreSQL's undefined table and undefined column


def make_engine(settings: Settings) -> Engine:
    """An engine with a bounded pool that tests a connection before lending it; no connection
    is opened here, so nothing crosses gunicorn's fork."""
    url = make_url(settings.DATABASE_URL)
    timeout = settings.DATABASE_CONNECT_TIMEOUT
    postgres = url.get_backend_name() != "sqlite"
    options: dict[str, Any] = {"pool_pre_ping": not postgres}  # PostgreSQL's: bound_waits()
    if not postgres:
        # The driver's timeout is SQLite's busy_timeout: a writer waits that long for the lock.
        options["connect_args"] = {"timeout": settings.DATABASE_TIMEOUT, "check_same_thread": False}
    else:
        # Also through PgBouncer in transaction mode (pooler/, README: "A connection pooler"):
        # it accepts this option (track_extra_parameters) and applies the same setting itself;
        # psycopg's prepared statements are PgBouncer's to map (max_prepared_statements); and
        # nothing here holds session state (no SET, advisory lock, LISTEN or temporary table).
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
    if postgres:
        deadlines = Deadlines(settings.DATABASE_TIMEOUT, lambda c: c.pgconn.socket)
        bound_waits(engine, deadlines, timeout)
    else:
        event.listen(engine, "connect", sqlite_pragmas)
    forget_pool_after_fork(engine)
    return engine


def bound_waits(engine: Engine, deadlines: Deadlines, connect_timeout: int) -> None:
    """Every connection the pool lends is watched until it comes back (deadline.py), and pinged
    under that watch: SQLAlchemy's own pre-ping runs before any event, unwatched, and would
    wait forever on a frozen server. A connection opened for a request gets no more time to
    connect than the request has left (2 s at least: libpq's floor)."""

    def connect(_dialect: Any, _record: Any, _args: Any, params: dict[str, Any]) -> None:
        left = math.ceil(deadlines.remaining())
        params["connect_timeout"] = max(2, min(connect_timeout, left))

    def checkout(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        deadlines.arm(dbapi_connection)
        if record.info.pop("fresh", False):
            return  # just opened: it answered already
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error:
            deadlines.disarm(dbapi_connection)
            if deadlines.remaining() <= 0:
                raise  # frozen: no time left to open another
            raise DisconnectionError("ping failed") from None  # the pool opens a new one

    event.listen(engine, "do_connect", connect)
    event.listen(engine, "connect", lambda _c, record: record.info.update(fresh=True))
    event.listen(engine, "checkout", checkout)
    event.listen(engine, "checkin", lambda connection, _r: deadlines.disarm(connection))
    event.listen(engine, "invalidate", lambda connection, *_: deadlines.disarm(connection))


def schema_missing(error: BaseException) -> bool:
    """A driver error saying a table or column the code expects is missing (PostgreSQL's
    SQLSTATE, SQLite's words): the migrations have not run."""
    orig = getattr(error, "orig", error)
    return getattr(orig, "sqlstate", None) in UNDEFINED or str(orig).startswith("no such ")


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
