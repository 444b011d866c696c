"""Helpers for tests/test_hardening.py (load and memory) and tests/test_pooler.py: gunicorn
started from a bake as production starts it, load-generating client threads, and figures read
from /proc."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import requests

from benchmarks.servers import free_port

# Variables the service reads: cleared from the inherited environment so the defaults apply.
SERVICE_VARIABLES = (
    "APP_ENV",
    "SECRET_KEY",
    "LOG_LEVEL",
    "MAX_CONTENT_LENGTH",
    "TRUSTED_PROXY_COUNT",
    "HOST",
    "PORT",
    "WEB_CONCURRENCY",
    "FORWARDED_ALLOW_IPS",
    "DATABASE_URL",
    "METRICS_PORT",
    "PROMETHEUS_MULTIPROC_DIR",
)


def service_env(project: Path, **overrides: str) -> dict[str, str]:
    """The environment production gives the service: this bake's src/ on the path, no leftovers."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in SERVICE_VARIABLES and not key.startswith(("GUNICORN_", "OTEL_"))
    }
    env.update(PYTHONPATH=str(project / "src"), PYTHONDONTWRITEBYTECODE="1")
    env.update(METRICS_PORT=str(free_port()))  # servers run side by side: a port each
    env.update(AUTH_DISABLED="1")  # the attacks here are on HTTP itself, not on tokens
    env.update(overrides)
    return env


def production_env(project: Path, port: int) -> dict[str, str]:
    """APP_ENV=production with a fresh 48-character secret, on 127.0.0.1 and two workers, with
    the bake's migrated SQLite file as its database."""
    return service_env(
        project,
        APP_ENV="production",
        SECRET_KEY=secrets.token_hex(24),
        HOST="127.0.0.1",
        PORT=str(port),
        WEB_CONCURRENCY="2",
        DATABASE_URL=database_url(project),
    )


def database_url(project: Path) -> str:
    """The SQLite file the bake's production servers share."""
    return f"sqlite:///{project / 'hardening.sqlite3'}"


def migrate(project: Path) -> None:
    """`alembic upgrade head` in the bake, as compose's migrate service does (no-op without one)."""
    if (project / "alembic.ini").is_file():
        env = service_env(project, APP_ENV="production", DATABASE_URL=database_url(project))
        alembic = Path(sys.executable).with_name("alembic")
        subprocess.run([str(alembic), "upgrade", "head"], cwd=project, env=env, check=True)


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll `condition` until it holds or `timeout` seconds pass; whether it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def healthy(url: str, timeout: float = 2) -> bool:
    """Whether GET /healthz answers 200 within `timeout` seconds."""
    try:
        return requests.get(f"{url}/healthz", timeout=timeout).status_code == 200
    except requests.RequestException:
        return False


@dataclass
class Gunicorn:
    """A gunicorn master started from a bake, with its logs on disk."""

    process: subprocess.Popen[bytes]
    port: int
    stdout: Path
    stderr: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def workers(self) -> set[int]:
        """The master's live child processes (its workers)."""
        return children(self.process.pid)

    def rss_kib(self) -> int:
        """VmRSS of the master plus its workers, in KiB."""
        return sum(rss_kib(pid) for pid in (self.process.pid, *self.workers()))

    def logs(self) -> str:
        """Everything written so far to stdout and stderr (for failure messages)."""
        out, err = self.stdout.read_text()[-4000:], self.stderr.read_text()[-4000:]
        return f"stdout:\n{out}\nstderr:\n{err}"


@contextmanager
def gunicorn(project: Path, env: dict[str, str], name: str = "gunicorn") -> Iterator[Gunicorn]:
    """`python -m gunicorn -c gunicorn.conf.py` in the bake; wait for /healthz; stop it after."""
    server = spawn(project, env, name)
    try:
        await_up(server)
        yield server
    finally:
        stop_group(server.process)


def spawn(project: Path, env: dict[str, str], name: str = "gunicorn") -> Gunicorn:
    """Start gunicorn in the bake without waiting for it (several start side by side)."""
    port = int(env["PORT"])
    out, err = project / f"{name}-{port}.out.log", project / f"{name}-{port}.err.log"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"],
            cwd=project,
            env=env,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
    return Gunicorn(process, port, out, err)


def await_up(server: Gunicorn, timeout: float = 60) -> None:
    """Wait until a spawned master answers /healthz with its two workers; fail with its logs."""
    process = server.process
    up = wait_until(lambda: process.poll() is not None or healthy(server.url), timeout, 0.1)
    assert up, f"gunicorn did not answer /healthz:\n{server.logs()}"
    assert process.poll() is None, f"gunicorn exited:\n{server.logs()}"
    assert wait_until(lambda: len(server.workers()) == 2, 30), server.logs()


def stop_group(process: subprocess.Popen[bytes], timeout: float = 30) -> int:
    """SIGTERM the process group, as a container runtime would; SIGKILL it if it lingers."""
    if process.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
    return process.returncode


def children(pid: int) -> set[int]:
    """Live processes whose parent is `pid` (from /proc/<n>/stat)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state, ppid, ...
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(entry.name))
    return found


def rss_kib(pid: int) -> int:
    """VmRSS of one process in KiB; 0 if it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    line = next((line for line in status.splitlines() if line.startswith("VmRSS:")), "")
    return int(line.split()[1]) if line else 0


@dataclass
class Failure:
    """A request that did not get the expected answer."""

    started: float
    ended: float
    kind: str  # "status", "refused", "reset", "timeout"
    detail: str


@dataclass
class Load:
    """Client threads, each with a requests.Session, alternating GET /healthz and POST /api/items
    until stopped (or `limit` seconds pass); counts the answers and keeps every failure."""

    url: str
    clients: int = 4
    limit: float = 300
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
        deadline = time.monotonic() + self.limit
        with requests.Session() as session:
            while not self._stop.is_set() and time.monotonic() < deadline:
                started = time.monotonic()
                problem = self._one(session, self.counts[number] % 2 == 0)
                if problem is not None:
                    self.failures.append(Failure(started, time.monotonic(), *problem))
                    if problem[0] == "refused":
                        self._stop.wait(0.05)  # nothing listens: do not spin
                self.counts[number] += 1

    def _one(self, session: requests.Session, health: bool) -> tuple[str, str] | None:
        """One request; None when it got the right answer, else (kind, detail)."""
        try:
            if health:
                response = session.get(f"{self.url}/healthz", timeout=10)
            else:
                item = {"name": f"widget-{uuid.uuid4().hex}", "quantity": 3}
                response = session.post(f"{self.url}/api/items", json=item, timeout=10)
        except requests.Timeout as exc:
            return "timeout", repr(exc)[:300]
        except requests.ConnectionError as exc:
            return ("refused" if "refused" in repr(exc).lower() else "reset"), repr(exc)[:300]
        except requests.RequestException as exc:  # a response cut short (ChunkedEncodingError)
            return "reset", repr(exc)[:300]
        try:
            body = response.json()
        except ValueError:
            body = None
        if health and response.status_code == 200 and body == {"status": "ok"}:
            return None
        created = str((body or {}).get("name", "")).startswith("widget")
        if not health and response.status_code == 201 and created:
            return None
        return "status", f"{response.status_code} {response.text[:200]}"
