"""SIGTERM under load, as a container runtime stops the service: every request already inside a
view completes, no request sent before the signal fails, no new connection is accepted only to
be reset, and the master exits 0 within GUNICORN_GRACEFUL_TIMEOUT."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from .running import SLOW_STARTED, Failure, Load, production, wait_until

pytestmark = pytest.mark.server  # real processes: `make test-fast` leaves them out

THREADS = 4  # GUNICORN_THREADS default: slow requests enough to fill a worker
GRACEFUL_TIMEOUT = 20  # GUNICORN_GRACEFUL_TIMEOUT default, seconds


@dataclass
class Drain:
    """What a SIGTERM under load did: the slow requests' answers, load failures, the exit."""

    slow: list[object]
    failures: list[Failure]
    signalled: float
    returncode: int | None
    exit_s: float


def slow_request(url: str) -> object:
    """GET /test/slow: (status, body), or the exception's repr."""
    try:
        response = requests.get(f"{url}/test/slow", timeout=GRACEFUL_TIMEOUT + 10)
    except requests.RequestException as exc:
        return repr(exc)
    return response.status_code, response.json()


@pytest.fixture(scope="module")
def drain(tmp_path_factory: pytest.TempPathFactory) -> Drain:
    """SIGTERM the master with THREADS slow requests inside views and two load clients."""
    workdir: Path = tmp_path_factory.mktemp("drain")
    with (
        production(workdir) as server,
        Load(server.url) as load,
        ThreadPoolExecutor(THREADS) as pool,
    ):
        assert wait_until(lambda: load.total > 50, 30), "the load did not get going"
        futures = [pool.submit(slow_request, server.url) for _ in range(THREADS)]
        in_views = lambda: server.logs()[0].count(SLOW_STARTED) == THREADS  # noqa: E731
        assert wait_until(in_views, 30), server.logs()
        signalled = time.monotonic()
        os.kill(server.process.pid, signal.SIGTERM)
        try:
            returncode: int | None = server.process.wait(GRACEFUL_TIMEOUT + 10)
        except subprocess.TimeoutExpired:
            returncode = None
        exit_s = round(time.monotonic() - signalled, 2)
        slow = [future.result() for future in futures]
        load.stop()
    return Drain(slow, load.failures, signalled, returncode, exit_s)


def test_sigterm_completes_the_requests_in_flight_and_exits_0(drain: Drain) -> None:
    assert drain.slow == [(200, {"slow": "done"})] * THREADS
    assert drain.returncode == 0
    assert drain.exit_s < GRACEFUL_TIMEOUT
    early = [f for f in drain.failures if f.started < drain.signalled]
    assert early == [], "a request sent before the signal was not answered"
    assert [f for f in drain.failures if f.kind in ("status", "timeout")] == []


def test_sigterm_refuses_new_connections_instead_of_resetting_them(drain: Drain) -> None:
    """After SIGTERM a new connection is refused at once, not accepted, parked and reset."""
    resets = [f for f in drain.failures if f.kind == "reset"]
    assert resets == [], (
        f"{len(resets)} connections made after SIGTERM completed the handshake, sent their "
        f"request and were reset when the workers exited, e.g. {resets[:2]}"
    )
