"""The production server with three routes of the tests' own, and client threads that load it: for
the tests of what the running service promises (tests/test_raw_http.py, test_graceful_stop.py,
test_slow_clients.py, test_worker_faults.py, test_overload_gunicorn.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

from .servers import SECRET, Server, copy_project, free_port, serve

PROD = {"APP_ENV": "production", "SECRET_KEY": SECRET, "WEB_CONCURRENCY": "2"}
# A JSON write that reads its body as every resource does, a view that waits 50 ms (a unit of
# work of known length), and a view that takes 2 s and logs when it starts, so a test knows the
# request is inside it instead of sleeping and hoping.
ROUTES = """
import logging
import time

from flask_openapi3 import APIBlueprint

from ..body import require_json_object
from ..shapes import Body

bp = APIBlueprint("exercise", __name__, url_prefix="/test")
bp.before_request(require_json_object)


class Thing(Body):
    name: str


@bp.post("/things")
def create_thing(body: Thing):
    return body.model_dump(), 201


@bp.get("/work")
def work():
    time.sleep(0.05)  # WORK_S in test_overload_gunicorn.py: a wait on a dependency, GIL released
    return {"work": "done"}


@bp.get("/slow")
def slow():
    logging.getLogger(__name__).info("slow request started")
    time.sleep(2)
    return {"slow": "done"}
"""
SLOW_STARTED = "slow request started"


@contextmanager
def production(workdir: Path, **env: str) -> Iterator[Server]:
    """gunicorn -c gunicorn.conf.py as production runs it, with the routes above."""
    (copy_project(workdir) / "routes" / "exercise.py").write_text(ROUTES)
    args = ["-m", "gunicorn", "-c", "gunicorn.conf.py"]
    with serve(workdir, args, {**PROD, **env}, free_port()) as server:
        yield server


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll `condition` until it holds or `timeout` seconds pass; whether it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


@dataclass
class Failure:
    """A request that did not get its answer: "status", "refused", "reset" or "timeout"."""

    started: float
    kind: str
    detail: str


@dataclass
class Load:
    """Client threads alternating GET /healthz and POST /test/things until stopped; counts the
    requests and keeps every failure."""

    url: str
    clients: int = 2
    failures: list[Failure] = field(default_factory=list, init=False)
    counts: list[int] = field(default_factory=list, init=False)
    _stop: threading.Event = field(default_factory=threading.Event, init=False, repr=False)
    _threads: list[threading.Thread] = field(default_factory=list, init=False, repr=False)

    def __enter__(self) -> Load:
        self.counts = [0] * self.clients
        self._threads = [
            threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(self.clients)
        ]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def total(self) -> int:
        """Requests made so far, answered or not."""
        return sum(self.counts)

    def stop(self) -> None:
        """Stop the clients and wait for their last request (bounded by its timeout)."""
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def _run(self, number: int) -> None:
        with requests.Session() as session:
            while not self._stop.is_set():
                started = time.monotonic()
                if (problem := self._one(session, self.counts[number] % 2 == 0)) is not None:
                    self.failures.append(Failure(started, *problem))
                    if problem[0] == "refused":
                        self._stop.wait(0.05)  # nothing listens: do not spin
                self.counts[number] += 1

    def _one(self, session: requests.Session, health: bool) -> tuple[str, str] | None:
        """One request; None when it got its answer, else (kind, detail)."""
        try:
            if health:
                response = session.get(f"{self.url}/healthz", timeout=10)
            else:
                response = session.post(f"{self.url}/test/things", json={"name": "w"}, timeout=10)
        except requests.Timeout as exc:
            return "timeout", repr(exc)[:300]
        except requests.ConnectionError as exc:
            return ("refused" if "refused" in repr(exc).lower() else "reset"), repr(exc)[:300]
        except requests.RequestException as exc:  # a response cut short
            return "reset", repr(exc)[:300]
        if response.status_code == (200 if health else 201):
            return None
        return "status", f"{response.status_code} {response.text[:200]}"
