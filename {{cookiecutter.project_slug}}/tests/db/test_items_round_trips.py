"""Round trips to PostgreSQL per item request, counted on the wire (libpq's trace of what the
client sends): each simple query (`BEGIN`, `COMMIT`, a pool's ping) or extended-protocol
statement ending in a Sync waits for the server once. A change that adds one fails here. And
what keeps them few safe: a read whose pooled connection turns out dropped is retried once, a
write is not."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, text
from sqlalchemy.pool import NullPool
from werkzeug.test import TestResponse

from {{ cookiecutter.package_name }}.app import create_app

from .support import MERGE, create, terminate

# What each request costs on a pooled connection: no pre-ping (engine.bound_waits pings only
# a connection whose socket has something to say); a read is its SELECT alone, outside a
# transaction (engine.for_reads); a write is BEGIN, one statement (INSERT ... RETURNING, or
# UPDATE/DELETE ... WHERE the If-Match holds ... RETURNING), COMMIT.
BUDGET = {
    "GET /api/items/<id>": 1,
    "GET /api/items": 1,
    "POST /api/items": 3,
    "PATCH /api/items/<id>": 3,
    "DELETE /api/items/<id>": 3,
}


class Wire:
    """libpq's trace of every pooled connection, read back a request at a time."""

    def __init__(self, app: Flask, path: Path) -> None:
        self.file = path.open("w+")
        self.engine = app.extensions["db"].kw["bind"]
        event.listen(self.engine, "connect", self.trace)

    def close(self) -> None:
        """Close the traced connections, then the trace."""
        self.engine.dispose()
        self.file.close()

    def trace(self, dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.pgconn.trace(self.file.fileno())
        dbapi_connection.pgconn.set_trace_flags(0)

    def sent(self, call: Callable[[], TestResponse]) -> tuple[int, list[str]]:
        """The response's status, and what the client sent that waited for an answer."""
        start = self.file.seek(0, 2)
        status = call().status_code
        self.file.seek(start)
        lines = [line.split("\t") for line in self.file.read().splitlines()]
        sent = [fields[3:] for fields in lines if len(fields) > 3 and fields[1] == "F"]
        # A round trip ends in a Query (simple protocol) or a Sync (extended: Parse..Sync).
        trips, statement = [], ""
        for kind, *rest in sent:
            if kind == "Parse":
                statement = " ".join(rest).strip()
            elif kind in ("Query", "Sync"):
                trips.append(" ".join(rest).strip() if kind == "Query" else statement)
        return status, trips


@pytest.fixture
def wired(postgres_url: str, tmp_path: Path) -> Iterator[tuple[FlaskClient, Wire]]:
    """A client of an app on a pooled, migrated PostgreSQL database (as gunicorn's workers
    run it), its connections traced."""
    app = create_app({"APP_ENV": "development", "DATABASE_URL": postgres_url})
    wire = Wire(app, tmp_path / "wire.trace")
    yield app.test_client(), wire
    wire.close()


def test_each_item_request_stays_within_its_round_trips(wired: tuple[FlaskClient, Wire]) -> None:
    client, wire = wired
    first, second = create(client, "first"), create(client, "second")
    patch = {"json": {"quantity": 5}, "content_type": MERGE}
    requests: dict[str, Callable[[], TestResponse]] = {
        "GET /api/items/<id>": lambda: client.get(f"/api/items/{first['id']}"),
        "GET /api/items": lambda: client.get("/api/items"),
        "POST /api/items": lambda: client.post("/api/items", json={"name": "third"}),
        "PATCH /api/items/<id>": lambda: client.patch(f"/api/items/{first['id']}", **patch),
        "DELETE /api/items/<id>": lambda: client.delete(f"/api/items/{second['id']}"),
    }
    counted = {}
    for name, call in requests.items():
        status, trips = wire.sent(call)
        assert status < 300, name
        assert trips, f"{name}: nothing traced"
        counted[name] = trips
    print({name: len(trips) for name, trips in counted.items()})  # shown with -s
    over = {name: trips for name, trips in counted.items() if len(trips) > BUDGET[name]}
    assert not over, "\n".join(f"{name}: {len(t)} {t}" for name, t in over.items())


def test_a_read_dropped_after_checkout_is_retried_once_and_a_write_is_not(
    postgres_url: str,
) -> None:
    app = create_app({"APP_ENV": "development", "DATABASE_URL": postgres_url})
    client = app.test_client()
    item = create(client, "kept")
    dropped: list[int] = []
    sabotage: list[bool] = []

    def drop(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        """After the pool's look at the socket: the server ends the session now."""
        if sabotage and sabotage.pop():
            dropped.append(dbapi_connection.info.backend_pid)
            terminate(postgres_url, dropped[-1])

    event.listen(app.extensions["db"].kw["bind"], "checkout", drop)
    sabotage.append(True)
    read = client.get(f"/api/items/{item['id']}")
    assert (read.status_code, read.json) == (200, item)  # retried on a new connection
    assert len(dropped) == 1
    sabotage.append(True)
    write = client.post("/api/items", json={"name": "lost"})
    assert write.status_code == 503  # not retried: the client decides (Idempotency-Key)
    assert write.headers["Retry-After"] == "5"
    assert len(dropped) == 2
    with create_engine(postgres_url, poolclass=NullPool).connect() as check:
        assert check.scalar(text("SELECT count(*) FROM items")) == 1
