"""gunicorn's gthread worker with three changes for production: silent connections wait in the
poller instead of a thread, a draining worker lets go of its listening sockets, and the
heartbeat costs one system call a second instead of one per request."""

from __future__ import annotations

import selectors
import time
from functools import partial
from typing import Any

from gunicorn.workers.gthread import ThreadWorker


class Worker(ThreadWorker):  # type: ignore[misc]
    """`worker_class` in gunicorn.conf.py."""

    next_heartbeat = 0.0

    def notify(self) -> None:
        """Tell the master this worker is alive, at most once a second.

        gthread calls this on every pass of its event loop, which under load means a utime()
        system call per request; the master only needs one within `timeout` (30 s by default).
        """
        now = time.monotonic()
        if now >= self.next_heartbeat:
            super().notify()
            self.next_heartbeat = now + min(1.0, self.timeout / 4)

    def enqueue_req(self, conn: Any) -> None:
        """Give a new connection a thread only once it has sent something.

        gthread hands every accepted connection to a thread that waits up to 5 s for its first
        byte, so a few dozen silent connections delay every request queued behind them. Here
        they wait in the poller, as kept-alive connections do, for GUNICORN_KEEPALIVE seconds.
        """
        if conn.initialized or conn.data_ready or not self.alive:
            super().enqueue_req(conn)
            return
        conn.sock.setblocking(False)
        conn.timeout = time.monotonic() + self.cfg.keepalive
        self.pending_conns.append(conn)
        self.poller.register(
            conn.sock, selectors.EVENT_READ, partial(self.on_pending_socket_readable, conn)
        )

    def set_accept_enabled(self, enabled: bool) -> None:
        """Close this worker's copies of the listeners once it starts draining.

        On SIGTERM the master closes its listeners, but each worker still holds a copy while it
        drains, so the kernel keeps accepting connections nobody will answer and resets them
        later. Closing the copies makes new connections fail fast (refused) instead.
        """
        super().set_accept_enabled(enabled)
        if not enabled and not self.alive:
            for listener in self.sockets:
                listener.close()
            self.sockets.clear()
