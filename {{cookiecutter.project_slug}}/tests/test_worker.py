"""The gunicorn worker class: silent connections, draining, and a stop signal during boot."""

from __future__ import annotations

import os
import selectors
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from gunicorn.config import Config
from gunicorn.workers.gthread import TConn

from {{ cookiecutter.package_name }}.worker import Worker

from .servers import SECRET, copy_project, free_port


class Listener:
    """The part of gunicorn's listener wrapper the worker touches."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))

    def fileno(self) -> int:
        return self.sock.fileno()

    def setblocking(self, flag: bool) -> None:
        self.sock.setblocking(flag)

    def accept(self) -> tuple[socket.socket, object]:
        return self.sock.accept()

    def getsockname(self) -> object:
        return self.sock.getsockname()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    """A real listening socket on loopback."""
    listener = Listener()
    yield listener
    listener.close()


@pytest.fixture
def worker(listener: Listener) -> Iterator[Worker]:
    """A worker as gunicorn builds it, accepting on that listener."""
    worker = Worker(0, os.getpid(), [listener], None, 30, Config(), None)
    worker.poller = selectors.DefaultSelector()
    worker.set_accept_enabled(True)
    yield worker
    worker.poller.close()
    worker.tmp.close()


def test_draining_worker_closes_its_listeners(worker: Worker, listener: Listener) -> None:
    worker.alive = False  # what SIGTERM does
    worker.set_accept_enabled(False)
    assert listener.sock.fileno() == -1
    assert worker.sockets == []


def test_draining_worker_serves_the_connections_the_kernel_took_before_it_closes(
    worker: Worker, listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Connections made between the SIGTERM and the close wait in the listener's backlog:
    closing the listener would reset them, so the draining worker takes them first."""
    taken: list[TConn] = []
    monkeypatch.setattr(worker, "enqueue_req", taken.append)
    clients = [socket.create_connection(listener.getsockname()) for _ in range(3)]  # type: ignore[arg-type]
    worker.alive = False
    worker.set_accept_enabled(False)
    assert (len(taken), worker.nr_conns, listener.sock.fileno()) == (3, 3, -1)
    for conn, client in zip(taken, clients, strict=True):
        conn.sock.close()
        client.close()


def test_busy_worker_keeps_its_listeners(worker: Worker, listener: Listener) -> None:
    worker.set_accept_enabled(False)  # at its connection limit, still alive
    assert listener.sock.fileno() != -1
    assert worker.sockets == [listener]


def test_a_silent_new_connection_waits_in_the_poller_not_a_thread(worker: Worker) -> None:
    client, served = socket.socketpair()
    conn = TConn(worker.cfg, served, ("127.0.0.1", 1), ("127.0.0.1", 2))
    worker.enqueue_req(conn)
    assert list(worker.pending_conns) == [conn]
    assert worker.poller.get_key(served).data.args == (conn,)
    worker.poller.unregister(served)
    client.close()
    served.close()


SLOW_BOOT = """exec(open("gunicorn.conf.py").read())
hand_over = post_fork


def post_fork(server, worker):
    server.log.info("worker boots slowly")
    __import__("time").sleep(2)  # a wide window between the fork and the worker's handlers
    hand_over(server, worker)
"""


@pytest.mark.server
def test_a_sigterm_while_a_worker_boots_is_obeyed_at_once(tmp_path: Path) -> None:
    copy_project(tmp_path)
    (tmp_path / "slow_boot.conf.py").write_text(SLOW_BOOT)
    env = {
        **os.environ,
        "APP_ENV": "production",
        "SECRET_KEY": SECRET,
        "PYTHONPATH": str(tmp_path / "src"),
        "PORT": str(free_port()),
        "METRICS_PORT": str(free_port()),  # not the default 9464, which another test may hold
        "HOST": "127.0.0.1",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_GRACEFUL_TIMEOUT": "10",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite3'}",
    }
    log = tmp_path / "stderr.log"
    with log.open("wb") as stderr:
        master = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "slow_boot.conf.py"],
            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=stderr,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while "worker boots slowly" not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()
            assert master.poll() is None, log.read_text()
            time.sleep(0.05)
        started = time.monotonic()
        master.terminate()  # reaches the worker while the master's handler is still its own
        assert master.wait(15) == 0
        assert time.monotonic() - started < 5, "not the 10 s graceful timeout"
    finally:
        master.kill()
        master.wait()
