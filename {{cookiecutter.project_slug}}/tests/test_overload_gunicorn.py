"""Beyond capacity under real gunicorn: offered twice the rate it can serve, the service answers
the excess at once with 503 + Retry-After instead of queueing it, the requests it accepts wait no
longer than GUNICORN_QUEUE_TIMEOUT_MS for a thread, and the first request after the burst is
served. The load is twice the most the server could ever serve (THREADS threads each asleep
WORK_S a request), not twice a rate measured here: on a busy machine a measurement lags the
server, and a burst at twice it may never overload anything. The timing bounds are ten times the
expected ones: they catch a queue without bound (a 2x burst of BURST_S seconds would make the
last requests wait about BURST_S), not jitter."""

from __future__ import annotations

import http.client
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from .running import production

pytestmark = pytest.mark.server  # real processes: `make test-fast` leaves them out

THREADS = 2  # one worker of 2 threads
WORK_S = 0.05  # /test/work's wait (running.py)
CEILING = THREADS / WORK_S  # requests a second: no machine serves more, a busy one fewer
LIMIT_S = 0.1  # GUNICORN_QUEUE_TIMEOUT_MS for this server
BURST_S = 4.0  # seconds of load at twice CEILING
BOUND_S = 10 * (LIMIT_S + WORK_S)  # no answer, 200 or 503, may take longer


@dataclass
class Answer:
    status: int  # 0: no answer (its error is in `error`)
    seconds: float
    headers: dict[str, str]
    error: str = ""


def call(port: int, path: str = "/test/work") -> Answer:
    """One GET on a new connection, timed from the moment it is sent."""
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return Answer(response.status, time.monotonic() - started, dict(response.headers))
    except OSError as exc:
        return Answer(0, time.monotonic() - started, {}, repr(exc))
    finally:
        connection.close()


def capacity(port: int, seconds: float = 1.5) -> float:
    """Requests a second the server completes with THREADS clients always waiting on it."""
    done, stop = [0] * THREADS, threading.Event()

    def client(number: int) -> None:
        while not stop.is_set():
            done[number] += call(port).status == 200

    threads = [threading.Thread(target=client, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    return sum(done) / seconds


def open_loop(port: int, rate: float, seconds: float) -> list[Answer]:
    """Send `rate` requests a second for `seconds`, each at its time whatever the answers do."""
    count = int(rate * seconds)
    # Enough threads that the clients never run out before the server's queue would: a pool
    # of a few dozen would itself bound the queue and hide one the server lets grow.
    with ThreadPoolExecutor(256) as pool:
        start, futures = time.monotonic(), []
        for n in range(count):
            time.sleep(max(0.0, start + n / rate - time.monotonic()))
            futures.append(pool.submit(call, port))
        return [future.result() for future in futures]


@dataclass
class Burst:
    rate: float  # the capacity measured first, requests a second (at most CEILING)
    answers: list[Answer]
    after: Answer
    logs: str


@pytest.fixture(scope="module")
def burst(tmp_path_factory: pytest.TempPathFactory) -> Burst:
    """Measure capacity, load twice the ceiling for BURST_S, then send one request."""
    workdir: Path = tmp_path_factory.mktemp("overload")
    env = {
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": str(THREADS),
        "GUNICORN_QUEUE_TIMEOUT_MS": str(int(LIMIT_S * 1000)),
    }
    with production(workdir, **env) as server:
        port = int(server.url.rpartition(":")[2])
        rate = capacity(port)
        answers = open_loop(port, 2 * CEILING, BURST_S)
        after = call(port)
        logs = "".join(server.logs())
    return Burst(rate, answers, after, logs)


def test_the_excess_gets_a_quick_503_with_retry_after(burst: Burst) -> None:
    answers = burst.answers
    shed = [a for a in answers if a.status == 503]
    assert len(shed) >= len(answers) / 10, f"{len(shed)} of {len(answers)} shed"
    assert {a.headers.get("Retry-After") for a in shed} == {"1"}
    assert {a.headers.get("Content-Type") for a in shed} == {"application/problem+json"}
    assert max(a.seconds for a in shed) < BOUND_S


def test_every_request_is_answered_and_the_accepted_ones_within_the_bound(burst: Burst) -> None:
    answers = burst.answers
    assert [a for a in answers if a.status not in (200, 503)] == []
    served = [a.seconds for a in answers if a.status == 200]
    assert len(served) >= burst.rate * BURST_S / 4, "it kept serving, near its capacity"
    assert max(served) < BOUND_S


def test_the_first_request_after_the_burst_is_served(burst: Burst) -> None:
    assert burst.after.status == 200
    assert burst.after.seconds < BOUND_S


def test_the_worker_logs_that_it_sheds(burst: Burst) -> None:
    assert '"check": "capacity"' in burst.logs
