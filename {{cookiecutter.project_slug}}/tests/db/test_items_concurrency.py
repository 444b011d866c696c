"""Concurrent writers against real gunicorn (2 workers x 4 threads): no lost or locked writes,
one winner per ETag, and no database connection shared across the fork."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from ..servers import SECRET, Server, copy_project, free_port, serve
from ..together import at_once

pytestmark = pytest.mark.server  # real processes: `make test-fast` leaves them out

WRITES = 600
WHOAMI = '''"""Test-only: which worker and which database session answered."""

import os

from flask import Blueprint
from sqlalchemy import text

from .. import db

bp = Blueprint("whoami", __name__)


@bp.get("/whoami")
def whoami() -> dict[str, int]:
    backend = db.session().scalar(text("SELECT pg_backend_pid()"))
    return {"worker": os.getpid(), "backend": int(backend or 0)}
'''
# What a connection shared by two processes looks like from the driver's side.
BROKEN = ("server closed the connection", "SSL", "protocol", "lost synchronization", "locked")


@contextmanager
def gunicorn(tmp_path: Path, database_url: str) -> Iterator[Server]:
    """Production gunicorn, 2 workers x 4 threads, with the test-only /whoami route."""
    package_dir = copy_project(tmp_path)
    (package_dir / "routes" / "whoami.py").write_text(WHOAMI)
    env = {
        "APP_ENV": "production",
        "SECRET_KEY": SECRET,
        "DATABASE_URL": database_url,
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "4",
        # These tests are about what the database stores, not capacity: 16 writers on 8 threads
        # queue, and on a busy machine overload.py would shed some of them (a clean 503).
        "GUNICORN_QUEUE_TIMEOUT_MS": "0",
    }
    with serve(tmp_path, ["-m", "gunicorn", "-c", "gunicorn.conf.py"], env, free_port()) as server:
        yield server
    logs = "\n".join(server.logs())
    assert not [word for word in BROKEN if word in logs], logs[-3000:]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, module_database_url: str) -> Iterator[Server]:
    """One gunicorn for the module's tests on each database: each asserts on its own items."""
    with gunicorn(tmp_path_factory.mktemp("gunicorn"), module_database_url) as server:
        yield server


def all_items(url: str) -> list[dict[str, object]]:
    """Every item, following the cursor."""
    items, cursor = [], None
    while True:
        params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        page = requests.get(f"{url}/api/items", params=params, timeout=10).json()
        items += page["items"]
        if not (cursor := page["next_cursor"]):
            return items


def test_concurrent_writes_are_all_stored(server: Server) -> None:
    before = len(all_items(server.url))

    def write(n: int) -> int:
        with requests.Session() as http:
            body: dict[str, str | int] = {"name": f"item-{n}", "quantity": n % 100}
            return http.post(f"{server.url}/api/items", json=body, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = Counter(pool.map(write, range(WRITES)))
    assert statuses == {201: WRITES}
    items = all_items(server.url)
    assert len(items) == before + WRITES
    names = {item["name"] for item in items if str(item["name"]).startswith("item-")}
    assert names == {f"item-{n}" for n in range(WRITES)}


def test_of_two_writers_with_one_etag_exactly_one_wins(server: Server) -> None:
    for round_ in range(5):
        body = {"name": f"r{round_}"}
        created = requests.post(f"{server.url}/api/items", json=body, timeout=10)
        statuses = race(f"{server.url}{created.headers['Location']}", created.headers["ETag"])
        assert statuses == {200: 1, 412: 5}, statuses


def race(url: str, etag: str, writers: int = 6) -> Counter[int]:
    """PATCH `url` from several threads at once, all naming the same ETag (one is a no-op)."""

    def patch(quantity: int) -> int:
        body, headers = {"quantity": quantity}, {"If-Match": etag}
        return requests.patch(url, json=body, headers=headers, timeout=30).status_code

    return Counter(at_once(patch, range(writers)))


def test_workers_never_share_a_database_session(tmp_path: Path, postgres_url: str) -> None:
    with gunicorn(tmp_path, postgres_url) as server:

        def ask(_: int) -> tuple[int, int]:
            answer = requests.get(f"{server.url}/whoami", timeout=10).json()
            return answer["worker"], answer["backend"]

        with ThreadPoolExecutor(max_workers=16) as pool:
            pairs = set(pool.map(ask, range(400)))
        backends: dict[int, set[int]] = {}
        for worker, backend in pairs:
            backends.setdefault(worker, set()).add(backend)
        assert len(backends) == 2, backends
        first, second = backends.values()
        assert not first & second
        assert all(len(sessions) <= 4 + 2 for sessions in backends.values())  # pool + overflow


def test_a_sustained_load_breaks_no_connection(tmp_path: Path, postgres_url: str) -> None:
    seconds = float(os.environ.get("DB_LOAD_SECONDS", "30"))
    with gunicorn(tmp_path, postgres_url) as server:
        deadline = time.monotonic() + seconds

        def hammer(worker: int) -> Counter[int]:
            statuses: Counter[int] = Counter()
            with requests.Session() as http:
                n = 0
                while time.monotonic() < deadline:
                    n += 1
                    made = http.post(
                        f"{server.url}/api/items", json={"name": f"{worker}-{n}"}, timeout=30
                    )
                    statuses[made.status_code] += 1
                    statuses[
                        http.get(f"{server.url}{made.headers['Location']}", timeout=30).status_code
                    ] += 1
                    statuses[http.get(f"{server.url}/whoami", timeout=30).status_code] += 1
            return statuses

        with ThreadPoolExecutor(max_workers=8) as pool:
            total = sum(pool.map(hammer, range(8)), Counter())
        assert set(total) == {200, 201}, total
