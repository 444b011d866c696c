"""The baked service under real gunicorn, as production starts it (`python -m gunicorn -c
gunicorn.conf.py`, APP_ENV=production, two gthread workers): slow and idle clients, sustained
load with its memory, worker faults and signals, and the security defaults that can be checked
from outside. What a bake's own suite already holds its service to is not repeated here:
malformed HTTP over raw sockets and bodies above MAX_CONTENT_LENGTH (the bake's
tests/test_raw_http.py), SIGTERM under load (tests/test_graceful_stop.py), and a missing or
placeholder SECRET_KEY stopping gunicorn with one line (tests/test_wsgi.py, test_settings.py).

Slow clients, what the defaults give (WEB_CONCURRENCY=2 x GUNICORN_THREADS=4 = 8 threads): stock
gthread hands every accepted connection to a thread that waits up to 5 s (its hard-coded
DEFAULT_WORKER_DATA_TIMEOUT) for the first byte, so each group of 4 silent connections queued in
a worker delays every request behind it (benchmarks/README.md has what that cost /healthz). The
service's worker class (worker.py) parks a new connection in the poller until it sends
something, as gthread does for kept-alive ones: silent connections cost no thread and are closed
after GUNICORN_KEEPALIVE (5 s), and /healthz keeps answering within the container probe's
deadline with 200 of them connected. Once a client has sent a byte, though, its thread reads the
rest with no timeout at all, so a client that dribbles its headers (or part of a body) holds a
thread as long as it likes: fewer than GUNICORN_THREADS such clients are harmless; from
GUNICORN_THREADS they can fill one worker, and WEB_CONCURRENCY x GUNICORN_THREADS stop the
service until they leave (GUNICORN_TIMEOUT never fires: a gthread worker's heartbeat comes from
its main loop, which stays free while every thread is stuck). That limit is why production wants
a buffering proxy in front (the service README says so). Keep-alive costs no thread: up to
worker_connections (1000) per worker wait in the poller for GUNICORN_KEEPALIVE seconds.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from .hardening_support import (
    Gunicorn,
    Load,
    SlowClients,
    gunicorn,
    healthy,
    migrate,
    production_env,
    service_env,
    stop_group,
    tcp_listeners,
    wait_until,
)
from .helpers import bake, free_port

pytestmark = pytest.mark.hardening
# Tests on the shared server run in order on one xdist worker; destructive ones on the other.
SHARED = pytest.mark.xdist_group("hardening-server")
FAULTS = pytest.mark.xdist_group("hardening-faults")

WORKERS = 2  # WEB_CONCURRENCY given to every server here
THREADS = 4  # GUNICORN_THREADS default
KEEPALIVE = 5  # GUNICORN_KEEPALIVE default, seconds
TIMEOUT = 30  # GUNICORN_TIMEOUT default, seconds
HEALTH_DEADLINE = 3.0  # probe.py's timeout: what the container HEALTHCHECK waits for /healthz
# Concurrent /healthz probes: each lands on either worker, so a saturated one is rarely missed.
PROBES = 2 * THREADS
GET = b"GET /healthz HTTP/1.1\r\nHost: t\r\n"
LOAD_SECONDS = float(os.environ.get("HARDENING_LOAD_SECONDS", "20"))
WARMUP_SECONDS = 3.0
RSS_GROWTH_MIB = 10  # allowed growth after warm-up: 10 MiB or 20 %, whichever is larger


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One bake of the defaults."""
    project = bake(tmp_path_factory.mktemp("hardening"))
    migrate(project)
    return project


@pytest.fixture(scope="module")
def server(project: Path) -> Iterator[Gunicorn]:
    """gunicorn shared by the non-destructive tests."""
    with gunicorn(project, production_env(project, free_port()), "shared") as running:
        yield running


@pytest.fixture
def fresh(project: Path) -> Iterator[Gunicorn]:
    """gunicorn of its own, for a test that kills or signals it."""
    with gunicorn(project, production_env(project, free_port()), "fresh") as running:
        yield running


def logged_errors(server: Gunicorn, offset: int) -> list[str]:
    """The ERROR records the service logged after `offset` (the exception names, for messages)."""
    found = []
    for line in server.stdout_since(offset).splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("level") in ("ERROR", "CRITICAL"):
            found.append(str(record.get("error") or record.get("message")))
    return found


def probe_health(url: str, count: int) -> list[float | None]:
    """`count` concurrent GET /healthz on fresh connections; each one's latency, None if none."""

    def one() -> float | None:
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
        return list(pool.map(lambda _: one(), range(count)))


@SHARED
@pytest.mark.parametrize(
    ("kind", "count"),
    [
        pytest.param("silent", 50, id="50-silent-connections"),
        pytest.param("silent", 200, id="200-silent-connections"),
        pytest.param("dribbling", THREADS - 1, id="3-dribbling-headers-fewer-than-threads"),
    ],
)
def test_slow_clients_leave_healthz_answering(
    server: Gunicorn, kind: str, count: int, record_property: pytest.RecordProperty
) -> None:
    """With slow clients connected, /healthz answers within the container probe's 3 s."""
    with SlowClients(server.port, count, dribble=kind == "dribbling"):
        accepted = wait_until(lambda: tcp_listeners(server.port).get("127.0.0.1") == 0, 10)
        assert accepted, "the workers did not accept the slow connections"
        latencies = probe_health(server.url, PROBES)
    answered = sum(x is not None and x < HEALTH_DEADLINE for x in latencies)
    record_property(f"health_ok_{count}_{kind}", f"{answered}/{PROBES}")
    assert wait_until(lambda: healthy(server.url), TIMEOUT), "no recovery once the clients left"
    assert all(x is not None and x < HEALTH_DEADLINE for x in latencies), (
        f"/healthz latencies with {count} {kind} clients: {latencies} "
        f"(None: no answer within {HEALTH_DEADLINE}s)"
    )


def closed_after(port: int, data: bytes, limit: float) -> float | None:
    """Send `data`, read whatever comes; seconds until the server closes, None past `limit`."""
    with socket.create_connection(("127.0.0.1", port), timeout=limit) as sock:
        started = time.monotonic()
        sock.sendall(data)
        while time.monotonic() - started < limit:
            try:
                if not sock.recv(65536):
                    return round(time.monotonic() - started, 2)
            except TimeoutError:
                return None
            except OSError:  # reset: closed too
                return round(time.monotonic() - started, 2)
    return None


@SHARED
def test_idle_connections_are_closed_by_the_server(
    server: Gunicorn, record_property: pytest.RecordProperty
) -> None:
    """A kept-alive connection closes after GUNICORN_KEEPALIVE; a silent one within the timeout."""
    with ThreadPoolExecutor(2) as pool:
        silent = pool.submit(closed_after, server.port, b"", TIMEOUT)
        kept = pool.submit(closed_after, server.port, GET + b"\r\n", TIMEOUT)
        silent_s, kept_s = silent.result(), kept.result()
    record_property("keepalive_closed_s", kept_s)
    record_property("silent_closed_s", silent_s)
    assert kept_s is not None, f"a kept-alive connection stayed open past {TIMEOUT}s"
    assert KEEPALIVE - 1 <= kept_s <= KEEPALIVE + 5
    assert silent_s is not None, f"a connection that sent nothing stayed open past {TIMEOUT}s"


@SHARED
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


@FAULTS
def test_killed_worker_is_replaced_and_requests_succeed_after(
    fresh: Gunicorn, record_property: pytest.RecordProperty
) -> None:
    """kill -9 of a worker under load: a new worker appears; only requests in flight fail."""
    before = fresh.workers()
    victim = min(before)
    with Load(fresh.url, clients=4) as load:
        assert wait_until(lambda: load.total > 200, 30), "the load did not get going"
        killed = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        assert wait_until(lambda: victim not in (w := fresh.workers()) and len(w) == 2, 30)
        replaced = time.monotonic()
        done = load.total
        assert wait_until(lambda: load.total > done + 200, 30), "no progress after the kill"
    window = [f for f in load.failures if f.started <= replaced]
    record_property("kill_replaced_s", round(replaced - killed, 3))
    record_property("kill_window_failures", len(window))
    assert len(fresh.workers() - before) == 1, "the master started one new worker"
    assert [f for f in load.failures if f.started > replaced] == [], "a failure after recovery"
    assert len(window) <= load.clients, f"more failures than requests in flight: {window}"
    assert all(f.kind == "reset" for f in window), window
    assert healthy(fresh.url)


@FAULTS
def test_sighup_reloads_workers_without_a_failed_request(
    fresh: Gunicorn, record_property: pytest.RecordProperty
) -> None:
    """SIGHUP under load: every worker is replaced and no request fails."""
    before = fresh.workers()
    with Load(fresh.url, clients=4) as load:
        assert wait_until(lambda: load.total > 200, 30), "the load did not get going"
        signalled = time.monotonic()
        os.kill(fresh.process.pid, signal.SIGHUP)
        assert wait_until(lambda: not fresh.workers() & before and len(fresh.workers()) == 2, 30)
        record_property("hup_reloaded_s", round(time.monotonic() - signalled, 3))
        done = load.total
        assert wait_until(lambda: load.total > done + 200, 30), "no progress after the reload"
    assert load.failures == [], f"{len(load.failures)} failed: {load.failures[:3]}"


@FAULTS
def test_dev_server_listens_on_loopback_only(project: Path) -> None:
    """`python -m <package>` with APP_ENV=development and no HOST binds 127.0.0.1 alone."""
    port = free_port()
    package = next(project.glob("src/*/routes")).parent.name
    env = service_env(project, APP_ENV="development", PORT=str(port))
    assert "HOST" not in env
    with (project / "dev.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", package],
            cwd=project,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        up = wait_until(lambda: process.poll() is not None or healthy(url), 60, 0.1)
        assert up, (project / "dev.log").read_text()
        assert process.poll() is None, (project / "dev.log").read_text()
        assert set(tcp_listeners(port)) == {"127.0.0.1"}
    finally:
        stop_group(process)


@SHARED
def test_dribblers_beyond_the_thread_count_stall_until_they_leave(
    server: Gunicorn, record_property: pytest.RecordProperty
) -> None:
    """The documented limit: WEB_CONCURRENCY x GUNICORN_THREADS clients that dribble headers
    hold every request thread (gthread has no header-read timeout); they stall the API, and the
    service recovers as soon as they go. Health probes keep answering on the worker's probe
    threads, so the kubelet restarts nothing. A buffering proxy in front removes the limit."""
    count = 2 * WORKERS * THREADS
    with SlowClients(server.port, count, dribble=True):
        accepted = wait_until(lambda: tcp_listeners(server.port).get("127.0.0.1") == 0, 10)
        assert accepted, "the workers did not accept the slow connections"
        latencies = probe_health(server.url, PROBES)
    answered = sum(x is not None and x < HEALTH_DEADLINE for x in latencies)
    record_property(f"health_ok_{count}_dribbling", f"{answered}/{PROBES}")
    assert answered == PROBES, "a probe waited behind the dribblers: worker.py's probe threads"
    assert wait_until(lambda: healthy(server.url), TIMEOUT), "no recovery once the clients left"
