"""Database faults against real gunicorn: an unreachable database is a quick 503, readiness
follows the database down and back up without a restart, and shutdown returns every connection."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, make_url, text

from ..running import wait_until
from ..servers import SECRET, Server, copy_project, free_port, serve
from .proxy import Relay

pytestmark = pytest.mark.server  # real processes: `make test-fast` leaves them out

PROD = {"APP_ENV": "production", "SECRET_KEY": SECRET, "WEB_CONCURRENCY": "2"}


@pytest.fixture
def silent_database() -> Iterator[str]:
    """A PostgreSQL URL whose server accepts connections and never answers."""
    with socket.create_server(("127.0.0.1", 0), backlog=64) as listener:
        yield f"postgresql://app:pw@127.0.0.1:{listener.getsockname()[1]}/app"


# A route of the test's own that needs the database: the example resource may be gone.
PROBE = """
from flask import Blueprint
from sqlalchemy import text

from .. import db

bp = Blueprint("probe", __name__)


@bp.post("/probe")
def probe() -> dict[str, int]:
    return {"one": db.session().scalar(text("SELECT 1"))}
"""


def gunicorn(tmp_path: Path, database_url: str, timeout: int = 5) -> AbstractContextManager[Server]:
    """The production server on `database_url`, with the probe route."""
    (copy_project(tmp_path) / "routes" / "probe.py").write_text(PROBE)
    env = {**PROD, "DATABASE_URL": database_url, "DATABASE_TIMEOUT": str(timeout)}
    return serve(tmp_path, ["-m", "gunicorn", "-c", "gunicorn.conf.py"], env, free_port())


def test_an_unreachable_database_is_a_quick_503(
    tmp_path: Path, silent_database: str, record_property: Callable[[str, object], None]
) -> None:
    with gunicorn(tmp_path, silent_database) as server:
        assert requests.get(f"{server.url}/healthz", timeout=5).status_code == 200
        started = time.monotonic()
        response = requests.post(f"{server.url}/probe", timeout=30)
        waited = time.monotonic() - started
        assert response.status_code == 503
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.headers["Retry-After"] == "5"
        assert "127.0.0.1" not in response.text
        assert requests.get(f"{server.url}/readyz", timeout=30).status_code == 503
        assert requests.get(f"{server.url}/healthz", timeout=5).status_code == 200
    record_property("503 after (s)", f"{waited:.2f}")
    assert waited < 10  # the 3 s connect timeout, not the client's 30 s


def test_readiness_follows_the_database_without_a_restart(
    tmp_path: Path, postgres_url: str
) -> None:
    target = make_url(postgres_url)
    relay = Relay((target.host or "127.0.0.1", target.port or 5432))
    relay.restore()
    through = target.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
    with gunicorn(tmp_path, through) as server:

        def ready() -> bool:
            return requests.get(f"{server.url}/readyz", timeout=10).status_code == 200

        assert wait_until(ready, 10)  # a first check's connection may take past its 1 s
        relay.cut()
        down = requests.get(f"{server.url}/readyz", timeout=10)
        assert down.status_code == 503
        assert down.json()["checks"] == {"database": "failing"}
        write = requests.post(f"{server.url}/probe", timeout=10)
        assert write.status_code == 503
        assert "Retry-After" in write.headers
        relay.restore()
        assert wait_until(ready, 10)
        # A worker that saw the outage sheds requests until its next readiness.TRIAL tries.
        assert wait_until(lambda: requests.post(f"{server.url}/probe", timeout=10).ok, 3)
    relay.cut()


def connections(url: str) -> int:
    """Sessions other than this one connected to the database."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            query = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            return int(connection.scalar(text(query + " AND pid <> pg_backend_pid()")) or 0)
    finally:
        engine.dispose()


def test_shutdown_returns_every_connection(tmp_path: Path, postgres_url: str) -> None:
    with gunicorn(tmp_path, postgres_url) as server:
        for _ in range(20):
            requests.post(f"{server.url}/probe", timeout=10)
        assert connections(postgres_url) >= 1
    assert server.process.returncode == 0
    assert connections(postgres_url) == 0
