"""The engine: a bounded pool of connections that are configured on open and never cross a
fork, built from the database settings."""

from __future__ import annotations

import math
import os
import select
import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import NullPool, StaticPool

from .deadline import Deadlines
from .settings import Settings

UNDEFINED = ("42P01", "42703")  # PostgreSQL's undefined table and undefined column


def make_engine(settings: Settings) -> Engine:
    """An engine with a bounded pool that tests a connection before lending it (PostgreSQL's:
    bound_waits); no connection is opened here, so nothing crosses gunicorn's fork."""
    url = make_url(settings.DATABASE_URL)
    timeout = settings.DATABASE_CONNECT_TIMEOUT
    postgres = url.get_backend_name() != "sqlite"
    options: dict[str, Any] = {"pool_pre_ping": not postgres}  # PostgreSQL's: bound_waits()
    if not postgres:
        # The driver's timeout is SQLite's busy_timeout: a writer waits that long for the lock.
        options["connect_args"] = {"timeout": settings.DATABASE_TIMEOUT, "check_same_thread": False}
    else:
        # PgBouncer in transaction mode (README: "A connection pooler") applies this timeout
        # itself; nothing here holds session state (no SET, advisory lock, LISTEN, temp table).
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
    under that watch only if its socket has something to say (a server that closed it left an
    end of file there; SQLAlchemy's pre-ping costs a round trip each time, unwatched). A new
    connection gets no longer to connect than the request has left (libpq's floor: 2 s)."""

    def connect(_dialect: Any, _record: Any, _args: Any, params: dict[str, Any]) -> None:
        left = math.ceil(deadlines.remaining())
        params["connect_timeout"] = max(2, min(connect_timeout, left))

    def checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        deadlines.arm(dbapi_connection)
        if quiet(dbapi_connection.pgconn.socket):
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error:
            deadlines.disarm(dbapi_connection)
            if deadlines.remaining() <= 0:
                raise  # frozen: no time left to open another
            raise DisconnectionError("ping failed") from None  # the pool opens a new one

    def execute(cursor: Any, statement: str, parameters: Any, context: Any) -> bool:
        """Outside a transaction (for_reads), a lone SELECT runs as is, and again on a new
        connection if this one was dropped (SQLAlchemy's FAQ recipe); else BEGIN comes first."""
        connection = context.root_connection
        if not (driver := connection.connection.dbapi_connection).autocommit:
            return False
        if not getattr(context.compiled and context.compiled.statement, "is_select", False):
            driver.autocommit = False
            return False
        try:
            cursor.execute(statement, parameters)
        except engine.dialect.loaded_dbapi.Error as error:
            dropped = engine.dialect.is_disconnect(error, driver, cursor)
            if not dropped or deadlines.remaining() <= 0:  # a frozen server is not asked twice
                raise
            connection.invalidate()
            connection.rollback()
            context.cursor = connection.connection.cursor()
            context.cursor.execute(statement, parameters)
        return True

    event.listen(engine, "do_connect", connect)
    event.listen(engine, "checkout", checkout)
    event.listen(engine, "do_execute", execute)
    event.listen(engine, "checkin", lambda connection, _r: deadlines.disarm(connection))
    event.listen(engine, "invalidate", lambda connection, *_: deadlines.disarm(connection))


def for_reads(engine: Engine) -> Engine:
    """A safe method's engine: PostgreSQL's runs lone SELECTs without BEGIN (bound_waits);
    SQLite's driver does so itself, opening a transaction only before a write."""
    autocommit = engine.dialect.name != "sqlite"
    return engine.execution_options(isolation_level="AUTOCOMMIT") if autocommit else engine


def quiet(fd: int) -> bool:
    """Nothing to read on an idle connection's socket: the server has not closed it."""
    (poller := select.poll()).register(fd, select.POLLIN)
    return not poller.poll(0)


def schema_missing(error: BaseException) -> bool:
    """A driver error saying a table or column is missing: the migrations have not run."""
    orig = getattr(error, "orig", error)
    return getattr(orig, "sqlstate", None) in UNDEFINED or str(orig).startswith("no such ")


def make_directory_for(url: URL) -> None:
    """A SQLite file's directory, made if missing (instance/ in development): SQLite makes
    the file but not the directory, and says only "unable to open database file"."""
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers work beside the writer; SQLite leaves foreign keys off unless asked."""
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
        dbapi_connection.execute(f"PRAGMA {pragma}")


def forget_pool_after_fork(engine: Engine) -> None:
    """A forked worker starts with an empty pool: a connection inherited from the master
    would interleave two processes' traffic on one server session."""
    ref = weakref.ref(engine)

    def reset() -> None:
        if (alive := ref()) is not None:
            alive.dispose(close=False)

    os.register_at_fork(after_in_child=reset)
