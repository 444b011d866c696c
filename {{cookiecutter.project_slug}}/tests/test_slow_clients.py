"""Slow and idle clients against gunicorn as production runs it (WEB_CONCURRENCY=2 x
GUNICORN_THREADS=4 = 8 request threads), one server for the module: each test waits until the
service has recovered before it ends.

Stock gthread hands every accepted connection to a thread that waits up to 5 s for the first
byte, so a few silent connections delay every request queued behind them. The service's worker
class (worker.py) parks a new connection in the poller until it sends something: silent
connections cost no thread, are closed after GUNICORN_KEEPALIVE, and /healthz keeps answering
within the container probe's deadline with 200 of them connected. Once a client has sent a byte,
though, its thread reads the rest with no timeout, so a client that dribbles its headers holds a
thread as long as it likes: WEB_CONCURRENCY x GUNICORN_THREADS of them stall the API until they
leave (GUNICORN_TIMEOUT never fires: the heartbeat comes from the worker's main loop, which stays
free), while the probes keep answering on the worker's probe threads. That limit is why
production wants a buffering proxy in front (the README says so).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from .clients import SlowClients, closed_after, tcp_listeners
from .running import production, wait_until
from .servers import Server

pytestmark = pytest.mark.server  # real processes: `make test-fast` leaves them out

WORKERS = 2  # WEB_CONCURRENCY, as production() starts it
THREADS = 4  # GUNICORN_THREADS default
KEEPALIVE = 5  # GUNICORN_KEEPALIVE default, seconds
TIMEOUT = 30  # GUNICORN_TIMEOUT default, seconds
HEALTH_DEADLINE = 3.0  # probe.py's timeout: what the container HEALTHCHECK waits for /healthz
# Concurrent /healthz probes: each lands on either worker, so a saturated one is rarely missed.
PROBES = 2 * THREADS
GET = b"GET /healthz HTTP/1.1\r\nHost: t\r\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir: Path = tmp_path_factory.mktemp("slow-clients")
    with production(workdir) as running:
        yield running


def port_of(server: Server) -> int:
    return int(urlsplit(server.url).port or 0)


def serving(url: str) -> bool:
    """Whether a request thread answers within 2 s: GET /test/work, not a probe (probes have
    threads of their own, so they answer while every request thread is held)."""
    try:
        return requests.get(f"{url}/test/work", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def probe_health(url: str, count: int) -> list[float | None]:
    """`count` concurrent GET /healthz on fresh connections; each one's latency, None if none."""

    def one(_: int) -> float | None:
        started = time.monotonic()
        try:
            response = requests.get(
                f"{url}/healthz",
                headers={"Connection": "close"},
                timeout=(HEALTH_DEADLINE, HEALTH_DEADLINE),
            )
        except requests.RequestException:
            return None
        return round(time.monotonic() - started, 3) if response.status_code == 200 else None

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def health_with(server: Server, count: int, *, dribble: bool) -> list[float | None]:
    """/healthz latencies once `count` slow clients are connected and accepted; the service
    must recover once they leave."""
    port = port_of(server)
    with SlowClients(port, count, dribble=dribble):
        accepted = wait_until(lambda: tcp_listeners(port).get("127.0.0.1") == 0, 10)
        assert accepted, "the workers did not accept the slow connections"
        latencies = probe_health(server.url, PROBES)
    assert wait_until(lambda: serving(server.url), TIMEOUT), "no recovery once the clients left"
    return latencies


@pytest.mark.parametrize(
    ("kind", "count"),
    [
        pytest.param("silent", 50, id="50-silent-connections"),
        pytest.param("silent", 200, id="200-silent-connections"),
        pytest.param("dribbling", THREADS - 1, id="3-dribbling-headers-fewer-than-threads"),
    ],
)
def test_slow_clients_leave_healthz_answering(server: Server, kind: str, count: int) -> None:
    """With slow clients connected, /healthz answers within the container probe's 3 s."""
    latencies = health_with(server, count, dribble=kind == "dribbling")
    assert all(x is not None and x < HEALTH_DEADLINE for x in latencies), (
        f"/healthz latencies with {count} {kind} clients: {latencies} "
        f"(None: no answer within {HEALTH_DEADLINE}s)"
    )


def test_dribblers_beyond_the_thread_count_leave_the_probes_answering(server: Server) -> None:
    """The documented limit: WEB_CONCURRENCY x GUNICORN_THREADS clients that dribble headers
    hold every request thread (gthread has no header-read timeout); health probes keep
    answering on the worker's probe threads, so the kubelet restarts nothing, and the service
    recovers as soon as the clients go. A buffering proxy in front removes the limit."""
    latencies = health_with(server, 2 * WORKERS * THREADS, dribble=True)
    assert all(x is not None and x < HEALTH_DEADLINE for x in latencies), (
        f"a probe waited behind the dribblers (worker.py's probe threads): {latencies}"
    )


def test_idle_connections_are_closed_by_the_server(server: Server) -> None:
    """A kept-alive connection closes after GUNICORN_KEEPALIVE; a silent one within the timeout."""
    port = port_of(server)
    with ThreadPoolExecutor(2) as pool:
        silent = pool.submit(closed_after, port, b"", TIMEOUT)
        kept = pool.submit(closed_after, port, GET + b"\r\n", TIMEOUT)
        silent_s, kept_s = silent.result(), kept.result()
    assert kept_s is not None, f"a kept-alive connection stayed open past {TIMEOUT}s"
    assert KEEPALIVE - 1 <= kept_s <= KEEPALIVE + 5, f"closed after {kept_s}s"
    assert silent_s is not None, f"a connection that sent nothing stayed open past {TIMEOUT}s"
