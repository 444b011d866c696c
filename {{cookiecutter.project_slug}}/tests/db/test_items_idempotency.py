"""POST with an Idempotency-Key against real gunicorn (2 workers x 4 threads) on each database:
a retry replays the first outcome and creates nothing; another body is 422; a retry while the
first is in flight is 409; expired keys are forgotten, and purged a few at a time."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, delete, func, insert, select, text

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.context import SUBJECT
from {{ cookiecutter.package_name }}.models import IdempotencyKey, Item, utcnow

from ..servers import Server
from ..together import at_once
from .support import migrate
from .test_items_concurrency import all_items, gunicorn

pytestmark = pytest.mark.server  # real processes: `make test-fast` leaves them out

REPLAYED = ("Location", "ETag", "Content-Type")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, module_database_url: str) -> Iterator[Server]:
    """One gunicorn for the module's tests on each database: each asserts on its own items."""
    with gunicorn(tmp_path_factory.mktemp("gunicorn"), module_database_url) as server:
        yield server


def post(url: str, body: dict[str, Any], key: str) -> requests.Response:
    return requests.post(
        f"{url}/api/items", json=body, headers={"Idempotency-Key": key}, timeout=60
    )


def test_a_retry_replays_the_first_outcome(server: Server) -> None:
    before = all_items(server.url)  # the module's earlier tests' items
    first = post(server.url, {"name": "once"}, '"8e03978e-40d5-43e8-bc93-6894a57f9324"')
    again = [post(server.url, {"name": "once"}, '"8e03978e-40d5-43e8-bc93-6894a57f9324"')]
    again.append(post(server.url, {"name": "once"}, '"8e03978e-40d5-43e8-bc93-6894a57f9324"'))
    assert first.status_code == 201
    for retry in again:
        assert (retry.status_code, retry.content) == (201, first.content)
        assert [retry.headers[h] for h in REPLAYED] == [first.headers[h] for h in REPLAYED]
        assert retry.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert [item["name"] for item in all_items(server.url)] == [
        *(item["name"] for item in before),
        "once",
    ]

    other = post(server.url, {"name": "other"}, '"8e03978e-40d5-43e8-bc93-6894a57f9324"')
    assert other.status_code == 422
    assert other.headers["Content-Type"] == "application/problem+json"
    assert "Idempotency-Key" in other.json()["detail"]
    assert post(server.url, {"name": "x"}, "k" * 256).status_code == 400
    assert len(all_items(server.url)) == len(before) + 1


def test_a_failed_create_is_not_kept(server: Server) -> None:
    """An error wrote nothing, so the key is free: the same request may be tried again."""
    created = post(server.url, {"name": "taken"}, "k0")
    assert created.status_code == 201
    assert post(server.url, {"name": "taken"}, "k1").status_code == 409
    requests.delete(f"{server.url}{created.headers['Location']}", timeout=10)
    assert post(server.url, {"name": "taken"}, "k1").status_code == 201


def all_at_once(url: str, body: dict[str, Any], key: str, senders: int = 8) -> list[Any]:
    """The same POST from several threads, released together."""
    return at_once(lambda _: post(url, body, key), range(senders))


def test_concurrent_retries_create_once(server: Server) -> None:
    before = len(all_items(server.url))
    for round_ in range(5):
        answers = all_at_once(server.url, {"name": f"raced-{round_}"}, f"race-{round_}")
        statuses = Counter(answer.status_code for answer in answers)
        assert set(statuses) <= {201, 409}, statuses  # 409: the first was in flight
        assert statuses[201] >= 1, statuses
        assert len({a.content for a in answers if a.status_code == 201}) == 1
    assert len(all_items(server.url)) == before + 5


def test_a_retry_while_the_first_is_in_flight_is_409(tmp_path: Path, postgres_url: str) -> None:
    """The first request is held inside its write by a lock on the items table (for less than
    the statement timeout, which would end it with a 503)."""
    engine = create_engine(postgres_url)
    claimed = select(func.count()).where(IdempotencyKey.key == "held")
    try:
        with gunicorn(tmp_path, postgres_url) as server, engine.connect() as holder:
            holder.execute(text("LOCK TABLE items IN EXCLUSIVE MODE"))
            with ThreadPoolExecutor(max_workers=1) as pool:
                first = pool.submit(post, server.url, {"name": "held"}, "held")
                deadline = time.monotonic() + 3
                with engine.connect() as watcher:
                    while not watcher.scalar(claimed):  # until the first has claimed the key
                        assert time.monotonic() < deadline, "the first request never claimed it"
                        watcher.rollback()
                        time.sleep(0.02)
                retry = post(server.url, {"name": "held"}, "held")
                holder.rollback()  # the first request's write goes through
                assert first.result().status_code == 201, first.result().text
            assert retry.status_code == 409, retry.text
            assert retry.headers["Content-Type"] == "application/problem+json"
            replayed = post(server.url, {"name": "held"}, "held")
            assert (replayed.status_code, replayed.content) == (201, first.result().content)
            assert len(all_items(server.url)) == 1
    finally:
        engine.dispose()


def test_keys_expire_and_are_purged(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'keys.sqlite3'}"
    migrate(url)
    client = create_app({"APP_ENV": "development", "DATABASE_URL": url}).test_client()
    engine = create_engine(url)
    with engine.begin() as connection:  # keys a day past their expiry, and one in flight
        for n in range(150):
            connection.execute(
                insert(IdempotencyKey).values(
                    key=f"old-{n}",
                    fingerprint="x",
                    created_at=utcnow(),
                    expires_at=utcnow() - timedelta(days=1),
                )
            )
    answer = client.post("/api/items", json={"name": "a"}, headers={"Idempotency-Key": "old-7"})
    assert answer.status_code == 201  # an expired key is a new key, whatever it was sent with
    with engine.connect() as connection:
        left = connection.scalar(select(func.count()).select_from(IdempotencyKey))
        plan = " ".join(
            str(row[-1])
            for row in connection.execute(
                text("EXPLAIN QUERY PLAN SELECT key FROM idempotency_keys WHERE expires_at < 0")
            )
        )
    assert left == 150 - 100 + 1  # a bounded batch went, and the new key stayed
    assert "ix_idempotency_keys_expires_at" in plan
    engine.dispose()


def test_a_key_whose_first_request_died_is_taken_over(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'keys.sqlite3'}"
    migrate(url)
    app = create_app({"APP_ENV": "development", "DATABASE_URL": url})
    client = app.test_client()
    assert (
        client.post("/api/items", json={"name": "a"}, headers={"Idempotency-Key": "k"}).status_code
        == 201
    )
    with app.app_context():
        factory = app.extensions["db"]
        with factory() as session, session.begin():
            row = session.get(IdempotencyKey, "k")
            row.status, row.created_at = None, utcnow() - timedelta(minutes=5)  # a dead worker's
            session.execute(delete(Item))
    assert (
        client.post("/api/items", json={"name": "a"}, headers={"Idempotency-Key": "k"}).status_code
        == 201
    )
    with app.app_context(), app.extensions["db"]() as session:
        session.get(IdempotencyKey, "k").created_at = utcnow()
        session.get(IdempotencyKey, "k").status = None
        session.commit()
    in_flight = client.post("/api/items", json={"name": "a"}, headers={"Idempotency-Key": "k"})
    assert in_flight.status_code == 409


@pytest.mark.parametrize("ttl", ["1"])
def test_a_key_is_kept_for_its_ttl(tmp_path: Path, ttl: str) -> None:
    url = f"sqlite:///{tmp_path / 'keys.sqlite3'}"
    migrate(url)
    client = create_app(
        {"APP_ENV": "development", "DATABASE_URL": url, "IDEMPOTENCY_KEY_TTL": int(ttl)}
    ).test_client()
    assert (
        client.post("/api/items", json={"name": "a"}, headers={"Idempotency-Key": "t"}).status_code
        == 201
    )
    assert (
        client.post("/api/items", json={"name": "b"}, headers={"Idempotency-Key": "t"}).status_code
        == 422
    )
    time.sleep(1.1)
    assert (
        client.post("/api/items", json={"name": "b"}, headers={"Idempotency-Key": "t"}).status_code
        == 201
    )


def test_a_key_is_no_way_into_another_clients_answer(tmp_path: Path) -> None:
    """Keys are the clients' own: one subject's key, sent by another with the same body, is
    refused, so the first answer (its Location, its body) is replayed to its sender only."""
    url = f"sqlite:///{tmp_path / 'keys.sqlite3'}"
    migrate(url)
    client = create_app({"APP_ENV": "development", "DATABASE_URL": url}).test_client()

    def send(subject: str) -> Any:
        return client.post(
            "/api/items",
            json={"name": "mine"},
            headers={"Idempotency-Key": "shared"},
            environ_base={SUBJECT: subject},  # what auth.guard writes for a valid token
        )

    first = send("alice")
    assert first.status_code == 201
    assert send("alice").headers["Idempotent-Replayed"] == "true"
    stranger = send("mallory")
    assert stranger.status_code == 422
    assert first.headers["Location"] not in stranger.get_data(as_text=True)
