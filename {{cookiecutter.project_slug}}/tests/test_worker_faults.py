"""A worker killed and workers reloaded under load, on gunicorn as production runs it (two
workers): the master replaces what died, and only the requests a dead worker held can fail.
Each test kills or signals workers, so each has a server of its own."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from .running import Load, production, wait_until
from .servers import Server

pytestmark = pytest.mark.server  # real processes: `make test-fast` leaves them out

WORKERS = 2  # WEB_CONCURRENCY, as production() starts it
CLIENTS = 4  # load clients: requests in flight when a worker dies


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    # Without capacity shedding (overload.py): these tests count the requests a worker's death
    # or a reload fails, and a loaded machine's queue waits would add 503s of another cause.
    with production(tmp_path, GUNICORN_QUEUE_TIMEOUT_MS="0") as running:
        assert wait_until(lambda: len(workers(running)) == WORKERS, 30), running.logs()
        yield running


def workers(server: Server) -> set[int]:
    """The master's child processes (Linux: /proc)."""
    pid = server.process.pid
    return {int(n) for n in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


def replaced(server: Server, gone: set[int]) -> bool:
    """Whether the master runs WORKERS workers again, none of them in `gone`."""
    now = workers(server)
    return not now & gone and len(now) == WORKERS


def test_killed_worker_is_replaced_and_requests_succeed_after(server: Server) -> None:
    """kill -9 of a worker under load: a new worker appears; only requests in flight fail."""
    before = workers(server)
    victim = min(before)
    with Load(server.url, clients=CLIENTS) as load:
        assert wait_until(lambda: load.total > 200, 30), "the load did not get going"
        os.kill(victim, signal.SIGKILL)
        assert wait_until(lambda: replaced(server, {victim}), 30), server.logs()
        recovered = time.monotonic()
        done = load.total
        assert wait_until(lambda: load.total > done + 200, 30), "no progress after the kill"
    window = [f for f in load.failures if f.started <= recovered]
    assert len(workers(server) - before) == 1, "the master started one new worker"
    assert [f for f in load.failures if f.started > recovered] == [], "a failure after recovery"
    assert len(window) <= load.clients, f"more failures than requests in flight: {window}"
    assert all(f.kind == "reset" for f in window), window
    assert requests.get(f"{server.url}/healthz", timeout=5).status_code == 200


def test_sighup_reloads_workers_without_a_failed_request(server: Server) -> None:
    """SIGHUP under load: every worker is replaced and no request fails."""
    before = workers(server)
    with Load(server.url, clients=CLIENTS) as load:
        assert wait_until(lambda: load.total > 200, 30), "the load did not get going"
        os.kill(server.process.pid, signal.SIGHUP)
        assert wait_until(lambda: replaced(server, before), 30), server.logs()
        done = load.total
        assert wait_until(lambda: load.total > done + 200, 30), "no progress after the reload"
    assert load.failures == [], f"{len(load.failures)} failed: {load.failures[:3]}"
