"""Sustained load on the baked service under real gunicorn, as production starts it (`python -m
gunicorn -c gunicorn.conf.py`, APP_ENV=production, two gthread workers, the migrated SQLite file
as its database): no failed request, and the workers' memory within a bound after warm-up.

This is the one runtime promise kept here rather than in a bake's own suite: it saturates both
CPUs of a small machine for HARDENING_LOAD_SECONDS (20 s) after a 3 s warm-up, and a shorter run
would not tell a slow leak from noise. In a bake's `make test`, which runs its tests side by
side and must stay near a minute on two cores, it would add that much and starve the tests that
hold the service to deadlines. Every other promise of the running service lives in the bake's
suite, where an owner who changes the code keeps it: slow and idle clients
(tests/test_slow_clients.py), `kill -9` of a worker and SIGHUP under load
(tests/test_worker_faults.py), the dev server's bind address (tests/test_main.py), malformed HTTP
over raw sockets (tests/test_raw_http.py), SIGTERM under load (tests/test_graceful_stop.py) and
a missing or placeholder SECRET_KEY (tests/test_wsgi.py, test_settings.py).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.servers import free_port

from .hardening_support import Gunicorn, Load, gunicorn, migrate, production_env
from .helpers import bake

pytestmark = pytest.mark.hardening

LOAD_SECONDS = float(os.environ.get("HARDENING_LOAD_SECONDS", "20"))
WARMUP_SECONDS = 3.0
RSS_GROWTH_MIB = 10  # allowed growth after warm-up: 10 MiB or 20 %, whichever is larger


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gunicorn]:
    """gunicorn from one bake of the defaults, its database migrated."""
    project: Path = bake(tmp_path_factory.mktemp("hardening"))
    migrate(project)
    with gunicorn(project, production_env(project, free_port()), "load") as running:
        yield running


def test_sustained_load_without_errors_or_memory_growth(
    server: Gunicorn, record_property: pytest.RecordProperty
) -> None:
    """Client threads for HARDENING_LOAD_SECONDS: no failed request, RSS within the bound."""
    workers_before = server.workers()
    with Load(server.url, clients=4) as load:
        time.sleep(WARMUP_SECONDS)  # a timed phase of the load, not a wait for a condition
        rss_start, done_start, started = server.rss_kib(), load.total, time.monotonic()
        time.sleep(LOAD_SECONDS)
        rss_end, done_end, elapsed = server.rss_kib(), load.total, time.monotonic() - started
    recycled = len(workers_before - server.workers())  # GUNICORN_MAX_REQUESTS (10000 +- 1000)
    record_property("load_requests", done_end - done_start)
    record_property("load_rps", round((done_end - done_start) / elapsed))
    record_property("rss_start_mib", round(rss_start / 1024, 1))
    record_property("rss_end_mib", round(rss_end / 1024, 1))
    record_property("workers_recycled", recycled)
    assert load.total > 0
    assert load.failures == [], f"{len(load.failures)} failed, first: {load.failures[:3]}"
    allowed = max(RSS_GROWTH_MIB * 1024, rss_start // 5)
    assert rss_end - rss_start <= allowed, f"RSS grew from {rss_start} KiB to {rss_end} KiB"
