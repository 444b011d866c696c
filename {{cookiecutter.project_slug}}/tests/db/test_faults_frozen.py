"""A database that stops answering with its connections open (a paused server, a stalled host, a
black-holed route), against real gunicorn: each request that needs it is a 503 within
DATABASE_TIMEOUT, the probes answer while every request thread waits on it, the outage is logged
once when it starts and once when it ends, and the service recovers without a restart."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from sqlalchemy import make_url

from ..running import wait_until
from ..servers import Server
from .proxy import Relay
from .test_faults import gunicorn

pytestmark = pytest.mark.server  # real processes: `make test-fast` leaves them out

BOUND = 3  # DATABASE_TIMEOUT for these tests: seconds
THREADS = 2 * 4  # WEB_CONCURRENCY x GUNICORN_THREADS


@contextmanager
def relayed(postgres_url: str) -> Iterator[tuple[Relay, str]]:
    """A relay in front of the server, and the URL through it."""
    target = make_url(postgres_url)
    relay = Relay((target.host or "127.0.0.1", target.port or 5432))
    relay.restore()
    try:
        yield relay, target.set(host="127.0.0.1", port=relay.port).render_as_string(False)
    finally:
        relay.thaw()
        relay.cut()


def timed(call: Callable[[], requests.Response]) -> tuple[int, float]:
    """A request's status and how long it took."""
    started = time.monotonic()
    return call().status_code, time.monotonic() - started


def test_a_frozen_database_is_a_bounded_503_and_the_probes_still_answer(
    tmp_path: Path, postgres_url: str, record_property: Callable[[str, object], None]
) -> None:
    with relayed(postgres_url) as (relay, through), gunicorn(tmp_path, through, BOUND) as server:
        for _ in range(THREADS):  # every worker's pool holds open connections
            assert requests.post(f"{server.url}/probe", timeout=10).ok
        assert requests.get(f"{server.url}/readyz", timeout=10).status_code == 200
        relay.freeze()
        with ThreadPoolExecutor(2 * THREADS) as clients:  # more than every request thread
            writes = [
                clients.submit(timed, lambda: requests.post(f"{server.url}/probe", timeout=60))
                for _ in range(2 * THREADS)
            ]
            time.sleep(0.5)  # every request thread is now waiting on the database
            live = timed(lambda: requests.get(f"{server.url}/healthz", timeout=10))
            ready = timed(lambda: requests.get(f"{server.url}/readyz", timeout=10))
            outcomes = [write.result() for write in writes]
        assert live == (200, live[1]), live
        assert live[1] < 2, live
        assert ready == (503, ready[1]), ready
        assert ready[1] < 2, ready
        assert {status for status, _ in outcomes} == {503}
        # The first wave, one request per thread, waits BOUND; the others queued for a thread,
        # then met a known outage and were answered at once, but for one a readiness.TRIAL per
        # worker, which tried the database again (and waited BOUND in its turn).
        took = sorted(seconds for _, seconds in outcomes)
        assert took[THREADS - 1] < BOUND + 1, outcomes
        assert took[-5] < BOUND + 1, outcomes
        record_property("frozen: first wave's slowest 503 (s)", f"{took[THREADS - 1]:.2f}")
        record_property("frozen: slowest 503, queued (s)", f"{took[-1]:.2f}")
        record_property("frozen: /readyz (s)", f"{ready[1]:.2f}")
        # A create with an Idempotency-Key records its key first: that, too, meets the known
        # outage at once, but for a readiness.TRIAL per worker.
        with ThreadPoolExecutor(4) as clients:
            keyed = list(clients.map(lambda n: timed(lambda: keyed_create(server, n)), range(4)))
        assert {status for status, _ in keyed} == {503}, keyed
        assert sorted(seconds for _, seconds in keyed)[1] < 1, keyed
        relay.thaw()
        assert_recovers(server)
    logs = "".join(server.logs())
    # Once per worker that saw it (the requests queued behind the frozen ones may also be shed
    # as overload, logged as the outage of "capacity").
    started = logs.count('"outage started", "check": "database"')
    assert 1 <= started <= 2, logs
    assert logs.count('"outage ended"') >= 1, logs
    assert "Traceback" not in logs


def keyed_create(server: Server, number: int) -> requests.Response:
    headers = {"Idempotency-Key": f"frozen-{number}"}
    return requests.post(f"{server.url}/api/items", json={"name": "k"}, headers=headers, timeout=60)


def assert_recovers(server: Server) -> None:
    """Ready again, and serving, within a few seconds, with no restart."""
    deadline = time.monotonic() + 15
    while requests.get(f"{server.url}/readyz", timeout=10).status_code != 200:
        assert time.monotonic() < deadline, "readiness never came back"
        time.sleep(0.2)
    # A worker whose /readyz did not run tries the database again within a readiness.TRIAL.
    assert wait_until(lambda: requests.post(f"{server.url}/probe", timeout=10).ok, 3)
    for _ in range(THREADS):  # each worker, each pooled connection: all replaced
        assert wait_until(lambda: requests.post(f"{server.url}/probe", timeout=10).ok, 3)
    assert server.process.poll() is None
