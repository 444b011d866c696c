"""Readiness knows the schema, against real gunicorn: /readyz is 503 until the database is at the
code's revision, says so (and logs it once), and passes once `make migrate` has run, with no
restart; a request meanwhile is a 503 naming the schema, not an unavailable database."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from {{ cookiecutter.package_name }}.revision import code_heads

from ..running import wait_until
from .support import fresh_postgres, require_postgres, service_url
from .test_faults import gunicorn
from .test_migrations import alembic_cli

pytestmark = pytest.mark.server  # real processes: `make test-fast` leaves them out


@pytest.fixture(params=["sqlite", "postgresql"])
def unmigrated_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind, never migrated."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    with fresh_postgres(service_url(require_postgres())) as url:
        yield url


def test_readiness_waits_for_the_migrations(tmp_path: Path, unmigrated_url: str) -> None:
    (head,) = code_heads()
    with gunicorn(tmp_path, unmigrated_url) as server:
        for _ in range(3):
            ready = requests.get(f"{server.url}/readyz", timeout=10)
            assert ready.status_code == 503
            assert ready.json()["checks"] == {
                "database": f"schema not migrated: database at none, code at {head}"
            }
        items = requests.get(f"{server.url}/api/items", timeout=10)
        assert items.status_code == 503
        assert items.json()["detail"] == "The database schema is not migrated."
        assert items.headers["Retry-After"]
        migrated = alembic_cli(unmigrated_url, "upgrade", "head")  # what `make migrate` runs
        assert migrated.returncode == 0, migrated.stderr
        deadline = time.monotonic() + 10
        while (ready := requests.get(f"{server.url}/readyz", timeout=10)).status_code != 200:
            assert time.monotonic() < deadline, ready.text
            time.sleep(0.2)
        assert ready.json() == {"status": "ready", "checks": {"database": "ok"}}
        # The other worker tries the database again within a readiness.TRIAL of its last 503.
        assert wait_until(lambda: requests.get(f"{server.url}/api/items", timeout=10).ok, 3)
    logs = "".join(server.logs())
    started = [line for line in logs.splitlines() if '"outage started"' in line]
    assert 1 <= len(started) <= 2, logs  # once per worker, not per probe or request
    assert all("schema not migrated" in line for line in started), started
    assert "Traceback" not in logs
