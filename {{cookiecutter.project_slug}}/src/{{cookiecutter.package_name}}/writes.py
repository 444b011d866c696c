"""Writes that are safe to race and to retry: a change is one statement, conditioned on If-Match
(the database's row lock serialises racing ones), and a POST sent with an Idempotency-Key is
carried out once, its first outcome replayed to every retry
(draft-ietf-httpapi-idempotency-key-header)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import Response, current_app, g, make_response, request
from sqlalchemy import ColumnElement, String, cast, delete, select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import BadRequest, Conflict, UnprocessableEntity

from . import db
from .context import SUBJECT
from .models import IdempotencyKey, as_utc, utcnow
from .schemas import IDEMPOTENCY_KEY

View = TypeVar("View", bound=Callable[..., Any])
HEADER = "Idempotency-Key"
# A first request that has not finished after this long is taken to have died with its
# worker: a retry may then carry the request out itself.
LEASE = timedelta(seconds=60)
PURGE_BATCH = 100  # expired keys deleted per new key: bounded work, found by the index
NOT_REPLAYED = frozenset({"content-length", "set-cookie", "date"})


def if_match(version: Any) -> list[ColumnElement[bool]]:
    """If-Match as a condition of the UPDATE or DELETE: the row's version is one of the strong
    ETags sent, compared as text (none for `*`, or without the header). The statement changes
    the row only if it holds, at the moment it changes it: no read, no lock in between."""
    if not (tags := request.if_match) or tags.star_tag:
        return []
    return [cast(version, String).in_(tags.as_set())]


def idempotent(view: View) -> View:
    """A POST view's decorator: with an Idempotency-Key, its outcome is stored in the same
    transaction as its writes and replayed to a retry with the same key and body; another
    body is 422, a retry while the first is in flight 409. Without the header, nothing changes."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        if (key := request.headers.get(HEADER)) is None:
            return make_response(view(*args, **kwargs))
        if not re.fullmatch(IDEMPOTENCY_KEY, key):
            raise BadRequest(f"{HEADER} must be 1 to 255 visible ASCII characters.")
        db.session()  # the claim's own session then keeps the request's bound and its 503s
        if (stored := claim(key, fingerprint())) is not None:
            return stored
        g.commit_deferred = True  # db.commit() flushes; the outcome commits with the writes
        try:
            response = make_response(view(*args, **kwargs))
            if response.status_code < 400:
                keep(key, response)
                db.session().commit()
                return response
        except BaseException:
            release(key)
            raise
        release(key)  # an error wrote nothing: a retry may try again
        return response

    return wrapper  # type: ignore[return-value]


def fingerprint() -> str:
    """What makes two requests the same one: who sent it (the token's subject), method, path
    and the body's bytes. A key another client used is 422, never its stored answer."""
    who = request.environ.get(SUBJECT) or ""
    digest = hashlib.sha256(f"{who}\n{request.method} {request.path}\n".encode())
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def claim(key: str, seen: str) -> Response | None:
    """Record the key as in flight (committed at once, so that a retry sees it), or answer
    from what it recorded before: the stored response, 409 or 422."""
    now = utcnow()
    with current_app.extensions["db"]() as claims, claims.begin():
        purge(claims, now)
        row = claims.get(IdempotencyKey, key, with_for_update=True)
        if row is not None and as_utc(row.expires_at) <= now:
            claims.delete(row)
            claims.flush()
            row = None
        if row is None:
            ttl = timedelta(seconds=current_app.config["IDEMPOTENCY_KEY_TTL"])
            claims.add(IdempotencyKey(key=key, fingerprint=seen, expires_at=now + ttl))
            try:
                claims.flush()
            except IntegrityError:  # another request inserted it first, and is in flight
                raise Conflict("A request with this Idempotency-Key is in progress.") from None
            return None
        if row.fingerprint != seen:
            raise UnprocessableEntity(f"This {HEADER} was used with another request.")
        if row.status is None:
            if as_utc(row.created_at) + LEASE > now:
                raise Conflict("A request with this Idempotency-Key is in progress.")
            row.created_at = now  # its first request died: this one carries it out
            return None
        return replay(row)


def purge(claims: Any, now: Any) -> None:
    """Delete a few expired keys, oldest first, through the index on expires_at; rows another
    transaction holds are skipped (PostgreSQL), so concurrent purges never wait on each other."""
    expired = (
        select(IdempotencyKey.key)
        .where(IdempotencyKey.expires_at < now)
        .order_by(IdempotencyKey.expires_at)
        .limit(PURGE_BATCH)
        .with_for_update(skip_locked=True)
    )
    claims.execute(delete(IdempotencyKey).where(IdempotencyKey.key.in_(expired)))


def keep(key: str, response: Response) -> None:
    """Store the outcome in the request's own transaction: it commits with the writes or not
    at all."""
    row = db.session().get(IdempotencyKey, key, populate_existing=True)
    if row is None:  # purged as expired while the request ran (a TTL shorter than the lease)
        raise Conflict(f"The {HEADER} expired while its request ran; retry with a new one.")
    row.status = response.status_code
    row.headers = [[k, v] for k, v in response.headers.items() if k.lower() not in NOT_REPLAYED]
    row.body = response.get_data()


def replay(row: IdempotencyKey) -> Response:
    """The first outcome again, marked as a replay."""
    response = Response(row.body, status=row.status, headers=[(k, v) for k, v in row.headers or []])
    response.headers["Idempotent-Replayed"] = "true"
    return response


def release(key: str) -> None:
    """Forget a key whose request wrote nothing, if it is still in flight."""
    g.commit_deferred = False
    db.session().rollback()  # first: on SQLite its write lock would keep the delete waiting
    with current_app.extensions["db"]() as claims, claims.begin():
        claims.execute(
            delete(IdempotencyKey).where(IdempotencyKey.key == key, IdempotencyKey.status.is_(None))
        )
