"""Fixtures for the database tests: a migrated, empty database of each kind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .support import fresh_postgres, migrate, require_postgres, service_url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of each kind (PostgreSQL only where a server is given)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'app.sqlite3'}"
        migrate(url)
        yield url
        return
    yield request.getfixturevalue("postgres_url")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A migrated, empty PostgreSQL database (skipped, or failed under REQUIRE_POSTGRES=1,
    when no server is given)."""
    with fresh_postgres(service_url(require_postgres())) as url:
        migrate(url)
        yield url
