"""gunicorn internals the service relies on (worker.py, gunicorn.conf.py's post_fork, metrics.py,
log.py), one test per assumption; the rest, and why these exist: test_internals.py."""

from __future__ import annotations

import inspect
import os
import selectors
import signal
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.config import Config
from gunicorn.glogging import Logger
from gunicorn.http import parser, wsgi
from gunicorn.http.parser import RequestParser
from gunicorn.workers.gthread import ThreadWorker

from {{ cookiecutter.package_name }}.body import DRAINED


@pytest.fixture
def gthread() -> Iterator[Any]:
    """gunicorn's own gthread worker, as gunicorn builds it, on a loopback listener."""
    listener = socket.create_server(("127.0.0.1", 0))
    worker = ThreadWorker(0, os.getpid(), [listener], None, 30, Config(), None)
    worker.poller = selectors.DefaultSelector()
    yield worker
    worker.poller.close()
    worker.tmp.close()
    listener.close()


def test_gunicorn_gthread_parks_and_wakes_connections_as_worker_py_does(gthread: Any) -> None:
    queued: list[Any] = []
    gthread.enqueue_req = queued.append
    with socket.create_connection(gthread.sockets[0].getsockname()):
        gthread.accept(gthread.sockets[0])
        assert len(queued) == 1, "gunicorn's gthread accept() no longer calls enqueue_req"
        conn = queued[0]
        assert (conn.initialized, conn.data_ready) == (False, False), (
            "gunicorn's gthread accept() no longer hands enqueue_req a new connection with "
            "initialized/data_ready false: worker.Worker.enqueue_req must be revisited"
        )
        gthread.pending_conns.append(conn)
        gthread.poller.register(conn.sock, selectors.EVENT_READ)
        gthread.on_pending_socket_readable(conn, conn.sock)
        assert (conn.data_ready, list(gthread.pending_conns), queued) == (True, [], [conn] * 2), (
            "gunicorn's gthread on_pending_socket_readable no longer serves a connection from "
            "pending_conns: the silent ones worker.Worker.enqueue_req parks would never be served"
        )
        conn.timeout = time.monotonic() - 1
        gthread.pending_conns.append(conn)
        gthread.poller.register(conn.sock, selectors.EVENT_READ)
        gthread.murder_pending()
        assert (conn.sock.fileno(), list(gthread.pending_conns)) == (-1, []), (
            "gunicorn's gthread murder_pending no longer closes pending_conns past conn.timeout: "
            "silent connections parked by worker.Worker.enqueue_req would stay open for ever"
        )


def test_gunicorn_gthread_accept_counts_a_connection_and_is_quiet_when_none_waits(
    gthread: Any,
) -> None:
    queued: list[Any] = []
    gthread.enqueue_req = queued.append
    gthread.sockets[0].setblocking(False)  # as set_accept_enabled(True) leaves it
    with socket.create_connection(gthread.sockets[0].getsockname()):
        gthread.accept(gthread.sockets[0])
        gthread.accept(gthread.sockets[0])  # nothing waits: EAGAIN, swallowed
        assert (gthread.nr_conns, len(queued)) == (1, 1), (
            "gunicorn's gthread accept() no longer counts each connection in nr_conns, or no "
            "longer swallows EAGAIN: worker.Worker.set_accept_enabled cannot empty the backlog"
        )
        queued[0].sock.close()


def test_gunicorn_gthread_runs_handle_for_each_queued_request_on_its_pool(gthread: Any) -> None:
    served: list[Any] = []
    gthread.tpool, conn = ThreadPoolExecutor(1), object()
    gthread.handle = served.append
    gthread.method_queue.init()
    try:
        ThreadWorker.enqueue_req(gthread, conn)
        gthread.tpool.shutdown(wait=True)
    finally:
        gthread.method_queue.close()
    assert served == [conn], (
        "gunicorn's gthread enqueue_req no longer runs self.handle(conn) on its thread pool: "
        "worker.Worker.handle would not learn when a request was queued (overload.py's wait)"
    )


def test_gunicorn_gthread_stops_accepting_once_no_longer_alive(gthread: Any) -> None:
    calls: list[tuple[bool, bool]] = []
    gthread.set_accept_enabled = lambda enabled: calls.append((enabled, gthread.alive))
    gthread.tpool = ThreadPoolExecutor(1)
    gthread.method_queue.init()
    gthread.alive = False  # what SIGTERM does
    gthread.run()
    assert (False, False) in calls, (
        "gunicorn's gthread run() no longer calls set_accept_enabled(False) after alive turns "
        "false: worker.Worker cannot close its listeners while draining (resets, not refusals)"
    )


class _Booted(Exception):
    pass


def test_gunicorn_gthread_can_stop_when_it_installs_its_handlers(gthread: Any) -> None:
    def init_signals() -> None:
        raise _Booted  # where worker.Worker.init_signals obeys a signal that came during boot

    gthread.poller.close()
    gthread.log, gthread.init_signals = Logger(Config()), init_signals
    with pytest.raises(_Booted):
        gthread.init_process()
    try:  # handle_quit uses the pool, handle_exit the method queue
        gthread.handle_exit(signal.SIGTERM, None)  # as worker.Worker.init_signals may
        assert (gthread.alive, gthread.tpool is not None) == (False, True), (
            "gunicorn's gthread init_process no longer readies its thread pool and method "
            "queue before init_signals: worker.Worker cannot obey a signal sent while it boots"
        )
    finally:
        gthread.tpool.shutdown()
        gthread.method_queue.close()
        for fd in gthread.PIPE:
            os.close(fd)


class _App(BaseApplication):  # type: ignore[misc]
    def load_config(self) -> None:
        pass

    def load(self) -> None:
        pass


def test_gunicorn_master_queues_signals_on_sig_queue(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERVER_SOFTWARE", "")  # Arbiter() sets it for the process
    arbiter = Arbiter(_App())
    arbiter.signal(signal.SIGTERM, None)  # the handler a new worker runs until init_signals
    queue = getattr(arbiter, "SIG_QUEUE", None)
    queued = None if queue is None or queue.empty() else queue.get_nowait()
    assert (signal.SIGTERM in Arbiter.SIGNALS, queued) == (True, signal.SIGTERM), (
        "gunicorn's Arbiter no longer queues signals on SIG_QUEUE: a SIGTERM sent while a "
        "worker boots is lost again (gunicorn.conf.py's post_fork, worker.Worker.init_signals)"
    )


def test_gunicorn_environ_carries_the_accepted_socket() -> None:
    cfg, client, served = Config(), *socket.socketpair()
    with client, served:
        client.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        request = next(RequestParser(cfg, served, ("127.0.0.1", 1)))
        _, environ = wsgi.create(request, served, ("127.0.0.1", 1), ("127.0.0.1", 9), cfg)
    assert (environ.get("gunicorn.socket"), environ["SERVER_PORT"]) == (served, "9"), (
        "gunicorn's WSGI environ no longer holds the accepted socket as 'gunicorn.socket': "
        "metrics.Metrics cannot tell the metrics port from the public one"
    )


def test_gunicorn_logger_has_what_gunicorn_logger_overrides() -> None:
    logger = Logger(Config())
    params = list(inspect.signature(Logger.access).parameters)
    assert params == ["self", "resp", "req", "environ", "request_time"], (
        "gunicorn's glogging.Logger.access() changed its arguments: log.GunicornLogger.access "
        "must be revisited"
    )
    kept = [hasattr(logger, name) for name in ("error_log", "access_log", "access_log_enabled")]
    assert kept == [True] * 3, (
        "gunicorn's glogging.Logger lost error_log, access_log or access_log_enabled: "
        "log.GunicornLogger must be revisited"
    )


def test_gunicorn_closes_a_connection_when_its_response_is_forced_to() -> None:
    cfg, client, served = Config(), *socket.socketpair()
    with client, served:
        client.sendall(b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n")
        request = next(RequestParser(cfg, served, ("127.0.0.1", 1)))
        response, _ = wsgi.create(request, served, ("127.0.0.1", 1), ("127.0.0.1", 9), cfg)
        start_response = response.start_response
        assert start_response.__self__ is response, (
            "gunicorn's start_response is no longer a bound method of its response: "
            "worker.Worker.load_wsgi cannot reach force_close()"
        )
        start_response.__self__.force_close()
        start_response("415 Unsupported Media Type", [("Content-Length", "0")])
        assert "Connection: close\r\n" in response.default_headers(), (
            "gunicorn's Response.force_close() no longer makes it answer `Connection: close`: "
            "worker.Worker.load_wsgi must be revisited"
        )


def test_gunicorn_drains_no_more_of_an_unread_body_than_body_py_assumes() -> None:
    assert parser._DRAIN_MAX_BYTES >= DRAINED, (
        "gunicorn drains less of an unread body before the next request than body.DRAINED: "
        "a connection it will close would be answered `Connection: keep-alive`"
    )
