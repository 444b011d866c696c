"""A TCP relay the tests can cut and restore, to take the database away from a running service."""

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
            server = socket.create_connection(self.target)
            with self.lock:
                self.open += [client, server]
            for src, dst in ((client, server), (server, client)):
                threading.Thread(target=self.pipe, args=(src, dst), daemon=True).start()

    @staticmethod
    def pipe(src: socket.socket, dst: socket.socket) -> None:
        """Copy bytes one way until either side closes."""
        with suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with suppress(OSError):
            dst.shutdown(socket.SHUT_WR)
