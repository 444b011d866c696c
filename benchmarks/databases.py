"""The database rows' databases: SQLite files in the bake, and PostgreSQL on a server the user
names or a throw-away container; every one migrated to head as compose's `migrate` leaves it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from .bake import Bake
from .common import HOST, BenchError, say
from .servers import clean_env

IMAGE = os.environ.get("POSTGRES_IMAGE") or "postgres:17"
DATABASES = ("bench_service", "bench_bare", "bench_scale_small", "bench_scale_large")


def sqlite_urls(directory: Path) -> dict[str, str]:
    """SQLite files for the service's rows and the baseline's."""
    return {
        role: f"sqlite:///{directory / f'bench-{role}.sqlite3'}" for role in ("service", "bare")
    }


def migrate(bake: Bake, urls: Iterable[str]) -> None:
    """Every database at the bake's head revision, with the bake's own `alembic upgrade head`."""
    alembic = Path(sys.executable).with_name("alembic")
    for url in urls:
        env = clean_env(APP_ENV="production", DATABASE_URL=url, PYTHONPATH=str(bake.src))
        result = subprocess.run(
            [str(alembic), "upgrade", "head"],
            cwd=bake.path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise BenchError(f"alembic upgrade head: {result.stderr.strip()[-500:]}")


def docker(*argv: str, timeout: float = 120) -> str:
    """A docker command's stdout, or BenchError with its stderr."""
    result = subprocess.run(
        ["docker", *argv], capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise BenchError(f"docker {argv[0]}: {result.stderr.strip()[-300:]}")
    return result.stdout.strip()


@contextmanager
def container() -> Iterator[str]:
    """A PostgreSQL container with its data on tmpfs, published on loopback; its admin URL."""
    name = f"bench-postgres-{uuid.uuid4().hex[:8]}"
    say(f"starting PostgreSQL ({IMAGE}) for the database rows")
    docker(
        "run", "--detach", "--rm", "--name", name,
        "--env", "POSTGRES_USER=bench", "--env", "POSTGRES_PASSWORD=bench",
        "--env", "POSTGRES_DB=bench", "--env", "PGDATA=/var/lib/postgresql/tmpfs",
        "--tmpfs", "/var/lib/postgresql/tmpfs", "--publish", f"{HOST}::5432", IMAGE,
    )  # fmt: skip
    try:
        port = docker("port", name, "5432/tcp").splitlines()[0].rpartition(":")[2]
        yield f"postgresql://bench:bench@{HOST}:{port}/bench"
    finally:
        subprocess.run(["docker", "rm", "--force", name], capture_output=True, check=False)


def connect(admin_url: str, timeout: float = 60) -> psycopg.Connection:
    """An autocommit connection once the server takes TCP ones (the image initialises first)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return psycopg.connect(admin_url, autocommit=True, connect_timeout=3)
        except psycopg.OperationalError as exc:
            if time.monotonic() > deadline:
                raise BenchError(f"PostgreSQL did not accept a connection: {exc}") from None
            time.sleep(0.5)


def fresh_databases(admin_url: str) -> dict[str, str]:
    """Empty databases for the service and the baseline; their URLs by database name."""
    with connect(admin_url) as connection:
        for name in DATABASES:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            connection.execute(f"CREATE DATABASE {name}")
    base = admin_url.rpartition("/")[0]
    return {name: f"{base}/{name}" for name in DATABASES}


@contextmanager
def postgres(url: str | None, docker_on: bool) -> Iterator[dict[str, str] | None]:
    """The database URLs on BENCH_POSTGRES_URL's server, or on a container when Docker may
    be used and answers; None (no PostgreSQL rows) otherwise."""
    if url:
        yield fresh_databases(url)
        return
    if not docker_on:
        yield None
        return
    try:
        docker("info", timeout=30)
    except (BenchError, OSError, subprocess.TimeoutExpired) as exc:
        say(f"no PostgreSQL rows: no Docker engine answers ({str(exc)[:120]})")
        yield None
        return
    with container() as admin_url:
        yield fresh_databases(admin_url)
