"""Probes have threads of their own: with every request thread busy, a probe is still served (a
frozen database must not make the kubelet restart the pod), and gunicorn's gthread completes a
probe the way it completes any request (its internals, pinned here)."""

from __future__ import annotations

import os
import selectors
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
from gunicorn.config import Config
from gunicorn.workers.gthread import TConn, ThreadWorker

from {{ cookiecutter.package_name }}.worker import Worker

PROBES = [b"/healthz", b"/readyz", b"/readyz?verbose", b"/metrics"]


@dataclass
class Busy:
    """A worker whose one request thread is stuck (on a frozen database, say)."""

    worker: Worker
    stuck: threading.Event

    def served_on(self, request: bytes, free: bool = False) -> str:
        """The thread that handles `request`, sent on a connection with data waiting; with
        `free`, the stuck request thread is freed once the request is queued (handled by that
        thread, the request waited for it: no other request thread exists)."""
        client, served = socket.socketpair()
        client.sendall(request)
        conn = TConn(self.worker.cfg, served, ("127.0.0.1", 1), ("127.0.0.1", 2))
        conn.data_ready = True
        handled: Future[str] = Future()
        self.worker.handle = lambda _conn: handled.set_result(  # type: ignore[method-assign,assignment]
            threading.current_thread().name
        )
        try:
            self.worker.enqueue_req(conn)
            if free:
                self.stuck.set()
            return handled.result(timeout=10)
        except TimeoutError:
            return "nobody: queued behind the busy request threads"
        finally:
            client.close()
            served.close()


@pytest.fixture
def busy() -> Iterator[Busy]:
    """A worker with one request thread, stuck, and two probe threads."""
    listener = socket.create_server(("127.0.0.1", 0))
    worker = Worker(0, os.getpid(), [listener], None, 30, Config(), None)
    worker.poller = selectors.DefaultSelector()
    worker.method_queue.init()
    worker.tpool = ThreadPoolExecutor(1, thread_name_prefix="requests")
    worker.probe_pool = ThreadPoolExecutor(2, thread_name_prefix="probes")
    stuck = threading.Event()
    worker.tpool.submit(stuck.wait)
    yield Busy(worker, stuck)
    stuck.set()
    worker.tpool.shutdown()
    worker.probe_pool.shutdown()
    worker.method_queue.close()
    worker.poller.close()
    worker.tmp.close()
    listener.close()


@pytest.mark.parametrize("path", PROBES)
def test_a_probe_is_served_while_every_request_thread_is_busy(busy: Busy, path: bytes) -> None:
    request = b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    assert busy.served_on(request).startswith("probes")


@pytest.mark.parametrize("line", [b"GET /healthzz HTTP/1.1", b"POST /readyz HTTP/1.1", b"GET /"])
def test_anything_else_waits_for_a_request_thread(busy: Busy, line: bytes) -> None:
    assert busy.served_on(line + b"\r\n\r\n", free=True).startswith("requests")


def test_gunicorn_gthread_completes_a_request_as_worker_py_completes_a_probe() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    gthread = ThreadWorker(0, os.getpid(), [listener], None, 30, Config(), None)
    gthread.method_queue.init()
    gthread.tpool = ThreadPoolExecutor(1)
    calls: list[Any] = []

    def handle(conn: str) -> str:
        calls.append(("handle", conn))
        return "kept"

    gthread.handle = handle
    gthread.finish_request = lambda conn, fut: calls.append(("finish", conn, fut.result()))
    try:
        gthread.enqueue_req("conn")
        gthread.tpool.shutdown(wait=True)
        gthread.method_queue.run_callbacks(None)
        assert calls == [("handle", "conn"), ("finish", "conn", "kept")], (
            "gunicorn's gthread enqueue_req no longer runs handle(conn) on a thread and then "
            "finish_request(conn, future) on the main loop (via method_queue.defer): "
            "worker.Worker.enqueue_req's probe threads must do as it does"
        )
    finally:
        gthread.method_queue.close()
        gthread.tmp.close()
        listener.close()
