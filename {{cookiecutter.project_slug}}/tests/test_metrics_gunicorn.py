"""Metrics under real gunicorn with two workers: exact counts while workers are recycled or
killed, a metrics directory that stays bounded, /metrics on its own port only, and an
exposition that promtool and the client library's parser accept."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from .servers import PROJECT, SECRET, Server, copy_project, free_port, serve

pytestmark = pytest.mark.server  # real processes: `make test-fast` leaves them out

RECYCLE_AFTER = 25  # requests per worker (no jitter): recycled many times per test


class Metered:
    """A running server, its metrics URL and its metrics directory."""

    def __init__(self, server: Server, metrics_port: int, directory: Path) -> None:
        self.server, self.directory = server, directory
        self.metrics = f"http://127.0.0.1:{metrics_port}/metrics"

    def scrape(self) -> str:
        """The exposition text."""
        response = requests.get(self.metrics, timeout=10)
        assert response.status_code == 200, "".join(self.server.logs())[-5000:]  # the traceback
        return response.text

    def counted(self, route: str = "/healthz") -> float:
        """http_requests_total summed over statuses for one route."""
        families = text_string_to_metric_families(self.scrape())
        family = next(f for f in families if f.name == "http_requests")
        return sum(
            s.value
            for s in family.samples
            if s.name == "http_requests_total" and s.labels["route"] == route
        )

    def hit(self, n: int, path: str = "/healthz") -> None:
        """n GETs from 8 threads at once, spread over the workers."""
        with ThreadPoolExecutor(8) as pool:
            answers = pool.map(lambda _: requests.get(self.server.url + path, timeout=10), range(n))
            statuses = [answer.status_code for answer in answers]
        assert statuses == [200] * n


@pytest.fixture(scope="module")
def metered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Metered]:
    """gunicorn as in production, recycling workers quickly, with metrics on a free port; one
    for the module (each test counts from what it found)."""
    tmp_path = tmp_path_factory.mktemp("metered")
    copy_project(tmp_path)
    port, directory = free_port(), tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_1.db").write_bytes(b"")  # an earlier master's leftovers
    env = {
        "APP_ENV": "production",
        "SECRET_KEY": SECRET,
        "WEB_CONCURRENCY": "2",
        "METRICS_PORT": str(port),
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
        "GUNICORN_MAX_REQUESTS": str(RECYCLE_AFTER),
        "GUNICORN_MAX_REQUESTS_JITTER": "0",
    }
    with serve(tmp_path, ["-m", "gunicorn", "-c", "gunicorn.conf.py"], env, free_port()) as server:
        yield Metered(server, port, directory)


def workers(server: Server) -> list[int]:
    """The master's child processes."""
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
    return [int(pid) for pid in children.read_text().split()]


def test_counts_stay_exact_while_workers_are_recycled(metered: Metered) -> None:
    assert not (metered.directory / "counter_1.db").exists()  # emptied at start
    before = metered.counted()  # the start-up probes
    metered.hit(400)
    assert metered.counted() == before + 400
    booted = "".join(metered.server.logs()).count("Booting worker")
    assert booted >= 10  # 2 at start, then one per RECYCLE_AFTER requests each served
    # Each live worker keeps a handful of files; the dead ones are folded into the archives.
    files = list(metered.directory.glob("*.db"))
    assert len(files) <= 2 * 4 + 4, sorted(f.name for f in files)


def test_a_killed_worker_loses_no_count(metered: Metered) -> None:
    before = metered.counted()
    metered.hit(10)
    victim = workers(metered.server)[0]
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while victim in workers(metered.server) or len(workers(metered.server)) < 2:
        assert time.monotonic() < deadline, "the master did not replace the worker"
        time.sleep(0.05)
    metered.hit(10)
    assert metered.counted() == before + 20


def test_metrics_are_served_on_their_port_only(metered: Metered) -> None:
    api = metered.server.url
    assert requests.get(f"{api}/metrics", timeout=5).status_code == 404
    other = metered.metrics.replace("/metrics", "/healthz")
    assert requests.get(other, timeout=5).status_code == 404
    forged = {"Host": api.removeprefix("http://")}  # the socket decides, not the Host header
    assert requests.get(metered.metrics, headers=forged, timeout=5).status_code == 200


def test_the_exposition_is_valid(metered: Metered) -> None:
    metered.hit(5)
    requests.get(f"{metered.server.url}/no/such/path", timeout=5)
    requests.get(f"{metered.server.url}/readyz", timeout=5)  # a database ping, if there is one
    text = metered.scrape()
    names = {family.name for family in text_string_to_metric_families(text)}
    expected = {"http_requests", "http_request_duration_seconds", "http_requests_in_progress"}
    assert expected | {"app_build_info"} <= names
    if (PROJECT / "alembic.ini").exists():
        assert "db_pool_connections_checked_out" in names
    assert 'route="<unmatched>"' in text
    promtool = shutil.which("promtool")
    if promtool is None:
        if os.environ.get("REQUIRE_PROMTOOL") == "1":
            pytest.fail("REQUIRE_PROMTOOL=1 but promtool is missing (apt-get install prometheus)")
        pytest.skip("install promtool (apt-get install prometheus) to lint the exposition")
    result = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
