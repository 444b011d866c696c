"""A TCP relay the tests can cut and restore, or freeze and thaw, to take the database away from
a running service: gone (refused, reset), or frozen with every connection open, as a paused
server, a stalled host or a black-holed route is."""

from __future__ import annotations

import socket
import threading
from contextlib import suppress


class Relay:
    """Forward 127.0.0.1:<port> to a target address until `cut`, again after `restore`."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self.listener: socket.socket | None = None
        self.open: list[socket.socket] = []
        self.lock = threading.Lock()
        self.thawed = threading.Event()
        self.thawed.set()

    def freeze(self) -> None:
        """Keep every connection open, accept new ones, and forward nothing."""
        self.thawed.clear()

    def thaw(self) -> None:
        """Forward again, the bytes held meanwhile first."""
        self.thawed.set()

    def restore(self) -> None:
        """Listen (on the same port as before, if any) and relay every connection."""
        listener = socket.create_server(("127.0.0.1", self.port))
        self.port = listener.getsockname()[1]
        self.listener = listener
        threading.Thread(target=self.accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Refuse new connections and reset the ones in flight, as a crashed server would."""
        if self.listener is not None:
            with suppress(OSError):
                self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
            self.listener.close()
            self.listener = None
        with self.lock:
            for sock in self.open:
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self.open.clear()

    def accept(self, listener: socket.socket) -> None:
        """Pair each client with a fresh connection to the target."""
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            self.thawed.wait()  # frozen: connected, and nobody answers
            server = socket.create_connection(self.target)
            with self.lock:
                self.open += [client, server]
            for src, dst in ((client, server), (server, client)):
                threading.Thread(target=self.pipe, args=(src, dst), daemon=True).start()

    def pipe(self, src: socket.socket, dst: socket.socket) -> None:
        """Copy bytes one way until either side closes; hold them while frozen."""
        with suppress(OSError):
            while data := src.recv(65536):
                self.thawed.wait()
                dst.sendall(data)
        with suppress(OSError):
            dst.shutdown(socket.SHUT_WR)
