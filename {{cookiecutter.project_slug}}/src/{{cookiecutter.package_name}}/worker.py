"""gunicorn's gthread worker with six changes for production: silent connections wait in the
poller instead of a thread, probes have threads of their own, a draining worker lets go of its
listening sockets, a stop signal sent while the worker boots is not lost, the app can close a
connection, and the app learns how long a request waited for a thread (overload.py sheds on
it). Each one relies on gthread internals, so tests/test_internals*.py pin what it assumes and
pyproject.toml bounds gunicorn's version."""

from __future__ import annotations

import queue
import selectors
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

from .context import CLOSE_CONNECTION, QUEUED_S

# Requests answered on the probe threads: the kubelet's, the container's and Prometheus's.
PROBES = (b"GET /healthz ", b"GET /healthz?", b"GET /readyz ", b"GET /readyz?", b"GET /metrics ")
PEEK = socket.MSG_PEEK | socket.MSG_DONTWAIT


class Worker(ThreadWorker):  # type: ignore[misc]
    """`worker_class` in gunicorn.conf.py."""

    # The master's signal queue as this process inherited it (gunicorn.conf.py's post_fork).
    early_signals: queue.SimpleQueue[Any] | None = None
    probe_pool: ThreadPoolExecutor | None = None
    wsgi: Any  # the app, as gunicorn's load_wsgi sets it
    # The thread's current request: how long it waited for the thread (seconds), or None.
    queued = threading.local()

    def init_process(self) -> None:
        """Start the probe threads beside gthread's request threads."""
        self.probe_pool = ThreadPoolExecutor(2, thread_name_prefix="probes")
        super().init_process()

    def init_signals(self) -> None:
        """Install the worker's handlers, then obey a stop signal that arrived before them.

        From the fork until here the master's handler is still installed: it queues a signal on
        the master's queue, copied into this process, where nobody reads it. A SIGTERM sent to
        a booting worker was lost that way, and the master waited out the graceful timeout.
        """
        super().init_signals()
        early = set()
        while self.early_signals is not None and not self.early_signals.empty():
            early.add(self.early_signals.get_nowait())
        if early & {signal.SIGINT, signal.SIGQUIT}:
            self.handle_quit(signal.SIGQUIT, None)
        elif signal.SIGTERM in early:
            self.handle_exit(signal.SIGTERM, None)

    def enqueue_req(self, conn: Any) -> None:
        """Give a new connection a thread only once it has sent something.

        gthread hands every accepted connection to a thread that waits up to 5 s for its first
        byte, so a few dozen silent connections delay every request queued behind them. Here
        they wait in the poller, as kept-alive connections do, for GUNICORN_KEEPALIVE seconds.
        """
        if conn.initialized or conn.data_ready or not self.alive:
            if self.probe_pool is not None and is_probe(conn.sock):
                # Every request thread may be stuck on a frozen dependency; the probes must
                # still answer (/healthz: the process is alive, /readyz: quickly, 503).
                done = self.probe_pool.submit(self.handle, conn)
                done.add_done_callback(
                    lambda fut: self.method_queue.defer(self.finish_request, conn, fut)
                )
                return
            conn.queued_at = time.monotonic()  # it waits from now for one of the request threads
            super().enqueue_req(conn)
            return
        conn.sock.setblocking(False)
        conn.timeout = time.monotonic() + self.cfg.keepalive
        self.pending_conns.append(conn)
        self.poller.register(
            conn.sock, selectors.EVENT_READ, partial(self.on_pending_socket_readable, conn)
        )

    def handle(self, conn: Any) -> Any:
        """Serve one request on this thread, noting how long it waited for it (load_wsgi reads
        it): until now, not until its headers are read, which a slow client may drag out."""
        queued_at = conn.__dict__.pop("queued_at", None)  # a probe's was never set
        self.queued.waited = None if queued_at is None else time.monotonic() - queued_at
        return super().handle(conn)

    def set_accept_enabled(self, enabled: bool) -> None:
        """Close this worker's copies of the listeners once it starts draining.

        On SIGTERM the master closes its listeners, but each worker still holds a copy while it
        drains, so the kernel keeps accepting connections nobody will answer and resets them
        later. Closing the copies makes new connections fail fast (refused) instead. The ones
        the kernel took between the signal and now are served first: closing resets them.
        """
        super().set_accept_enabled(enabled)
        if not enabled and not self.alive:
            for listener in self.sockets:
                taken = -1
                while taken != self.nr_conns:  # accept() counts each one; it ends at EAGAIN
                    taken = self.nr_conns
                    self.accept(listener)
                listener.close()
            self.sockets.clear()

    def load_wsgi(self) -> None:
        """Let the app close a connection after its answer (body.GuardedBodies does, after a
        body it left unread): gunicorn drops an app's `Connection: close` header, and only its
        response's force_close() makes it send one and close. Its start_response is a bound
        method of that response; middlewares wrap it, so the app gets force_close here.
        The app also learns how long the request waited for its thread (QUEUED_S)."""
        super().load_wsgi()
        app: Any = self.wsgi
        queued = self.queued

        def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
            environ[CLOSE_CONNECTION] = start_response.__self__.force_close
            if (waited := getattr(queued, "waited", None)) is not None:
                environ[QUEUED_S] = waited
            return app(environ, start_response)

        self.wsgi = wsgi


def is_probe(sock: socket.socket) -> bool:
    """Whether the request waiting on `sock` is a probe (a peek: nothing is read)."""
    try:
        return sock.recv(16, PEEK).startswith(PROBES)
    except OSError:  # nothing buffered yet (its bytes were read ahead), or closed
        return False
