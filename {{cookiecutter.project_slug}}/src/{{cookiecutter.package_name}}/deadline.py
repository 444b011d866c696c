"""A deadline on every database connection a thread holds: past it, the connection's socket is
shut down, so the thread blocked reading from a frozen server wakes with an error (a 503).

Nothing on the server can do this: `statement_timeout` runs there, and a paused server, a
stalled host or a black-holed route never answers it. TCP keepalives and `tcp_user_timeout`
cannot either: a paused container's kernel, or a proxy that stops forwarding, still
acknowledges every packet. Only the client knows how long it has waited."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from contextvars import ContextVar
from typing import Any

TICK = 0.1  # seconds between looks at the deadlines: how late past its deadline a socket closes
# When the request (or other unit of work) first asked for the database; None: not in one.
STARTED: ContextVar[float | None] = ContextVar("database_work_started", default=None)


def begin() -> None:
    """The current request starts using the database: its bound counts from now."""
    STARTED.set(time.monotonic())


def end() -> None:
    """The current request is done with the database."""
    STARTED.set(None)


class Deadlines:
    """Connections (by their socket's file descriptor) and when each must be let go of."""

    def __init__(self, seconds: float, fileno: Callable[[Any], int]) -> None:
        self.seconds = seconds
        self.fileno = fileno  # the DB-API connection's socket descriptor
        self.held: dict[int, tuple[float, int]] = {}  # id(connection) -> (deadline, fd)
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.pid = 0  # the process whose thread watches; a forked child starts its own

    def remaining(self) -> float:
        """Seconds left to the current request (`seconds` outside of one)."""
        started = STARTED.get()
        return self.seconds if started is None else started + self.seconds - time.monotonic()

    def arm(self, connection: Any) -> None:
        """Watch `connection` until `disarm`: the request's bound counts from its first use
        of the database (waiting for the pool and connecting included), else from now."""
        deadline = time.monotonic() + self.remaining()
        fd = self.fileno(connection)
        with self.lock:
            self.held[id(connection)] = (deadline, fd)
            if self.pid != os.getpid():  # threads do not survive fork(): one per process
                self.pid = os.getpid()
                threading.Thread(target=self.watch, name="db-deadlines", daemon=True).start()
        self.wake.set()

    def disarm(self, connection: Any) -> None:
        """The connection is back in the pool (or closed): stop watching it."""
        with self.lock:
            self.held.pop(id(connection), None)

    def watch(self) -> None:
        """Shut down each socket held past its deadline; sleep while nothing is held."""
        while True:
            self.wake.wait()
            time.sleep(TICK)
            now = time.monotonic()
            with self.lock:  # under the lock: a connection checked in meanwhile is not touched
                for key, (deadline, fd) in list(self.held.items()):
                    if deadline <= now:
                        del self.held[key]
                        shut_down(fd)
                if not self.held:
                    self.wake.clear()


def shut_down(fd: int) -> None:
    """End the TCP (or Unix) connection under `fd` for both sides: the thread blocked on it
    reads end-of-file and the driver reports the connection lost. The descriptor stays the
    driver's to close."""
    with suppress(OSError):
        duplicate = socket.socket(fileno=os.dup(fd))
        try:
            duplicate.shutdown(socket.SHUT_RDWR)
        finally:
            duplicate.close()
