"""The database: one engine per process, one session per request, committed when the view
succeeds and rolled back otherwise; an outage is a 503 within DATABASE_TIMEOUT (deadline.py),
at once while it is known (readiness.Outages), and is logged when it starts and when it ends."""

from __future__ import annotations

import logging
import weakref
from contextlib import suppress

from flask import Flask, Response, after_this_request, current_app, g, has_request_context, request
from prometheus_client import Gauge
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import (
    Conflict,
    HTTPException,
    InternalServerError,
    PreconditionFailed,
    ServiceUnavailable,
)

from . import deadline
from .engine import for_reads, make_engine, schema_missing
from .errors import handle_http_exception
from .models import Base
from .readiness import outages
from .settings import Settings

log = logging.getLogger(__name__)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RETRY_AFTER = 5  # seconds a client is asked to wait while the database is unreachable
UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)
CHECKED_OUT = Gauge(
    "db_pool_connections_checked_out",
    "Connections the workers' pools have lent out",
    multiprocess_mode="livesum",
)


def init_app(app: Flask, settings: Settings) -> None:
    """Create the engine and the session factory and hook the session into the request (the
    schema's readiness check is revision.py's); routes only call session() and commit()."""
    engine = make_engine(settings)
    event.listen(engine, "checkout", lambda *_: CHECKED_OUT.inc())
    event.listen(engine, "checkin", lambda *_: CHECKED_OUT.dec())
    app.extensions["db"] = sessionmaker(engine, expire_on_commit=False)
    app.extensions["db_reads"] = sessionmaker(for_reads(engine), expire_on_commit=False)
    # The engine's pooled connections go with the app: tests build apps by the hundred, and
    # Python 3.13 warns about every SQLite connection left to the garbage collector.
    weakref.finalize(app, engine.dispose).atexit = False
    if app.testing:
        Base.metadata.drop_all(engine)  # a clean schema per app; migrations are tested apart
        Base.metadata.create_all(engine)
    app.teardown_appcontext(close_session)
    app.register_error_handler(SQLAlchemyError, handle_database_error)


def session() -> Session:
    """The request's session, opened on first use: requests that need no database cost none."""
    if "db_session" not in g:
        if reason := outages(current_app).shedding("database"):  # 503 now, not after the bound
            raise unavailable(reason.startswith("schema"))
        # Safe methods (RFC 9110, 9.2.1) read without BEGIN (engine.for_reads), never commit.
        reads = has_request_context() and request.method in SAFE_METHODS
        g.db_session = current_app.extensions["db_reads" if reads else "db"]()
        deadline.begin()  # the request's DATABASE_TIMEOUT counts from here
        if has_request_context() and not reads:
            after_this_request(commit_session)
    return g.db_session  # type: ignore[no-any-return]


def commit() -> None:
    """Commit a view's writes before its response is built: SQLite lets one writer in at a
    time, from its first write to its commit (writes.idempotent commits them with the outcome).
    A versioned row changed since it was read is 412 only for a request with a precondition."""
    try:
        session().flush() if g.get("commit_deferred") else session().commit()
    except StaleDataError:
        if request.if_match or request.if_unmodified_since:
            raise PreconditionFailed("The item was changed by another request.") from None
        raise Conflict("The item was changed by another request; try again.") from None


def commit_session(response: Response) -> Response:
    """after_this_request: commit what a successful view left uncommitted (an error, nothing)."""
    opened: Session | None = g.get("db_session")
    if opened is None or response.status_code >= 400 or not opened.in_transaction():
        return response
    try:
        opened.commit()
    except SQLAlchemyError as error:
        opened.rollback()
        return handle_database_error(error)
    return response


def close_session(_error: BaseException | None = None) -> None:
    """teardown: return the connection to the pool; anything uncommitted is rolled back. A
    request that used the database without an outage error ends an outage in the log."""
    if (opened := g.pop("db_session", None)) is not None:
        with suppress(SQLAlchemyError):  # a deadline cut it after the view: the answer stands
            opened.close()
        deadline.end()
        if not g.pop("db_unavailable", False):
            outages(current_app).passing("database")


def conflict(error: IntegrityError) -> Conflict:
    """Which rule a write broke, in words that name no table, column or value: a unique value
    taken, a reference to nothing, or a row that others still refer to."""
    code, text = getattr(error.orig, "sqlstate", None), str(error.orig)  # PostgreSQL, SQLite
    if code == "23505" or "UNIQUE constraint failed" in text:
        return Conflict("A value the request sets is taken already.")
    if code == "23503" or "FOREIGN KEY constraint failed" in text:
        if (error.statement or "").lstrip().upper().startswith("DELETE"):
            return Conflict("Other records still refer to it.")
        return Conflict("It refers to a record that does not exist.")
    return Conflict("The request conflicts with the current state of the resource.")


def unavailable(missing: bool) -> ServiceUnavailable:  # a client retries after Retry-After
    what = "schema is not migrated" if missing else "is unavailable"
    return ServiceUnavailable(f"The database {what}.", retry_after=RETRY_AFTER)


def handle_database_error(error: SQLAlchemyError) -> Response:
    """409 for a broken constraint, 503 while the database is unreachable or not migrated, else
    a plain 500; never the driver's text."""
    http_error: HTTPException
    if isinstance(error, IntegrityError):
        http_error = conflict(error)
    elif (missing := schema_missing(error)) or isinstance(error, UNAVAILABLE):
        g.db_unavailable = True  # the error's class only: its text may hold the server's address
        reason = "schema not migrated" if missing else type(error).__name__
        outages(current_app).failing("database", reason)
        http_error = unavailable(bool(missing))
    else:
        log.error("database error", exc_info=error)
        http_error = InternalServerError()
    return handle_http_exception(http_error)
